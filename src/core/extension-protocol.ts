/**
 * What extensions and the platform exchange over the Extensions API (2020-01-01), the Telemetry
 * API (2022-07-01) and the Logs API (2020-08-15), independent of transport. The HTTP edge
 * (runtime-api) validates requests and calls an `ExtensionsHost`; the invocation engine implements
 * it per environment.
 */
import type { RuntimeErrorType } from './runtime-errors.js';

/** Events an extension can subscribe to. */
export type ExtensionEventType = 'INVOKE' | 'SHUTDOWN';

/** Why an environment is shut down, as SHUTDOWN events spell it. */
export type ShutdownReason = 'spindown' | 'timeout' | 'failure';

/** Lambda's limit on registered extensions per environment. */
export const MAX_EXTENSIONS = 10;

/** A refusal the HTTP edge renders as `{errorType, errorMessage}` with the status. */
export interface ExtensionRefusal {
  /** Answered with the catalogue's HTTP status. */
  readonly errorType: RuntimeErrorType;
  readonly errorMessage: string;
}

/** What a successful registration returns. */
export interface Registration {
  readonly id: string;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly handler: string;
  readonly accountId: string;
}

/** An event for `/extension/event/next`, already shaped as its JSON body. */
export interface ExtensionEvent {
  readonly eventType: ExtensionEventType;
  readonly body: string;
}

/** Telemetry categories (`types` of a subscription). */
export type TelemetryCategory = 'platform' | 'function' | 'extension';

/** Where batches go: HTTP POST to a URI in the jail, or NDJSON over TCP to a port in the jail. */
export type TelemetryDestination =
  | { readonly protocol: 'HTTP'; readonly port: number; readonly path: string }
  | { readonly protocol: 'TCP'; readonly port: number };

/** A validated subscription. */
export interface TelemetrySubscription {
  /** `telemetry` (2022-07-01) or the older `logs` (2020-08-15). */
  readonly api: 'telemetry' | 'logs';
  readonly schemaVersion: string;
  readonly categories: readonly TelemetryCategory[];
  readonly maxItems: number;
  readonly maxBytes: number;
  readonly timeoutMs: number;
  readonly destination: TelemetryDestination;
}

/** The extension side of one environment, as the Extensions/Telemetry HTTP edge drives it. */
export interface ExtensionsHost {
  register(
    name: string,
    events: readonly string[],
  ): { readonly ok: Registration } | { readonly refused: ExtensionRefusal };
  /** `/event/next`: resolves with the next event for the extension, or refuses. */
  next(
    id: string,
  ): Promise<{ readonly ok: ExtensionEvent } | { readonly refused: ExtensionRefusal }>;
  /** `/init/error` and `/exit/error` (the error type is already validated as present). */
  reportError(id: string, phase: 'init' | 'exit', errorType: string): ExtensionRefusal | undefined;
  subscribe(id: string, subscription: TelemetrySubscription): ExtensionRefusal | undefined;
  /** A pending `/event/next` connection went away (the extension was killed or gave up). */
  abandonNext(id: string): void;
}

/** The error type reported for an extension's `/init/error` or `/exit/error` header value. */
export function extensionErrorType(raw: string, phase: 'init' | 'exit'): string {
  if (/Extension\.[A-Z][a-zA-Z]+/.test(raw)) return raw;
  return phase === 'init' ? 'Extension.InitError' : 'Extension.ExitError';
}
