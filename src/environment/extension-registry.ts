/**
 * The extensions of one environment and their states (as Lambda's, rejecting by default):
 * external extensions (executables in /opt/extensions, started by the sandbox before the runtime)
 * and internal ones (registered from the runtime process, INVOKE only).
 *
 *   (started) ─register─▶ Registered ─next─▶ Ready ─event─▶ Running ─next─▶ Ready …
 *   Registered ─init/error─▶ InitError;  Registered|Ready|Running ─exit/error─▶ ExitError
 *
 * Registration and telemetry subscriptions are open until init ends. A failure (an extension that
 * exits, or reported an error and exited) is published once through `failed`.
 */
import { randomUUID } from 'node:crypto';
import {
  MAX_EXTENSIONS,
  extensionErrorType,
  type ExtensionEvent,
  type ExtensionEventType,
  type ExtensionRefusal,
  type ExtensionsHost,
  type Registration,
  type ShutdownReason,
  type TelemetrySubscription,
} from '../core/extension-protocol.js';
import type { TelemetryHub } from './telemetry-hub.js';
import type { RuntimeErrorType } from '../core/runtime-errors.js';

type State = 'Registered' | 'Ready' | 'Running' | 'InitError' | 'ExitError' | 'Exited';

interface Extension {
  readonly id: string;
  readonly name: string;
  readonly external: boolean;
  readonly events: readonly ExtensionEventType[];
  state: State;
  errorType: string | undefined;
  pending: ((event: ExtensionEvent) => void) | undefined;
  readonly queue: ExtensionEvent[];
}

/** Why the environment cannot go on because of an extension. */
export interface ExtensionFailure {
  readonly errorType: string;
  readonly message: string;
}

/** What registration answers describe. */
export interface FunctionIdentity {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly handler: string;
  readonly accountId: string;
}

const NOT_ALLOWED = 'State transition is not allowed';

export class ExtensionRegistry implements ExtensionsHost {
  readonly #identity: FunctionIdentity;
  readonly #telemetry: TelemetryHub;
  readonly #byId = new Map<string, Extension>();
  /** External extensions the sandbox started, by name, until they register. */
  readonly #expected = new Set<string>();
  readonly #waiters: Array<{ ready: () => boolean; wake: () => void }> = [];
  #open = true;
  #shuttingDown = false;
  #failure: ExtensionFailure | undefined;
  #onFailure!: (failure: ExtensionFailure) => void;
  /** Resolves (never rejects) with the first extension failure. */
  readonly failed = new Promise<ExtensionFailure>((resolve) => {
    this.#onFailure = resolve;
  });

  constructor(identity: FunctionIdentity, telemetry: TelemetryHub) {
    this.#identity = identity;
    this.#telemetry = telemetry;
  }

  /** External extensions the sandbox started (their file names). */
  expectExternal(names: readonly string[]): void {
    for (const name of names) this.#expected.add(name);
    this.#changed();
  }

  get hasExtensions(): boolean {
    return this.#byId.size > 0 || this.#expected.size > 0;
  }

  // ── the Extensions API ──────────────────────────────────────────────────────────────────────

