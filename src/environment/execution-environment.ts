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
import { Readable } from 'node:stream';
import type {
  InvocationEvent,
  ResponseMode,
  RuntimeAnswer,
  StreamEnd,
} from '../core/runtime-protocol.js';
import type { ColocationPolicy } from './colocation-policy.js';
import {
  EnvironmentLifecycle,
  type EnvironmentState,
  type LifecycleListener,
} from './environment-lifecycle.js';
import { EnvironmentReporter, type InitStart } from './environment-reporter.js';
import type { ExtensionFailure, ExtensionRegistry } from './extension-registry.js';
import type { LogSink, RuntimeChannel } from './ports.js';
import type { Sandbox, SandboxExit } from './sandbox-driver.js';
import type { ReportFigures } from './platform-log.js';
import {
  endingOf,
  exitMessage,
  platformErrorOutcome,
  streamEndingOf,
  type Ending,
  type InvocationOutcome,
} from './invocation-ending.js';
import type { SystemLogSettings } from './platform-records.js';
import type { TelemetryHub } from './telemetry-hub.js';
import type { InitializationType, TelemetryStatus } from './telemetry-records.js';

export { exitMessage, platformErrorOutcome, type InvocationOutcome } from './invocation-ending.js';

/** An invocation whose response may be streamed, as the environment runs it. */
export interface EnvironmentStream {
  /** The content type of the response (undefined when there is none: an error came first). */
  readonly contentType: string | undefined;
  /** The response's bytes as they arrive (one chunk for a buffered answer, none for an error). */
  readonly body: AsyncIterable<Buffer>;
  /** Settles after END and REPORT with the outcome, the log tail and the REPORT's figures. */
  readonly done: Promise<InvocationDone>;
}

