/** Ports an execution environment needs; adapters implement them and the server wires them. */
import type { FunctionRecord, FunctionVersion } from '../core/function-model.js';
import type { ImageRunConfig } from '../functions/image-store.js';
import type { FunctionRef } from '../core/function-name.js';
import type {
  InitFailure,
  InvocationEvent,
  ResponseMode,
  RuntimeAnswer,
} from '../core/runtime-protocol.js';
import type { ExtensionsHost, TelemetryDestination } from '../core/extension-protocol.js';
import type { HostServiceSocket, OutputGate } from './sandbox-driver.js';

/** One environment's Runtime API, as the engine drives it. */
export interface RuntimeChannel {
  onFirstNext(listener: () => void): void;
  onInitError(listener: (failure: InitFailure) => void): void;
  /** The runtime is pre-started: nothing but waiting for `assign` is accepted until then. */
  expectAssignment(): void;
  /** A pre-started runtime has booted and waits to be bound to a function. */
  onAssignmentWait(listener: () => void): void;
  /** Binds a waiting pre-started runtime to a function's environment (false if none waits). */
  assign(environment: Readonly<Record<string, string>>): boolean;
  /** Delivers the event; in `streaming` mode a streamed response is answered as it starts. */
  invoke(event: InvocationEvent, mode?: ResponseMode): Promise<RuntimeAnswer>;
  /** Serves the Extensions, Telemetry and Logs APIs of the environment through `host`. */
  attachExtensions(host: ExtensionsHost): void;
  /** Resolves once the runtime has answered the current invocation and waits on `/next` again. */
  runtimeWaiting(): Promise<void>;
  close(): Promise<void>;
}

/** Delivers telemetry batches to a subscriber inside one environment. */
export interface TelemetrySender {
  /** One batch: an HTTP POST of a JSON array, or NDJSON over TCP. Rejects when undelivered. */
  send(destination: TelemetryDestination, events: readonly string[]): Promise<void>;
}

/**
 * The host side of one environment: the unix sockets its jail reaches, each created by the
 * platform in a folder the jail cannot write, and what the platform serves on them.
 */
export interface EnvironmentEndpoints {
  readonly runtime: RuntimeChannel;
  /** The Runtime API's socket (bound at /run/lamina/runtime.sock in the jail). */
  readonly runtimeSocket: string;
  /** The Lamina API relay's socket (bound at /run/lamina/api.sock), if functions may call it. */
  readonly laminaApiSocket: string | undefined;
  /** The socket the jail's inbound relay connects out to (bound at /run/lamina/inbound.sock). */
  readonly inboundSocket: string;
  /** Relays to allow-listed host services (bound at /run/lamina/host-<port>.sock). */
  readonly hostServiceSockets: readonly HostServiceSocket[];
  /**
   * The OTLP endpoint's socket (bound at /run/lamina/otlp.sock, reached at OTLP_ADDRESS), when
   * the server forwards functions' telemetry to a collector (`--otlp-endpoint`).
   */
  readonly otlpSocket?: string | undefined;
  /** Delivers telemetry to subscribers inside the environment. */
  readonly telemetry: TelemetrySender;
  /** Closes every socket and removes the environment's folder. Idempotent. */
  close(): Promise<void>;
}

/** Opens the endpoints of a new environment (by its id). */
export type EnvironmentEndpointsFactory = (environmentId: string) => Promise<EnvironmentEndpoints>;

/** How a managed runtime is started inside an environment. */
export interface RuntimeLaunch {
  /** Command inside the jail. */
  readonly command: readonly string[];
  /** Host folder shown at /var/runtime, if the runtime ships a client. */
  readonly runtimeDir: string | undefined;
  /** Host node_modules folder shown over /var/runtime/node_modules (the AWS SDK bundle), if any. */
  readonly modulesDir?: string | undefined;
  /** Host folder of the interpreter, shown at /var/lang (its `bin/` is first on PATH). */
  readonly langDir: string | undefined;
  /** Paths under /var/task of which one must be an executable file (custom runtimes' bootstrap). */
  readonly entrypoints: readonly string[];
  /** Variables this runtime adds (AWS_EXECUTION_ENV, NODE_PATH, PYTHONPATH, …). */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Whether generic sandboxes of this runtime can be booted ahead of time and bound to a function
   * later (managed runtimes; not custom runtimes, whose bootstrap is the function's own).
   */
  readonly prestart: boolean;
  /** `INIT_START Runtime Version: …` value, e.g. `nodejs:20.v15`. */
  readonly runtimeVersion: string;
  /** That release's `RuntimeVersionArn` ('' when none is known, as for an image). */
  readonly runtimeVersionArn: string;
  /** An image function's root file system, shown as `/` (none: the host's /usr and the code). */
  readonly rootDir?: string | undefined;
  /** Where the command starts (none: /var/task). */
  readonly workingDirectory?: string | undefined;
}

/** Knows how to start each runtime id this host supports. */
export interface RuntimeLauncher {
  /** `version`: the exact version to run (none: the newest this host has). */
  launch(runtime: string, version?: string): RuntimeLaunch;
}

/** A function resolved for invocation: the version that runs and where its code is. */
export interface ResolvedFunction {
  readonly record: FunctionRecord;
  readonly version: FunctionVersion;
  readonly ref: FunctionRef;
  /** Host folder of the extracted code the version runs. */
  readonly codeDir: string;
  /** Host folder of the version's layers merged in order, shown at /opt (none without layers). */
  readonly optDir?: string | undefined;
  /** An image function's unpacked image (its root file system and how it starts). */
  readonly image?: { readonly rootDir: string; readonly config: ImageRunConfig } | undefined;
}

/**
 * Durable storage of log lines, per log group and stream. As an OutputGate it is closed while
 * more lines wait to be written than it will hold, so environments stop producing them.
 */
export interface LogSink extends Partial<OutputGate> {
  append(group: string, stream: string, lines: readonly LogLine[]): void;
  /** The stream will get no more lines (its environment ended): release what it holds. */
  end(group: string, stream: string): void;
}

/** One log event: when it happened (epoch ms) and its text (one line). */
export interface LogLine {
  readonly timeMs: number;
  readonly message: string;
}

/**
 * Lets code inside an environment call the Lamina API (through its endpoints' relay, at
 * 127.0.0.1:9002 inside) with credentials scoped to its function.
 */
export interface LaminaApiAccess {
  /** New temporary credentials for an environment: a session of the function's role `roleArn`. */
  readonly issue: (
    environmentId: string,
    functionName: string,
    roleArn: string,
  ) => Promise<{
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken: string;
  }>;
  /** The environment ended (or never started): its credentials stop working. */
  readonly revoke: (environmentId: string) => void;
}
