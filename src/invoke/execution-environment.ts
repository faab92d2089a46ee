/**
 * One execution environment: a sandbox running a runtime, its Runtime API channel, and its log
 * stream. Lifecycle (rejecting by default): starting → ready ⇄ busy → dead. Init has its own time
 * limit; an invoke races the runtime's answer against the function timeout and the sandbox's exit.
 */
import type { Clock } from '../core/clock.js';
import { Readable } from 'node:stream';
import type { InvocationEvent, StreamEnd } from '../core/runtime-protocol.js';
import type { LogLine, LogSink, RuntimeChannel } from './ports.js';
import type { Sandbox, SandboxExit } from './sandbox-driver.js';
import {
  endingOf,
  exitMessage,
  streamEndingOf,
  type Ending,
  type InvocationOutcome,
} from './invocation-ending.js';
import {
  platformLine,
  TEXT_SYSTEM_LOG,
  type PlatformEvent,
  type SystemLogSettings,
} from './platform-records.js';

export { exitMessage, platformErrorOutcome, type InvocationOutcome } from './invocation-ending.js';

/** An invocation whose response may be streamed, as the environment runs it. */
export interface EnvironmentStream {
  /** The content type of the response (undefined when there is none: an error came first). */
  readonly contentType: string | undefined;
  /** The response's bytes as they arrive (one chunk for a buffered answer, none for an error). */
  readonly body: AsyncIterable<Buffer>;
  /** Settles after END and REPORT with the outcome and the log tail. */
  readonly done: Promise<{ outcome: InvocationOutcome; logTail: string | undefined }>;
}

/** One invocation in progress inside the environment. */
interface Run {
  readonly event: InvocationEvent;
  readonly started: number;
  readonly deadline: Promise<{ kind: 'timeout' }>;
  readonly exited: Promise<{ kind: 'exit'; exit: SandboxExit }>;
  readonly stop: () => void;
}

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
  /**
   * Provisioned concurrency: initialised ahead of traffic, kept while idle, and its first invoke
   * reports no Init Duration.
   */
  readonly provisioned?: boolean;
  /** Platform lines as text, or JSON records filtered by level (LoggingConfig). */
  readonly systemLog?: SystemLogSettings;
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

  /** Writes a platform event in the function's system log format (if its level is kept). */
  platform(event: PlatformEvent): void {
    const line = platformLine(event, this.settings.systemLog ?? TEXT_SYSTEM_LOG, this.#clock.now());
    if (line !== undefined) this.#log(line);
  }

  /** Receives a line the environment's processes printed. */
  output(message: string): void {
    this.#log(message);
  }

  /** Logs a platform line (INIT_START and the like). */
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
    const run = await this.#begin(event, withLogTail);
    const answer = await this.#race(run, this.#channel.invoke(event, 'buffered'));
    // A buffered channel collects streamed responses itself; a stream here is drained as a guard.
    const ending =
      answer.kind === 'stream'
        ? this.#endOfStream(event, await this.#race(run, drained(answer)))
        : endingOf(event.requestId, this.settings.timeoutSeconds, answer);
    const logTail = await this.#finish(run, ending);
    return { outcome: ending.outcome, logTail };
  }

  /**
   * Runs one invocation whose response may be streamed: resolves once the runtime starts its
   * response (or answered, failed, or ran out of time before that) with the chunks as they come;
   * `done` settles after END and REPORT, with the outcome (a streamed success has an empty payload:
   * the bytes went through `body`). The function timeout still applies while it streams; a
   * timeout, an exit, a stream over the limit or a truncated one kill the environment.
   */
  async invokeStreaming(event: InvocationEvent, withLogTail: boolean): Promise<EnvironmentStream> {
    const run = await this.#begin(event, withLogTail);
    const answer = await this.#race(run, this.#channel.invoke(event, 'streaming'));
    if (answer.kind !== 'stream') {
      const ending = endingOf(event.requestId, this.settings.timeoutSeconds, answer);
      const done = this.#finish(run, ending).then((logTail) => ({
        outcome: ending.outcome,
        logTail,
      }));
      const { outcome } = ending;
      return {
        contentType: outcome.kind === 'success' ? outcome.contentType : undefined,
        body: chunks(outcome.kind === 'success' ? [outcome.payload] : []),
        done,
      };
    }
    const done = this.#race(run, answer.ended).then(async (end) => {
      const ending = this.#endOfStream(event, end);
      const logTail = await this.#finish(run, ending);
      return { outcome: ending.outcome, logTail };
    });
    return { contentType: answer.contentType, body: answer.body, done };
  }

  async #begin(event: InvocationEvent, withLogTail: boolean): Promise<Run> {
    if (this.#state !== 'ready')
      throw new Error(`cannot invoke an environment that is ${this.#state}`);
    this.#state = 'busy';
    clearTimeout(this.#freezeTimer);
    await this.#freezing;
    await this.#sandbox.thaw();
    this.#tail = withLogTail ? [] : undefined;
    const started = performance.now();
    this.platform({ kind: 'start', requestId: event.requestId, version: this.settings.version });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<{ kind: 'timeout' }>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout' }), this.settings.timeoutSeconds * 1000);
    });
    const exited = this.#sandbox.exited.then((exit) => ({ kind: 'exit' as const, exit }));
    return { event, started, deadline, exited, stop: () => clearTimeout(timer) };
  }

  /** The ending of a stream, or of the timeout or exit that came first. */
  #endOfStream(
    event: InvocationEvent,
    end: StreamEnd | { kind: 'timeout' } | { kind: 'exit'; exit: SandboxExit },
  ): Ending {
    return end.kind === 'timeout' || end.kind === 'exit'
      ? endingOf(event.requestId, this.settings.timeoutSeconds, end)
      : streamEndingOf(event.requestId, end);
  }

  /** Whichever comes first: `answer`, the function timeout, or the sandbox's exit. */
  #race<T>(
    run: Run,
    answer: Promise<T>,
  ): Promise<T | { kind: 'timeout' } | { kind: 'exit'; exit: SandboxExit }> {
    return Promise.race([answer, run.deadline, run.exited]);
  }

  /** Writes the timeout, END and REPORT lines, then keeps (ready) or kills the environment. */
  async #finish(run: Run, ending: Ending): Promise<string | undefined> {
    run.stop();
    const { event } = run;
    const durationMs = performance.now() - run.started;
    if (ending.failure === 'timeout') {
      this.platform({
        kind: 'timeout',
        requestId: event.requestId,
        timeoutSeconds: this.settings.timeoutSeconds,
      });
    }
    const maxMemoryUsedMiB = await this.#sandbox.maxMemoryUsedMiB();
    const outcome = ending.outcome;
    const status = ending.failure;
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
    if (ending.failure !== undefined || this.#exit !== undefined) {
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
    return logTail === undefined ? undefined : `${logTail}\n`;
  }

  /** Kills the sandbox and closes the channel. Idempotent. */
  async destroy(): Promise<void> {
    clearTimeout(this.#freezeTimer);
    this.#markDead();
    await this.#sandbox.kill();
    await this.#channel.close();
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

/** The non-empty buffers, as an async iterable. */
function chunks(buffers: readonly Buffer[]): AsyncIterable<Buffer> {
  return Readable.from(buffers.filter((buffer) => buffer.length > 0));
}

/** Reads a stream to its end (discarding the bytes) and says how it ended. */
async function drained(stream: { body: AsyncIterable<Buffer>; ended: Promise<StreamEnd> }) {
  for await (const chunk of stream.body) void chunk;
  return stream.ended;
}
