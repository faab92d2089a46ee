/**
 * One execution environment: a sandbox running a runtime and its extensions, its Runtime API
 * channel, and its log stream. Lifecycle (rejecting by default): starting → ready ⇄ busy → dead.
 * Init (extensions, then the runtime) has its own time limit; an invoke races the runtime's answer
 * against the function timeout, the sandbox's exit and extension failures, and is complete once the
 * runtime and every INVOKE-subscribed extension ask for their next event. Stopping gives
 * SHUTDOWN-subscribed extensions their event and up to 2 s before the kill.
 */
import type { Clock } from '../core/clock.js';
import type { ShutdownReason } from '../core/extension-protocol.js';
import type { InvocationEvent, RuntimeAnswer } from '../core/runtime-protocol.js';
import type { ExtensionFailure, ExtensionRegistry } from './extension-registry.js';
import type { LogLine, LogSink, RuntimeChannel } from './ports.js';
import type { Sandbox, SandboxExit } from './sandbox-driver.js';
import type { ReportFigures } from './platform-log.js';
import {
  platformLine,
  TEXT_SYSTEM_LOG,
  type PlatformEvent,
  type SystemLogSettings,
} from './platform-records.js';
import type { TelemetryHub } from './telemetry-hub.js';
import {
  extensionLine,
  initReportRecord,
  initRuntimeDoneRecord,
  reportRecord,
  runtimeDoneRecord,
  startRecord,
  type InitializationType,
  type TelemetryStatus,
} from './telemetry-records.js';

/** What an invocation produced, as the caller sees it. */
export type InvocationOutcome =
  | { readonly kind: 'success'; readonly payload: Buffer; readonly contentType: string | undefined }
  | { readonly kind: 'function-error'; readonly payload: Buffer; readonly errorType: string };

/** The result of init: ready, or the error the first invoke reports. */
export type InitOutcome =
  | { readonly ok: true; readonly durationMs: number }
  | {
      readonly ok: false;
      readonly durationMs: number;
      readonly errorType: string;
      readonly payload: Buffer | undefined;
      readonly message: string;
    };

/** How long a ready environment stays unfrozen, waiting for a quick next invoke. */
export const FREEZE_AFTER_IDLE_MS = 50;
/** How long SHUTDOWN-subscribed extensions get before the kill (Lambda: 2 s with externals). */
export const SHUTDOWN_GRACE_MS = 2000;

/** The extension side of an environment. */
export interface EnvironmentExtensions {
  readonly registry: ExtensionRegistry;
  readonly telemetry: TelemetryHub;
  readonly initializationType: InitializationType;
}

type RuntimeResult =
  | RuntimeAnswer
  | { kind: 'timeout' }
  | { kind: 'exit'; exit: SandboxExit }
  | { kind: 'extension'; failure: ExtensionFailure };

export type EnvironmentState = 'starting' | 'ready' | 'busy' | 'dead';

/** Identity and limits of the environment, fixed at creation. */
export interface EnvironmentSettings {
  readonly id: string;
  /** Which function version and configuration the environment runs (reuse key). */
  readonly key: string;
  readonly functionName: string;
  readonly version: string;
  readonly memoryMiB: number;
  readonly timeoutSeconds: number;
  readonly logGroup: string;
  readonly logStream: string;
  /** Platform lines as text, or JSON records filtered by level (LoggingConfig). */
  readonly systemLog?: SystemLogSettings;
  /**
   * Provisioned concurrency: initialised ahead of traffic, kept while idle, and its first invoke
   * reports no Init Duration.
   */
  readonly provisioned?: boolean;
}

