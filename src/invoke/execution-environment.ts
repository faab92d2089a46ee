/**
 * One execution environment: a sandbox running a runtime, its Runtime API channel, and its log
 * stream. Lifecycle (rejecting by default): starting → ready ⇄ busy → dead. Init has its own time
 * limit; an invoke races the runtime's answer against the function timeout and the sandbox's exit.
 */
import type { Clock } from '../core/clock.js';
import type { InvocationEvent, RuntimeAnswer } from '../core/runtime-protocol.js';
import type { LogLine, LogSink, RuntimeChannel } from './ports.js';
import type { Sandbox, SandboxExit } from './sandbox-driver.js';
import {
  platformLine,
  TEXT_SYSTEM_LOG,
  type PlatformEvent,
  type SystemLogSettings,
} from './platform-records.js';

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
  #state: EnvironmentState = 'starting';
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
  ) {
    this.settings = settings;
    this.#sandbox = sandbox;
    this.#channel = channel;
    this.#logs = logs;
    this.#clock = clock;
    this.#onDead = onDead;
    this.#lastUsedMs = clock.now();
    void sandbox.exited.then((exit) => {
      this.#exit = exit;
      this.#markDead();
    });
  }

  get state(): EnvironmentState {
    return this.#state;
  }

  get lastUsedMs(): number {
    return this.#lastUsedMs;
  }

  /** Receives a line the environment's processes printed. */
  output(message: string): void {
    this.#log(message);
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
      this.#channel.onFirstNext(() => done({ ok: true, durationMs: elapsed() }));
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
    if (!outcome.ok) {
      await this.destroy();
      return outcome;
    }
    this.#state = 'ready';
    this.#pendingInitMs = this.settings.provisioned === true ? undefined : outcome.durationMs;
    await this.#sandbox.limitCpu().catch(() => undefined);
    return outcome;
  }

  /**
   * Runs one invocation. `withLogTail` collects the invocation's log lines (START…REPORT) for
   * `X-Amz-Log-Result`. The environment is left ready (frozen) or dead.
   */
  async invoke(
    event: InvocationEvent,
    withLogTail: boolean,
  ): Promise<{ outcome: InvocationOutcome; logTail: string | undefined }> {
    if (this.#state !== 'ready')
      throw new Error(`cannot invoke an environment that is ${this.#state}`);
    this.#state = 'busy';
    clearTimeout(this.#freezeTimer);
    await this.#freezing;
    await this.#sandbox.thaw();
    this.#tail = withLogTail ? [] : undefined;
    const started = performance.now();
    this.platform({ kind: 'start', requestId: event.requestId, version: this.settings.version });
    const timeoutMs = this.settings.timeoutSeconds * 1000;
    let timer: NodeJS.Timeout | undefined;
    const answer = await Promise.race<
      RuntimeAnswer | { kind: 'timeout' } | { kind: 'exit'; exit: SandboxExit }
    >([
      this.#channel.invoke(event),
      new Promise((resolve) => {
        timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
      }),
      this.#sandbox.exited.then((exit) => ({ kind: 'exit' as const, exit })),
    ]);
    clearTimeout(timer);
    const durationMs = performance.now() - started;
    const outcome = this.#outcome(event, answer);
    if (answer.kind === 'timeout') {
      this.platform({
        kind: 'timeout',
        requestId: event.requestId,
        timeoutSeconds: this.settings.timeoutSeconds,
      });
    }
    const maxMemoryUsedMiB = await this.#sandbox.maxMemoryUsedMiB();
    const failed =
      answer.kind === 'timeout' || answer.kind === 'exit' || answer.kind === 'too-large';
    const status = answer.kind === 'timeout' ? 'timeout' : failed ? 'error' : undefined;
    this.platform({ kind: 'end', requestId: event.requestId, status: status ?? 'success' });
    this.platform({
      kind: 'report',
      figures: {
        requestId: event.requestId,
        durationMs,
        memorySizeMiB: this.settings.memoryMiB,
        maxMemoryUsedMiB,
        initDurationMs: this.#pendingInitMs,
        status,
        errorType: outcome.kind === 'function-error' ? outcome.errorType : undefined,
      },
    });
    this.#pendingInitMs = undefined;
    const logTail = this.#tail?.join('\n');
    this.#tail = undefined;
    this.#lastUsedMs = this.#clock.now();
    if (failed || this.#exit !== undefined) {
      await this.destroy();
    } else {
      this.#state = 'ready';
      // Freeze once the environment has stayed idle briefly: back-to-back invokes skip the
      // freezer round trip (a few ms on cgroup v1), idle environments are frozen as on Lambda.
      this.#freezeTimer = setTimeout(() => {
        if (this.#state === 'ready') this.#freezing = this.#sandbox.freeze().catch(() => undefined);
      }, FREEZE_AFTER_IDLE_MS);
      this.#freezeTimer.unref();
    }
    return { outcome, logTail: logTail === undefined ? undefined : `${logTail}\n` };
  }

  /** Kills the sandbox and closes the channel. Idempotent. */
  async destroy(): Promise<void> {
    clearTimeout(this.#freezeTimer);
    this.#markDead();
    await this.#sandbox.kill();
    await this.#channel.close();
  }

  #outcome(
    event: InvocationEvent,
    answer: RuntimeAnswer | { kind: 'timeout' } | { kind: 'exit'; exit: SandboxExit },
  ): InvocationOutcome {
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

function errorTypeOf(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errorType?: unknown };
    return typeof parsed.errorType === 'string' ? parsed.errorType : 'Unhandled';
  } catch {
    return 'Unhandled';
  }
}