/** An invocation after END and REPORT: how it ended, its log tail, its REPORT's figures. */
export interface InvocationDone {
  readonly outcome: InvocationOutcome;
  readonly logTail: string | undefined;
  readonly figures: ReportFigures;
  /** When the runtime got the event (epoch ms, the environment's clock). */
  readonly startMs: number;
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
/** How long SHUTDOWN-subscribed extensions get before the kill (Lambda: 2 s with externals). */
export const SHUTDOWN_GRACE_MS = 2000;

/** The extension side of an environment. */
export interface EnvironmentExtensions {
  readonly registry: ExtensionRegistry;
  readonly telemetry: TelemetryHub;
  readonly initializationType: InitializationType;
}

/** What can cut an invocation short: the function timeout, the sandbox's exit, an extension. */
type Interruption =
  | { kind: 'timeout' }
  | { kind: 'exit'; exit: SandboxExit }
  | { kind: 'extension'; failure: ExtensionFailure };

/** An invocation the runtime has answered, or started to stream its answer to. */
interface Running {
  /** The streamed response's bytes as they come; undefined: the answer came whole. */
  readonly body: AsyncIterable<Buffer> | undefined;
  readonly contentType: string | undefined;
  readonly extensionsInvoked: boolean;
  /** Settles once the runtime is done with the invocation: how it ended. */
  readonly answered: Promise<Ending>;
  /** Settles after END and REPORT (and the extensions' post-processing). */
  readonly done: Promise<InvocationDone>;
  /** The run, to abandon if its caller fails. */
  readonly run: Run;
}

/** One invocation in progress inside the environment. */
interface Run {
  readonly event: InvocationEvent;
  readonly started: number;
  /** `started` on the environment's clock (epoch ms). */
  readonly startMs: number;
  /** Whether extensions got INVOKE (then the invocation ends when they ask for their next event). */
  readonly extensionsInvoked: boolean;
  /** Resolves with the first interruption (never, when the invocation ends first). */
  readonly interrupted: Promise<Interruption>;
  readonly stop: () => void;
}

export type { EnvironmentState } from './environment-lifecycle.js';

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
  readonly #report: EnvironmentReporter;
  readonly #clock: Clock;
  readonly #onDead: (env: ExecutionEnvironment) => void;
  readonly #ext: EnvironmentExtensions;
  readonly #placement: ColocationPolicy | undefined;
  readonly #lifecycle = new EnvironmentLifecycle();
  #destroying: Promise<void> | undefined;
  /** Set by `retire`: the environment ends once its current invocation completes. */
  #retiring = false;
  #lastUsedMs: number;
  /** When the environment was made (its age counts from here; so do its credentials'). */
  readonly startedMs: number;
  #pendingInitMs: number | undefined;
  #freezing: Promise<void> = Promise.resolve();
  #freezeTimer: NodeJS.Timeout | undefined;
  #exit: SandboxExit | undefined;
  #failure: ExtensionFailure | undefined;
  /**
   * Interrupts the running invocation (its exit or an extension's failure). One slot, set per run:
   * a run must not add reactions to the environment's long-lived promises, which would keep every
   * past run's closures alive until the environment ends.
   */
  #interrupt: ((interruption: Interruption) => void) | undefined;
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
    placement?: ColocationPolicy,
  ) {
    this.settings = settings;
    this.#placement = placement;
    this.#sandbox = sandbox;
    this.#channel = channel;
    this.#report = new EnvironmentReporter(settings, logs, clock, extensions.telemetry);
    this.#clock = clock;
    this.#onDead = onDead;
    this.#ext = extensions;
    this.#lastUsedMs = clock.now();
    this.startedMs = this.#lastUsedMs;
    void sandbox.exited.then((exit) => {
      this.#exit = exit;
      this.#interrupt?.({ kind: 'exit', exit });
      this.#markDead();
    });
    // An extension that fails while the environment is idle resets it; busy ones report it.
    void extensions.registry.failed.then((failure) => {
      this.#failure = failure;
      this.#interrupt?.({ kind: 'extension', failure });
      if (this.state === 'ready') void this.destroy('failure');
    });
  }

  get state(): EnvironmentState {
    return this.#lifecycle.state;
  }

  /** Hears every move of the environment's lifecycle (see environment-lifecycle.ts). */
  onMove(listener: LifecycleListener): void {
    this.#lifecycle.onMove(listener);
  }

  get lastUsedMs(): number {
    return this.#lastUsedMs;
  }

  /** Receives a line the runtime's processes printed. */
  output(message: string): void {
    this.#report.output(message);
  }

  /** Receives a line an external extension printed. */
  extensionOutput(message: string): void {
    this.#report.extensionOutput(message);
  }

  /** Reports the start of init (INIT_START, `platform.initStart`). */
  initStart(start: InitStart): void {
    this.#report.initStart(start);
  }

  /** Waits for the runtime to ask for work, fail its init, exit, or run out of time. */
  async init(limitMs: number): Promise<InitOutcome> {
    if (this.state !== 'starting')
      throw new Error(`cannot init an environment that is ${this.state}`);
    const started = performance.now();
    this.#placement?.beginInit(this.#sandbox);
    const answered = await new Promise<InitOutcome>((resolve) => {
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
    this.#placement?.end(this.#sandbox);
    // The runtime asked for work, but its processes exited before the answer got here.
    const outcome: InitOutcome =
      answered.ok && !this.#lifecycle.allows('ready')
        ? {
            ok: false,
            durationMs: answered.durationMs,
            errorType: 'Runtime.ExitError',
            payload: undefined,
            message: this.#exit === undefined ? 'The environment ended' : exitMessage(this.#exit),
          }
        : answered;
    this.#endInit(outcome);
    if (!outcome.ok) {
      await this.destroy('failure');
      return outcome;
    }
    this.#lifecycle.move('ready');
    this.#pendingInitMs = this.settings.provisioned === true ? undefined : outcome.durationMs;
    await this.#sandbox.limitCpu().catch(() => undefined);
    return outcome;
  }

  /**
   * Runs one invocation. `withLogTail` collects the invocation's log lines (START…REPORT) for
   * `X-Amz-Log-Result`. Resolves with the outcome once the runtime answered; when extensions
   * still work on the invocation (and no log tail is asked for), before it is `completed`. The
   * environment is then left ready (frozen) or dead. The run path of `invokeStreaming`, with the
   * channel collecting the response (a streamed one too).
   */
  async invoke(
    event: InvocationEvent,
    withLogTail: boolean,
  ): Promise<{
    outcome: InvocationOutcome;
    logTail: string | undefined;
    completed: Promise<InvocationDone>;
  }> {
    const running = await this.#run(event, withLogTail, 'buffered');
    try {
      // A buffered channel collects streamed responses itself; a stream here is drained as a guard.
      if (running.body !== undefined) void drain(running.body);
      const { outcome } = await running.answered;
      if (withLogTail || !running.extensionsInvoked) {
        const done = await running.done;
        return { outcome, logTail: done.logTail, completed: Promise.resolve(done) };
      }
      // Only a promise handed to the caller may reject: it handles it.
      return { outcome, logTail: undefined, completed: running.done };
    } catch (error) {
      // `done` follows `answered`: it fails too, and nobody else will hear of it.
      void running.done.catch(() => undefined);
      this.#abandon(running.run);
      throw error;
    }
  }

  /**
   * Runs one invocation whose response may be streamed: resolves once the runtime starts its
   * response (or answered, failed, or ran out of time before that) with the chunks as they come;
   * `done` settles after END and REPORT (after the extensions' post-processing), with the outcome
   * (a streamed success has an empty payload: the bytes went through `body`). The function timeout
   * still applies while it streams; a timeout, an exit, an extension's failure, a stream over the
   * limit or a truncated one kill the environment.
   */
  async invokeStreaming(event: InvocationEvent, withLogTail: boolean): Promise<EnvironmentStream> {
    const running = await this.#run(event, withLogTail, 'streaming');
    if (running.body !== undefined)
      return { contentType: running.contentType, body: running.body, done: running.done };
    const { outcome } = await running.answered;
    return {
      contentType: outcome.kind === 'success' ? outcome.contentType : undefined,
      body: chunks(outcome.kind === 'success' ? [outcome.payload] : []),
      done: running.done,
    };
  }

  /**
   * The one run path: starts the invocation and waits for the runtime to answer or to start a
   * streamed response (or for an interruption). `answered` settles once the runtime is done with
   * the invocation (a stream has ended), `done` after END and REPORT.
   */
  async #run(event: InvocationEvent, withLogTail: boolean, mode: ResponseMode): Promise<Running> {
    const run = await this.#begin(event, withLogTail);
    const finish = (ending: Ending): Running['done'] =>
      this.#guarded(run, this.#complete(run, ending)).then(({ logTail, figures }) => ({
        outcome: ending.outcome,
        logTail,
        figures,
        startMs: run.startMs,
      }));
    try {
      const answer = await this.#race(run, this.#channel.invoke(event, mode));
      if (answer.kind !== 'stream') {
        const ending = this.#endingOf(event, answer);
        this.#runtimeDone(run, ending, answer.kind === 'response' ? answer.body.length : 0);
        return {
          body: undefined,
          contentType: undefined,
          extensionsInvoked: run.extensionsInvoked,
          answered: Promise.resolve(ending),
          done: finish(ending),
          run,
        };
      }
      const answered = this.#race(run, answer.ended).then((end) => {
        const ending = this.#endOfStream(event, end);
        this.#runtimeDone(run, ending, 0);
        return ending;
      });
      return {
        body: answer.body,
        contentType: answer.contentType,
        extensionsInvoked: run.extensionsInvoked,
        answered,
        done: this.#guarded(run, answered).then(finish),
        run,
      };
    } catch (error) {
      this.#abandon(run);
      throw error;
    }
  }

  /** Starts an invocation: START, INVOKE to subscribed extensions, the timeout. */
  async #begin(event: InvocationEvent, withLogTail: boolean): Promise<Run> {
    if (this.state !== 'ready')
      throw new Error(`cannot invoke an environment that is ${this.state}`);
    this.#lifecycle.move('busy');
    this.#placement?.begin(this.#sandbox);
    clearTimeout(this.#freezeTimer);
    await this.#freezing;
    await this.#sandbox.thaw().catch((error: unknown) => {
      this.#abandon(undefined);
      throw error;
    });
    const started = performance.now();
    const startMs = this.#clock.now();
    this.#report.start(event.requestId, this.settings.version, event.traceId, withLogTail);
    const { registry } = this.#ext;
    const extensionsInvoked = registry.dispatchInvoke(event) > 0;
    let timer: NodeJS.Timeout | undefined;
    let interrupt: ((interruption: Interruption) => void) | undefined;
    const interrupted = new Promise<Interruption>((resolve) => {
      interrupt = resolve;
      timer = setTimeout(() => resolve({ kind: 'timeout' }), this.settings.timeoutSeconds * 1000);
    });
    this.#interrupt = interrupt;
    if (this.#exit !== undefined) interrupt?.({ kind: 'exit', exit: this.#exit });
    if (this.#failure !== undefined) interrupt?.({ kind: 'extension', failure: this.#failure });
    const stop = () => {
      clearTimeout(timer);
      if (this.#interrupt === interrupt) this.#interrupt = undefined;
    };
    return { event, started, startMs, extensionsInvoked, interrupted, stop };
  }

  /** `work`, abandoning the environment when it fails unexpectedly. */
  #guarded<T>(run: Run, work: Promise<T>): Promise<T> {
    return work.catch((error: unknown) => {
      this.#abandon(run);
      throw error;
    });
  }

  /**
   * An invocation failed unexpectedly (not a function error: the sandbox or the channel broke): the
   * environment is killed, so it neither stays busy holding its memory nor serves again.
   */
  #abandon(run: Run | undefined): void {
    run?.stop();
    void this.destroy('failure');
  }

  /** Whichever comes first: `answer`, or an interruption of the run. */
  #race<T>(run: Run, answer: Promise<T>): Promise<T | Interruption> {
    return Promise.race([answer, run.interrupted]);
  }

  /** The ending of a buffered answer or an interruption. */
  #endingOf(
    event: InvocationEvent,
    result: Exclude<RuntimeAnswer, { kind: 'stream' }> | Interruption,
  ): Ending {
    if (result.kind === 'extension') {
      return {
        outcome: platformErrorOutcome(
          event.requestId,
          result.failure.errorType,
          result.failure.message,
        ),
        failure: 'error',
      };
    }
    return endingOf(event.requestId, this.settings.timeoutSeconds, result);
  }

  /** The ending of a stream, or of the interruption that came first. */
  #endOfStream(event: InvocationEvent, end: StreamEnd | Interruption): Ending {
    return end.kind === 'timeout' || end.kind === 'exit' || end.kind === 'extension'
      ? this.#endingOf(event, end)
      : streamEndingOf(event.requestId, end);
  }

  /** Tells telemetry subscribers the runtime is done with the invocation. */
  #runtimeDone(run: Run, ending: Ending, producedBytes: number): void {
    const { outcome } = ending;
    this.#report.runtimeDone({
      requestId: run.event.requestId,
      status: statusOf(ending),
      errorType: outcome.kind === 'function-error' ? outcome.errorType : undefined,
      durationMs: performance.now() - run.started,
      producedBytes,
      traceId: run.event.traceId,
    });
  }

  /**
   * Ends an invocation: waits for the extensions' post-processing (the runtime and each
   * INVOKE-subscribed extension ask for their next event; this counts toward the timeout), writes
   * the timeout, END and REPORT lines, then keeps (ready) or kills the environment. Returns the
   * log tail when one was collected.
   */
  async #complete(
    run: Run,
    answered: Ending,
  ): Promise<{ logTail: string | undefined; figures: ReportFigures }> {
    const { event } = run;
    let ending = answered;
    if (run.extensionsInvoked && answered.failure === undefined) {
      const postProcessed = Promise.all([
        this.#channel.runtimeWaiting(),
        this.#ext.registry.invokeDone(),
      ]).then(() => undefined);
      const interruption = await Promise.race([postProcessed, run.interrupted]);
      if (interruption !== undefined) ending = this.#endingOf(event, interruption);
    }
    run.stop();
    const durationMs = performance.now() - run.started;
    // What the runtime printed before it answered is in its output pipe, but the answer may have
    // been read first in the same turn of the event loop: let that turn's reads run before END,
    // so those lines are in the log (and its tail) before the invocation ends.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (ending.failure === 'timeout')
      this.#report.timedOut(event.requestId, this.settings.timeoutSeconds);
    const maxMemoryUsedMiB = await this.#sandbox.maxMemoryUsedMiB();
    const { outcome } = ending;
    const figures: ReportFigures = {
      requestId: event.requestId,
      durationMs,
      memorySizeMiB: this.settings.memoryMiB,
      maxMemoryUsedMiB,
      initDurationMs: this.#pendingInitMs,
      status: ending.failure,
      errorType: outcome.kind === 'function-error' ? outcome.errorType : undefined,
    };
    const logTail = this.#report.end({
      figures,
      failure: ending.failure,
      telemetryStatus: statusOf(ending),
      traceId: event.traceId,
    });
    this.#pendingInitMs = undefined;
    this.#lastUsedMs = this.#clock.now();
    this.#placement?.end(this.#sandbox);
    if (ending.failure !== undefined || this.#exit !== undefined) {
      await this.destroy(ending.failure === 'timeout' ? 'timeout' : 'failure');
    } else if (this.#retiring) {
      await this.destroy('spindown');
    } else if (this.state === 'busy') {
      // (Destroyed meanwhile, e.g. its provisioned concurrency removed: it stays dead.)
      this.#lifecycle.move('ready');
      // Freeze once the environment has stayed idle briefly: back-to-back invokes skip the
      // freezer round trip (a few ms on cgroup v1), idle environments are frozen as on Lambda.
      this.#freezeTimer = setTimeout(() => {
        if (this.state === 'ready') this.#freezing = this.#sandbox.freeze().catch(() => undefined);
      }, FREEZE_AFTER_IDLE_MS);
      this.#freezeTimer.unref();
    }
    return { logTail, figures };
  }

  /**
   * Ends the environment once it serves no invocation: at once when idle (resolving once it is
   * stopped), else when the current invocation has completed (resolving at once), so a running
   * request finishes, as when provisioned concurrency is removed on Lambda. One that initialises
   * (a cold start, for the invocation that follows) serves that invocation first.
   */
  retire(): Promise<void> {
    this.#retiring = true;
    const serving = this.state === 'busy' || this.state === 'starting';
    return serving ? Promise.resolve() : this.destroy();
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
    const { registry } = this.#ext;
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

  /** Closes registration and reports init (extensions, `platform.initReport`). */
  #endInit(outcome: InitOutcome): void {
    const { registry, initializationType } = this.#ext;
    registry.closeRegistration();
    this.#report.initDone(
      initializationType,
      outcome.durationMs,
      outcome.ok ? undefined : outcome,
      registry.describe(),
    );
  }

  #markDead(): void {
    if (this.state === 'dead') return;
    this.#lifecycle.move('dead');
    this.#placement?.forget(this.#sandbox);
    this.#onDead(this);
    this.#ended();
    this.#report.close();
  }
}

/** The telemetry status of how an invocation ended. */
function statusOf(ending: Ending): TelemetryStatus {
  if (ending.failure === 'timeout') return 'timeout';
  if (ending.failure === 'error') return 'failure';
  return ending.outcome.kind === 'function-error' ? 'error' : 'success';
}

/** The non-empty buffers, as an async iterable. */
function chunks(buffers: readonly Buffer[]): AsyncIterable<Buffer> {
  return Readable.from(buffers.filter((buffer) => buffer.length > 0));
}

/** Reads a stream to its end, discarding the bytes (its end or failure is the run's to report). */
async function drain(body: AsyncIterable<Buffer>): Promise<void> {
  try {
    for await (const chunk of body) void chunk;
  } catch {
    // the stream failed: how the invocation ended says so
  }
}