  register(
    name: string,
    events: readonly string[],
  ): { readonly ok: Registration } | { readonly refused: ExtensionRefusal } {
    const existing = [...this.#byId.values()].find((e) => e.name === name);
    const external = this.#expected.has(name) || existing?.external === true;
    for (const event of events) {
      if (event !== 'INVOKE' && event !== 'SHUTDOWN')
        return {
          refused: forbidden('Extension.InvalidEventType', `${event}: ErrorInvalidEventType`),
        };
      if (!external && event === 'SHUTDOWN')
        return {
          refused: forbidden(
            'Extension.InvalidEventType',
            `${event}: ShutdownEventNotSupportedForInternalExtension`,
          ),
        };
    }
    if (external && existing !== undefined) {
      return {
        refused: forbidden(
          'Extension.InvalidExtensionState',
          `State transition from ${existing.state} to Registered failed for extension ${name}. Error: ${NOT_ALLOWED}`,
        ),
      };
    }
    if (!external) {
      if (!this.#open)
        return {
          refused: forbidden(
            'Extension.RegistrationClosed',
            'Extension registration closed already',
          ),
        };
      if (existing !== undefined)
        return {
          refused: forbidden(
            'Extension.InvalidExtensionState',
            'Extension with this name already registered',
          ),
        };
      if (this.#byId.size + this.#expected.size >= MAX_EXTENSIONS)
        return {
          refused: forbidden(
            'Extension.TooManyExtensions',
            `Extension limit (${MAX_EXTENSIONS}) reached`,
          ),
        };
    }
    const extension: Extension = {
      id: randomUUID(),
      name,
      external,
      events: [...new Set(events as ExtensionEventType[])],
      state: 'Registered',
      errorType: undefined,
      pending: undefined,
      queue: [],
    };
    this.#expected.delete(name);
    this.#byId.set(extension.id, extension);
    this.#changed();
    return { ok: { id: extension.id, ...this.#identity } };
  }

  next(
    id: string,
  ): Promise<{ readonly ok: ExtensionEvent } | { readonly refused: ExtensionRefusal }> {
    const extension = this.#byId.get(id);
    if (extension === undefined)
      return Promise.resolve({
        refused: forbidden('Extension.UnknownExtensionIdentifier', `Unknown extension ${id}`),
      });
    const allowed =
      extension.state === 'Registered' ||
      extension.state === 'Running' ||
      (extension.state === 'Ready' && extension.pending === undefined);
    if (!allowed) {
      return Promise.resolve({
        refused: forbidden(
          'Extension.InvalidExtensionState',
          `State transition from ${extension.state} to Ready failed for extension ${id}. Error: ${NOT_ALLOWED}`,
        ),
      });
    }
    extension.state = 'Ready';
    const queued = extension.queue.shift();
    if (queued !== undefined) {
      extension.state = 'Running';
      this.#changed();
      return Promise.resolve({ ok: queued });
    }
    return new Promise((resolve) => {
      extension.pending = (event) => {
        extension.pending = undefined;
        extension.state = 'Running';
        resolve({ ok: event });
      };
      this.#changed();
    });
  }

  abandonNext(id: string): void {
    const extension = this.#byId.get(id);
    if (extension !== undefined) extension.pending = undefined;
  }

  reportError(id: string, phase: 'init' | 'exit', rawType: string): ExtensionRefusal | undefined {
    const extension = this.#byId.get(id);
    if (extension === undefined)
      return forbidden(
        'Extension.UnknownExtensionIdentifier',
        'Unknown Lambda-Extension-Identifier',
      );
    const target = phase === 'init' ? 'InitError' : 'ExitError';
    const allowed =
      phase === 'init'
        ? extension.state === 'Registered'
        : ['Registered', 'Ready', 'Running'].includes(extension.state);
    if (!allowed) {
      return forbidden(
        'Extension.InvalidExtensionState',
        `State transition from ${extension.state} to ${target} failed for extension ${id}. Error: ${NOT_ALLOWED}`,
      );
    }
    extension.state = target;
    extension.pending = undefined;
    extension.errorType = extensionErrorType(rawType, phase);
    // An external extension is expected to exit now; its exit reports the failure. An internal
    // one lives in the runtime process, so the report itself is the failure.
    if (!extension.external) this.#fail({ errorType: extension.errorType, message: `exit code 0` });
    this.#changed();
    return undefined;
  }

  subscribe(id: string, subscription: TelemetrySubscription): ExtensionRefusal | undefined {
    const extension = this.#byId.get(id);
    if (extension === undefined)
      return forbidden('Extension.UnknownExtensionIdentifier', `Unknown extension ${id}`);
    if (!this.#open) {
      return subscription.api === 'telemetry'
        ? forbidden('Telemetry.SubscriptionClosed', 'Telemetry API subscription is closed')
        : forbidden('Logs.SubscriptionClosed', 'Logs API subscription is closed');
    }
    this.#telemetry.subscribe(extension.name, subscription);
    return undefined;
  }

  // ── the environment's side ──────────────────────────────────────────────────────────────────

  /**
   * An external extension's process ended (exit code as the shell reports it: 128+n for signals;
   * -1: it could not be started).
   */
  exited(name: string, code: number): void {
    if (code < 0) {
      this.#expected.delete(name);
      this.#fail({
        errorType: 'Extension.LaunchError',
        message: `fork/exec /opt/extensions/${name}: permission denied`,
      });
      this.#changed();
      return;
    }
    const extension = [...this.#byId.values()].find((e) => e.name === name && e.external);
    this.#expected.delete(name);
    if (extension !== undefined) {
      extension.pending = undefined;
      const previous = extension.state;
      extension.state = 'Exited';
      if (this.#shuttingDown && (previous === 'Ready' || previous === 'Running')) {
        this.#changed();
        return;
      }
      const errorType = extension.errorType ?? 'Extension.Crash';
      this.#fail({ errorType, message: exitStatus(code) });
    } else if (!this.#shuttingDown) {
      this.#fail({ errorType: 'Extension.Crash', message: exitStatus(code) });
    }
    this.#changed();
  }

  /** Resolves once every external extension has registered and waits for its first event. */
  externalsReady(): Promise<void> {
    return this.#until(
      () => this.#expected.size === 0 && this.#all((e) => !e.external || this.#isWaiting(e)),
    );
  }

  /** Resolves once every registered extension waits on `/event/next`. */
  allReady(): Promise<void> {
    return this.#until(() => this.#all((e) => this.#isWaiting(e)));
  }

  /** Init is over: no more registrations or subscriptions. */
  closeRegistration(): void {
    this.#open = false;
  }

  /** Hands INVOKE to every subscribed extension; returns how many got it. */
  dispatchInvoke(event: {
    readonly requestId: string;
    readonly deadlineMs: number;
    readonly invokedFunctionArn: string;
    readonly traceId: string;
  }): number {
    const body = JSON.stringify({
      eventType: 'INVOKE',
      deadlineMs: event.deadlineMs,
      requestId: event.requestId,
      invokedFunctionArn: event.invokedFunctionArn,
      tracing: { type: 'X-Amzn-Trace-Id', value: event.traceId },
    });
    return this.#broadcast('INVOKE', body);
  }

  /** Resolves once every extension that got INVOKE waits on `/event/next` again. */
  invokeDone(): Promise<void> {
    return this.#until(() => this.#all((e) => !e.events.includes('INVOKE') || this.#isWaiting(e)));
  }

  /**
   * Hands SHUTDOWN to every subscribed extension; resolves once each has called `/event/next`
   * again or exited (the caller enforces the deadline). Resolves at once when none subscribed.
   */
  shutdown(reason: ShutdownReason, deadlineMs: number): Promise<void> {
    this.#shuttingDown = true;
    const body = JSON.stringify({ eventType: 'SHUTDOWN', shutdownReason: reason, deadlineMs });
    const subscribed = this.#broadcast('SHUTDOWN', body);
    if (subscribed === 0) return Promise.resolve();
    return this.#until(() =>
      this.#all(
        (e) => !e.events.includes('SHUTDOWN') || e.state === 'Exited' || this.#isWaiting(e),
      ),
    );
  }

  /** Whether any external extension subscribed to SHUTDOWN and is still alive. */
  get wantsShutdown(): boolean {
    return [...this.#byId.values()].some(
      (e) => e.events.includes('SHUTDOWN') && e.state !== 'Exited',
    );
  }

  /** One line per extension for the log (`EXTENSION\tName: …\tState: …\tEvents: […]`), and telemetry. */
  describe(): Array<{
    name: string;
    state: string;
    events: readonly string[];
    errorType?: string;
  }> {
    return [...this.#byId.values()].map((e) => ({
      name: e.name,
      state: e.state === 'Running' ? 'Ready' : e.state,
      events: e.events,
      ...(e.errorType === undefined ? {} : { errorType: e.errorType }),
    }));
  }

  #broadcast(type: ExtensionEventType, body: string): number {
    let count = 0;
    for (const extension of this.#byId.values()) {
      if (!extension.events.includes(type) || extension.state === 'Exited') continue;
      count += 1;
      const event: ExtensionEvent = { eventType: type, body };
      if (extension.pending !== undefined) extension.pending(event);
      else extension.queue.push(event);
    }
    this.#changed();
    return count;
  }

  #isWaiting(e: Extension): boolean {
    return e.state === 'Ready' && e.pending !== undefined && e.queue.length === 0;
  }

  #all(test: (e: Extension) => boolean): boolean {
    for (const extension of this.#byId.values()) if (!test(extension)) return false;
    return true;
  }

  #until(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((wake) => this.#waiters.push({ ready, wake }));
  }

  #changed(): void {
    for (let i = this.#waiters.length - 1; i >= 0; i -= 1) {
      const waiter = this.#waiters[i];
      if (waiter?.ready() === true) {
        this.#waiters.splice(i, 1);
        waiter.wake();
      }
    }
  }

  #fail(failure: ExtensionFailure): void {
    if (this.#failure !== undefined) return;
    this.#failure = failure;
    this.#onFailure(failure);
  }
}

function forbidden(errorType: RuntimeErrorType, errorMessage: string): ExtensionRefusal {
  return { errorType, errorMessage };
}

/** Lambda's wording for an extension's exit: `exit code 0`, `exit status 1`, `signal: killed`. */
export function exitStatus(code: number): string {
  const signals: Record<number, string> = {
    6: 'aborted',
    9: 'killed',
    11: 'segmentation fault',
    15: 'terminated',
  };
  if (code === 0) return 'exit code 0';
  if (code > 128 && signals[code - 128] !== undefined)
    return `signal: ${signals[code - 128] ?? ''}`;
  return `exit status ${code}`;
}