export class ExecutionEnvironment {
  readonly settings: EnvironmentSettings;
  readonly #sandbox: Sandbox;
  readonly #channel: RuntimeChannel;
  readonly #logs: LogSink;
  readonly #clock: Clock;
  readonly #onDead: (env: ExecutionEnvironment) => void;
  readonly #ext: EnvironmentExtensions;
  #state: EnvironmentState = 'starting';
  #destroying: Promise<void> | undefined;
  #tail: string[] | undefined;
  #lastUsedMs: number;
  #pendingInitMs: number | undefined;
  #freezing: Promise<void> = Promise.resolve();
  #freezeTimer: NodeJS.Timeout | undefined;
  #exit: SandboxExit | undefined;
  #ended!: () => void;
  /** Resolves once the environment is dead. */
  readonly ended = new Promise<void>((resolve) => {
    this.#ended = resolve;
  });

  constructor(
    settings: EnvironmentSettings,
    sandbox: Sandbox,
    channel: RuntimeChannel,
    logs: LogSink,
    clock: Clock,
    onDead: (env: ExecutionEnvironment) => void,
    extensions: EnvironmentExtensions,
  ) {
    this.settings = settings;
    this.#sandbox = sandbox;
    this.#channel = channel;
    this.#logs = logs;
    this.#clock = clock;
    this.#onDead = onDead;
    this.#ext = extensions;
    this.#lastUsedMs = clock.now();
    void sandbox.exited.then((exit) => {
      this.#exit = exit;
      this.#markDead();
      this.#ext.telemetry.close();
    });
    // An extension that fails while the environment is idle resets it; busy ones report it.
    void extensions.registry.failed.then(() => {
      if (this.#state === 'ready') void this.destroy('failure');
    });
  }

  get state(): EnvironmentState {
    return this.#state;
  }

  get lastUsedMs(): number {
    return this.#lastUsedMs;
  }

  /** Receives a line the runtime's processes printed. */
  output(message: string): void {
    this.#log(message);
    this.#ext.telemetry.emit('function', 'function', this.#record(message));
  }

  /** Receives a line an external extension printed. */
  extensionOutput(message: string): void {
    this.#log(message);
    this.#ext.telemetry.emit('extension', 'extension', this.#record(message));
  }

  /** A log line as a telemetry record: the object itself when the function logs JSON. */
  #record(message: string): unknown {
    if (this.settings.systemLog?.json !== true || !message.startsWith('{')) return message;
    try {
      return JSON.parse(message) as unknown;
    } catch {
      return message;
    }
  }

  /** Logs a platform line (INIT_START and the like). */
  /** Writes a platform event in the function's system log format (if its level is kept). */
  platform(event: PlatformEvent): void {
    const line = platformLine(event, this.settings.systemLog ?? TEXT_SYSTEM_LOG, this.#clock.now());
    if (line !== undefined) this.#log(line);
  }

  log(message: string): void {
    this.#log(message);
  }

  /** Waits for the runtime to ask for work, fail its init, exit, or run out of time. */
  async init(limitMs: number): Promise<InitOutcome> {
    if (this.#state !== 'starting')
      throw new Error(`cannot init an environment that is ${this.#state}`);
    const started = performance.now();
    const outcome = await new Promise<InitOutcome>((resolve) => {
      const elapsed = () => performance.now() - started;
      const timer = setTimeout(() => {
        resolve({
          ok: false,
          durationMs: elapsed(),
          errorType: 'Sandbox.Timedout',
          payload: undefined,
          message: `Init timed out after ${(limitMs / 1000).toFixed(2)} seconds`,
        });
      }, limitMs);
      const done = (outcome: InitOutcome) => {
        clearTimeout(timer);
        resolve(outcome);
      };
      const { registry } = this.#ext;
      // Extension init: every external extension registers and asks for its first event before
      // the runtime starts. Runtime init ends when the runtime and every extension wait for work.
      void this.#sandbox.extensions.then(async (names) => {
        registry.expectExternal(names);
        if (names.length === 0) return;
        await registry.externalsReady();
        this.#sandbox.startRuntime();
      });
      void registry.failed.then((failure) =>
        done({
          ok: false,
          durationMs: elapsed(),
          errorType: failure.errorType,
          payload: undefined,
          message: failure.message,
        }),
      );
      this.#channel.onFirstNext(() => {
        void registry.allReady().then(() => done({ ok: true, durationMs: elapsed() }));
      });
      this.#channel.onInitError((failure) => {
        done({
          ok: false,
          durationMs: elapsed(),
          errorType: failure.errorType ?? 'Runtime.Unknown',
          payload: failure.body,
          message: '',
        });
      });
      void this.#sandbox.exited.then((exit) =>
        done({
          ok: false,
          durationMs: elapsed(),
          errorType: 'Runtime.ExitError',
          payload: undefined,
          message: exitMessage(exit),
        }),
      );
    });
    this.#endInit(outcome);
    if (!outcome.ok) {
      await this.destroy('failure');
      return outcome;
    }
    this.#state = 'ready';
    this.#pendingInitMs = this.settings.provisioned === true ? undefined : outcome.durationMs;
    await this.#sandbox.sealInbound();
    await this.#sandbox.limitCpu().catch(() => undefined);
    return outcome;
  }

  /**
   * Runs one invocation. `withLogTail` collects the invocation's log lines (START…REPORT) for
   * `X-Amz-Log-Result`. Resolves with the outcome once the runtime answered; when extensions
   * still work on the invocation (and no log tail is asked for), before it is `completed`. The
   * environment is then left ready (frozen) or dead.
   */
  async invoke(
    event: InvocationEvent,
    withLogTail: boolean,
  ): Promise<{
    outcome: InvocationOutcome;
    logTail: string | undefined;
    completed: Promise<void>;
  }> {
    if (this.#state !== 'ready')
      throw new Error(`cannot invoke an environment that is ${this.#state}`);
    this.#state = 'busy';
    clearTimeout(this.#freezeTimer);
    await this.#freezing;
    await this.#sandbox.thaw();
    this.#tail = withLogTail ? [] : undefined;
    const started = performance.now();
    this.platform({ kind: 'start', requestId: event.requestId, version: this.settings.version });
    const { registry, telemetry } = this.#ext;
    telemetry.emit(
      'platform',
      'platform.start',
      startRecord(event.requestId, this.settings.version, event.traceId),
    );
    const extensionsInvoked = registry.dispatchInvoke(event) > 0;
    const timeoutMs = this.settings.timeoutSeconds * 1000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<{ kind: 'timeout' }>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
    });
    const exited = this.#sandbox.exited.then((exit) => ({ kind: 'exit' as const, exit }));
    const failed = registry.failed.then((failure) => ({ kind: 'extension' as const, failure }));
    const answer = await Promise.race<RuntimeResult>([
      this.#channel.invoke(event),
      timedOut,
      exited,
      failed,
    ]);
    const outcome = this.#outcome(event, answer);
    telemetry.emit(
      'platform',
      'platform.runtimeDone',
      runtimeDoneRecord({
        requestId: event.requestId,
        status: statusOf(answer),
        errorType: outcome.kind === 'function-error' ? outcome.errorType : undefined,
        durationMs: performance.now() - started,
        producedBytes: answer.kind === 'response' ? answer.body.length : 0,
        traceId: event.traceId,
      }),
    );
    const completed = (async () => {
      let result: RuntimeResult = answer;
      if (extensionsInvoked && (answer.kind === 'response' || answer.kind === 'error')) {
        // Post-processing: the runtime and the extensions each ask for their next event.
        const done = Promise.all([this.#channel.runtimeWaiting(), registry.invokeDone()]).then(
          () => answer,
        );
        result = await Promise.race<RuntimeResult>([done, timedOut, exited, failed]);
      }
      clearTimeout(timer);
      await this.#complete(event, result, outcome, performance.now() - started);
    })();
    if (withLogTail || !extensionsInvoked) await completed;
    const logTail = this.#tail?.join('\n');
    this.#tail = undefined;
    return {
      outcome,
      logTail: logTail === undefined ? undefined : `${logTail}\n`,
      completed,
    };
  }

  /** Ends an invocation: END and REPORT, then the environment is ready again or destroyed. */
  async #complete(
    event: InvocationEvent,
    result: RuntimeResult,
    outcome: InvocationOutcome,
    durationMs: number,
  ): Promise<void> {
    if (result.kind === 'timeout') {
      this.platform({
        kind: 'timeout',
        requestId: event.requestId,
        timeoutSeconds: this.settings.timeoutSeconds,
      });
    }
    const maxMemoryUsedMiB = await this.#sandbox.maxMemoryUsedMiB();
    const failed = result.kind !== 'response' && result.kind !== 'error';
    const status = result.kind === 'timeout' ? 'timeout' : failed ? 'error' : undefined;
    this.platform({ kind: 'end', requestId: event.requestId, status: status ?? 'success' });
    this.#ext.telemetry.emit('platform', 'platform.end', { requestId: event.requestId });
    const figures: ReportFigures = {
      requestId: event.requestId,
      durationMs,
      memorySizeMiB: this.settings.memoryMiB,
      maxMemoryUsedMiB,
      initDurationMs: this.#pendingInitMs,
      status,
      errorType:
        result.kind === 'timeout'
          ? 'Sandbox.Timedout'
          : result.kind === 'extension'
            ? result.failure.errorType
            : outcome.kind === 'function-error'
              ? outcome.errorType
              : undefined,
    };
    this.platform({ kind: 'report', figures });
    this.#ext.telemetry.emit(
      'platform',
      'platform.report',
      reportRecord(figures, statusOf(result), event.traceId),
    );
    this.#pendingInitMs = undefined;
    this.#lastUsedMs = this.#clock.now();
    if (failed || this.#exit !== undefined) {
      await this.destroy(result.kind === 'timeout' ? 'timeout' : 'failure');
    } else {
      this.#state = 'ready';
      // Freeze once the environment has stayed idle briefly: back-to-back invokes skip the
      // freezer round trip (a few ms on cgroup v1), idle environments are frozen as on Lambda.
      this.#freezeTimer = setTimeout(() => {
        if (this.#state === 'ready') this.#freezing = this.#sandbox.freeze().catch(() => undefined);
      }, FREEZE_AFTER_IDLE_MS);
      this.#freezeTimer.unref();
    }
  }

  /**
   * Stops the environment: SHUTDOWN-subscribed extensions get the event with its deadline and up
   * to 2 s to finish (asking for their next event, or exiting), then the sandbox is killed and the
   * channel closed. Idempotent.
   */
  destroy(reason: ShutdownReason = 'spindown'): Promise<void> {
    this.#destroying ??= this.#shutdown(reason);
    return this.#destroying;
  }

  async #shutdown(reason: ShutdownReason): Promise<void> {
    clearTimeout(this.#freezeTimer);
    this.#markDead();
    const { registry, telemetry } = this.#ext;
    telemetry.close();
    if (this.#exit === undefined && registry.wantsShutdown) {
      await this.#sandbox.thaw().catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        registry.shutdown(reason, this.#clock.now() + SHUTDOWN_GRACE_MS),
        new Promise((resolve) => {
          timer = setTimeout(resolve, SHUTDOWN_GRACE_MS);
        }),
        this.#sandbox.exited,
      ]);
      clearTimeout(timer);
    }
    await this.#sandbox.kill();
    await this.#channel.close();
  }

  /** Closes registration, logs each extension, and reports init to telemetry. */
  #endInit(outcome: InitOutcome): void {
    const { registry, telemetry, initializationType } = this.#ext;
    registry.closeRegistration();
    const status: TelemetryStatus = outcome.ok
      ? 'success'
      : outcome.errorType === 'Sandbox.Timedout'
        ? 'timeout'
        : 'error';
    const errorType = outcome.ok ? undefined : outcome.errorType;
    telemetry.emit(
      'platform',
      'platform.initRuntimeDone',
      initRuntimeDoneRecord(initializationType, status, errorType),
    );
    for (const extension of registry.describe()) {
      this.#log(
        this.settings.systemLog?.json === true
          ? JSON.stringify({
              time: new Date(this.#clock.now()).toISOString(),
              type: 'platform.extension',
              record: extension,
            })
          : extensionLine(extension),
      );
      telemetry.emit('platform', 'platform.extension', extension);
    }
    telemetry.emit(
      'platform',
      'platform.initReport',
      initReportRecord(initializationType, outcome.durationMs, status, errorType),
    );
    telemetry.endInit();
  }

  #outcome(event: InvocationEvent, answer: RuntimeResult): InvocationOutcome {
    const platformError = (errorType: string, message: string) =>
      platformErrorOutcome(event.requestId, errorType, message);
    switch (answer.kind) {
      case 'response':
        return { kind: 'success', payload: answer.body, contentType: answer.contentType };
      case 'error':
        return {
          kind: 'function-error',
          payload: answer.body,
          errorType: answer.errorType ?? errorTypeOf(answer.body),
        };
      case 'too-large':
        return platformError(
          'Function.ResponseSizeTooLarge',
          `Response payload size (${answer.bytes} bytes) exceeded maximum allowed payload size (6291556 bytes).`,
        );
      case 'timeout':
        return platformError(
          'Sandbox.Timedout',
          `Task timed out after ${this.settings.timeoutSeconds.toFixed(2)} seconds`,
        );
      case 'exit':
        return platformError('Runtime.ExitError', exitMessage(answer.exit));
      case 'extension':
        return platformError(answer.failure.errorType, answer.failure.message);
    }
  }

  #log(message: string): void {
    const line: LogLine = { timeMs: this.#clock.now(), message };
    this.#logs.append(this.settings.logGroup, this.settings.logStream, [line]);
    this.#tail?.push(message);
  }

  #markDead(): void {
    if (this.#state === 'dead') return;
    this.#state = 'dead';
    this.#onDead(this);
    this.#ended();
    // END and REPORT are written; the stream can release its file (a late line reopens it).
    queueMicrotask(() => this.#logs.end(this.settings.logGroup, this.settings.logStream));
  }
}

/** An error the platform reports for an invocation: `{errorType, errorMessage: "RequestId: … Error: …"}`. */
export function platformErrorOutcome(
  requestId: string,
  errorType: string,
  message: string,
): InvocationOutcome {
  return {
    kind: 'function-error',
    errorType,
    payload: Buffer.from(
      JSON.stringify({ errorType, errorMessage: `RequestId: ${requestId} Error: ${message}` }),
    ),
  };
}

/** AWS's wording for a runtime that exited: `exit status 1`, `signal: killed`. */
export function exitMessage(exit: SandboxExit): string {
  const signals: Record<number, string> = {
    6: 'aborted',
    9: 'killed',
    11: 'segmentation fault',
    15: 'terminated',
  };
  if (exit.outOfMemory) return 'Runtime exited with error: signal: killed';
  if (exit.signal !== null)
    return `Runtime exited with error: signal: ${exit.signal === 'SIGKILL' ? 'killed' : exit.signal.toLowerCase()}`;
  const code = exit.code ?? 0;
  // bubblewrap reports a signal-killed runtime as 128 + the signal number.
  if (code > 128 && signals[code - 128] !== undefined)
    return `Runtime exited with error: signal: ${signals[code - 128] ?? ''}`;
  return code === 0
    ? 'Runtime exited without providing a reason'
    : `Runtime exited with error: exit status ${code}`;
}

/** The telemetry status of how an invocation ended. */
function statusOf(result: RuntimeResult): TelemetryStatus {
  switch (result.kind) {
    case 'response':
      return 'success';
    case 'error':
      return 'error';
    case 'timeout':
      return 'timeout';
    default:
      return 'failure';
  }
}

function errorTypeOf(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errorType?: unknown };
    return typeof parsed.errorType === 'string' ? parsed.errorType : 'Unhandled';
  } catch {
    return 'Unhandled';
  }
}
