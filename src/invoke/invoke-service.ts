/**
 * Synchronous invocation: resolve the function, admit it under the concurrency limits, take a warm
 * environment of that exact version and configuration or create one (specialise a pre-started
 * sandbox, else cold-start a new one), deliver the event, and return the runtime's answer with
 * Lambda's semantics (function errors are values, not exceptions).
 */
import type { FunctionSettings } from '../core/function-model.js';
import { Readable } from 'node:stream';
import { admit } from '../core/admission.js';
import { functionArn, type Scope } from '../core/arn.js';
import { LambdaError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { InvocationEvent } from '../core/runtime-protocol.js';
import { invocationTraceHeader, parseXRayHeader } from '../core/trace-context.js';
import { randomHex } from '../core/trace-ids.js';
import type { InvocationReport, InvocationTrigger } from '../core/invocation-report.js';
import { launchFor } from '../environment/launch-command.js';
import { billedMs } from '../environment/platform-log.js';
import { imageLaunch } from '../environment/image-launch.js';
import {
  canSpecialise,
  prestartFamily,
  type EnvironmentFactory,
  type InitializationType,
} from '../environment/environment-factory.js';
import { lineageOf, type EnvironmentPool } from './environment-pool.js';
import {
  platformErrorOutcome,
  type EnvironmentStream,
  type ExecutionEnvironment,
  type InvocationDone,
  type InvocationOutcome,
} from '../environment/execution-environment.js';
import type { PrestartedPool } from '../environment/prestarted-pool.js';
import { isReservation, type Reservation } from '../environment/reservation.js';
import { streamErrorOf, type StreamingInvocation } from '../environment/streaming-invocation.js';
import type { ResolvedFunction, RuntimeLauncher, RuntimeLaunch } from '../environment/ports.js';
import type { FunctionResolver, InvocationObserver } from './ports.js';

/** One synchronous invoke as the API hands it over. */
export interface InvokeRequest {
  /** The invocation's id: `context.awsRequestId` and the response's `x-amzn-RequestId`. */
  readonly requestId: string;
  readonly functionName: string;
  readonly qualifier: string | undefined;
  /** The payload as received (an empty payload is delivered as `{}`). */
  readonly payload: Buffer;
  /** Decoded client-context JSON, if the caller sent one. */
  readonly clientContext: string | undefined;
  /** Collect the log tail for `X-Amz-Log-Type: Tail`. */
  readonly logTail: boolean;
  /** What started the invocation (default: a synchronous Invoke). */
  readonly trigger?: InvocationTrigger | undefined;
  /**
   * The caller's X-Ray trace header (`X-Amzn-Trace-Id`, or a `traceparent` converted), if any:
   * the invocation continues its trace and honours its sampling decision.
   */
  readonly traceHeader?: string | undefined;
}

export interface InvokeResult {
  readonly requestId: string;
  readonly executedVersion: string;
  readonly outcome: InvocationOutcome;
  readonly logTail: string | undefined;
}

export interface InvokeServiceDeps {
  readonly scope: Scope;
  readonly resolver: FunctionResolver;
  readonly pool: EnvironmentPool;
  readonly factory: EnvironmentFactory;
  /** Booted generic sandboxes to specialise, if the pool is enabled. */
  readonly prestarted?: PrestartedPool | undefined;
  readonly launcher: RuntimeLauncher;
  /** The exact runtime version a function's settings run on (none: the launcher's newest). */
  readonly runtimeVersion?: ((settings: FunctionSettings) => string | undefined) | undefined;
  readonly clock: Clock;
  /** Init time limit (Lambda: 10 s). */
  readonly initLimitMs: number;
  /**
   * Account concurrency: the limit, the concurrency set aside (reservations, and provisioned
   * concurrency of functions without one), and a function's provisioned concurrency.
   */
  readonly concurrency: {
    readonly accountLimit: number;
    readonly reservedTotal: () => number;
    readonly provisionedOf: (functionName: string) => number;
  };
  /** Hears how each invocation ended, and each throttle. */
  readonly observer?: InvocationObserver | undefined;
}

/** An admitted request: what the record of its invocation is made from, and its release. */
interface Admitted {
  readonly request: InvokeRequest;
  readonly resolved: ResolvedFunction;
  readonly receivedMs: number;
  readonly provisioned: boolean;
  readonly release: () => void;
}

/** A new environment and how its init went. */
export type CreatedEnvironment =
  | { readonly ok: true; readonly env: ExecutionEnvironment }
  | {
      readonly ok: false;
      readonly outcome: InvocationOutcome;
      /** How long the failed init ran (none when it never started). */
      readonly initDurationMs?: number | undefined;
    };

export class InvokeService {
  readonly #d: InvokeServiceDeps;
  /** Invocations running now, per function; on provisioned concurrency; on the unreserved pool. */
  readonly #inFlight = new Map<string, number>();
  readonly #provisionedInFlight = new Map<string, number>();
  #unreservedInFlight = 0;

  constructor(deps: InvokeServiceDeps) {
    this.#d = deps;
  }

  /**
   * Invocations running now: per function, on provisioned concurrency per function, and on the
   * unreserved pool (ConcurrentExecutions, ProvisionedConcurrentExecutions,
   * UnreservedConcurrentExecutions). Read when metrics are collected, never per invoke.
   */
  concurrencyNow(): {
    readonly byFunction: ReadonlyMap<string, number>;
    readonly provisionedByFunction: ReadonlyMap<string, number>;
    readonly unreserved: number;
  } {
    return {
      byFunction: new Map(this.#inFlight),
      provisionedByFunction: new Map(this.#provisionedInFlight),
      unreserved: this.#unreservedInFlight,
    };
  }

  /** Checks that the function exists and can run (DryRun). */
  async check(functionName: string, qualifier: string | undefined): Promise<string> {
    return (await this.#d.resolver.resolve(functionName, qualifier)).version.version;
  }

  async invoke(request: InvokeRequest): Promise<InvokeResult> {
    return this.#invoke(request, false);
  }

  /**
   * As `invoke`, but resolves only once the invocation has completed and given its concurrency
   * back: the asynchronous queue frees its slot for the function then, so that the next event it
   * claims for the function is not throttled by the one before.
   */
  async invokeToEnd(request: InvokeRequest): Promise<InvokeResult> {
    return this.#invoke(request, true);
  }

  async #invoke(request: InvokeRequest, toEnd: boolean): Promise<InvokeResult> {
    const admitted = await this.#admitted(request);
    let run: { result: InvokeResult; completed: Promise<void> };
    try {
      run = await this.#run(admitted);
    } catch (error) {
      admitted.release();
      this.#refusedForRoom(admitted, error);
      throw error;
    }
    // Extensions may still be working on the invocation: it holds its concurrency until then.
    const released = run.completed.finally(admitted.release);
    if (toEnd) await released;
    return run.result;
  }

  /** Resolves the function and admits the request (429 otherwise, which the observer hears of). */
  async #admitted(request: InvokeRequest): Promise<Admitted> {
    const receivedMs = this.#d.clock.now();
    const resolved = await this.#d.resolver.resolve(request.functionName, request.qualifier);
    try {
      return { request, resolved, receivedMs, ...this.#admit(resolved) };
    } catch (error) {
      this.#throttled(request, resolved, receivedMs);
      throw error;
    }
  }

  #throttled(request: InvokeRequest, resolved: ResolvedFunction, atMs: number): void {
    this.#d.observer?.throttled({
      functionName: resolved.record.name,
      // As named in the function name (`fn:alias`) or the Qualifier parameter.
      qualifier: resolved.ref.qualifier,
      trigger: request.trigger ?? 'sync',
      atMs,
    });
  }

  /** An admitted request the pool had no room for (429 after waiting) is a throttle too. */
  #refusedForRoom(admitted: Admitted, error: unknown): void {
    if (error instanceof LambdaError && error.code === 'TooManyRequestsException')
      this.#throttled(admitted.request, admitted.resolved, admitted.receivedMs);
  }

  /** Tells the observer how an invocation that reached its environment ended. */
  #ended(admitted: Admitted, traceHeader: string, done: InvocationDone, endMs: number): void {
    const observer = this.#d.observer;
    if (observer === undefined) return;
    const { figures, outcome } = done;
    observer.ended(
      reportOf(admitted, traceHeader, endMs, {
        startMs: done.startMs,
        initDurationMs: figures.initDurationMs,
        durationMs: figures.durationMs,
        billedDurationMs: billedMs(figures.durationMs),
        maxMemoryUsedMiB: figures.maxMemoryUsedMiB,
        // REPORT's status: an extension or the runtime failing during post-processing turns an
        // answered invocation into an error after its caller had the answer.
        outcome:
          figures.status === 'timeout'
            ? 'timeout'
            : figures.status === 'error' || outcome.kind !== 'success'
              ? 'error'
              : 'success',
        errorType:
          figures.errorType ?? (outcome.kind === 'function-error' ? outcome.errorType : undefined),
      }),
    );
  }

  /** Tells the observer of an invocation whose environment failed to start (its init failed). */
  #failedStart(
    admitted: Admitted,
    failed: Extract<CreatedEnvironment, { ok: false }>,
    traceHeader: string,
  ): void {
    const observer = this.#d.observer;
    if (observer === undefined) return;
    const now = this.#d.clock.now();
    const { outcome } = failed;
    observer.ended(
      reportOf(admitted, traceHeader, now, {
        startMs: now,
        initDurationMs: failed.initDurationMs,
        durationMs: 0,
        billedDurationMs: 0,
        maxMemoryUsedMiB: 0,
        outcome: 'error',
        errorType: outcome.kind === 'function-error' ? outcome.errorType : undefined,
      }),
    );
  }

  /**
   * Invokes with the response streamed (InvokeWithResponseStream, RESPONSE_STREAM function URLs):
   * resolves once the function starts its response, or failed before that; errors before the
   * invocation runs (not found, throttled) are thrown, as for `invoke`. The concurrency slot and
   * the environment are held until `completion` settles.
   */
  async invokeStreaming(request: InvokeRequest): Promise<StreamingInvocation> {
    const admitted = await this.#admitted(request);
    const { resolved, release } = admitted;
    const executedVersion = resolved.version.version;
    const { requestId } = request;
    try {
      const acquired = await this.#acquire(requestId, resolved);
      const event = this.#event(request, resolved);
      if (!acquired.ok) {
        this.#failedStart(admitted, acquired, event.traceId);
        release();
        return {
          requestId,
          executedVersion,
          contentType: undefined,
          body: noChunks(),
          completion: Promise.resolve({
            error: streamErrorOf(acquired.outcome),
            logTail: undefined,
          }),
        };
      }
      const env = acquired.env;
      const done = () => {
        this.#d.pool.release(env);
        release();
      };
      let stream: EnvironmentStream;
      try {
        stream = await env.invokeStreaming(event, request.logTail);
      } catch (error) {
        done();
        throw error;
      }
      const completion = stream.done.then(
        (ended) => {
          done();
          this.#ended(admitted, event.traceId, ended, this.#d.clock.now());
          return { error: streamErrorOf(ended.outcome), logTail: ended.logTail };
        },
        (error: unknown) => {
          done();
          const message = error instanceof Error ? error.message : String(error);
          return {
            error: streamErrorOf(platformErrorOutcome(requestId, 'ServiceException', message)),
            logTail: undefined,
          };
        },
      );
      return {
        requestId,
        executedVersion,
        contentType: stream.contentType,
        body: stream.body,
        completion,
      };
    } catch (error) {
      release();
      this.#refusedForRoom(admitted, error);
      throw error;
    }
  }

  /**
   * Admits one invocation under the concurrency limits (429 otherwise); returns its release and
   * whether it runs on provisioned concurrency.
   */
  #admit(resolved: ResolvedFunction): { release: () => void; provisioned: boolean } {
    const name = resolved.record.name;
    const reserved = resolved.record.reservedConcurrency;
    const decision = admit({
      reserved,
      functionInFlight: this.#inFlight.get(name) ?? 0,
      provisioned: reserved === undefined ? this.#d.concurrency.provisionedOf(name) : 0,
      provisionedInFlight: this.#provisionedInFlight.get(name) ?? 0,
      unreservedInFlight: this.#unreservedInFlight,
      accountLimit: this.#d.concurrency.accountLimit,
      reservedTotal: this.#d.concurrency.reservedTotal(),
    });
    if ('refused' in decision) {
      throw new LambdaError('TooManyRequestsException', 'Rate Exceeded.', {
        reason: decision.refused,
        retryAfterSeconds: 1,
      });
    }
    increment(this.#inFlight, name, 1);
    if (decision.lane === 'provisioned') increment(this.#provisionedInFlight, name, 1);
    if (decision.lane === 'unreserved') this.#unreservedInFlight += 1;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      increment(this.#inFlight, name, -1);
      if (decision.lane === 'provisioned') increment(this.#provisionedInFlight, name, -1);
      if (decision.lane === 'unreserved') this.#unreservedInFlight -= 1;
    };
    return { release, provisioned: decision.lane === 'provisioned' };
  }

  /**
   * Runs the invocation; `completed` settles once the environment is done with it (after the
   * extensions' post-processing), when the environment has gone back to the pool.
   */
  async #run(admitted: Admitted): Promise<{ result: InvokeResult; completed: Promise<void> }> {
    const { request, resolved } = admitted;
    const { requestId } = request;
    const executedVersion = resolved.version.version;
    const acquired = await this.#acquire(requestId, resolved);
    const event = this.#event(request, resolved);
    if (!acquired.ok) {
      this.#failedStart(admitted, acquired, event.traceId);
      return {
        result: { requestId, executedVersion, outcome: acquired.outcome, logTail: undefined },
        completed: Promise.resolve(),
      };
    }
    const env = acquired.env;
    let invoked: Awaited<ReturnType<ExecutionEnvironment['invoke']>>;
    try {
      invoked = await env.invoke(event, request.logTail);
    } catch (error) {
      this.#d.pool.release(env);
      throw error;
    }
    const answeredMs = this.#d.clock.now();
    const completed = invoked.completed
      .then((done) => this.#ended(admitted, event.traceId, done, answeredMs))
      .catch(() => undefined)
      .finally(() => this.#d.pool.release(env));
    const { outcome, logTail } = invoked;
    return { result: { requestId, executedVersion, outcome, logTail }, completed };
  }

  /** A warm environment of the function, or a new one (or the init error it failed with). */
  async #acquire(requestId: string, resolved: ResolvedFunction): Promise<CreatedEnvironment> {
    const { record, version } = resolved;
    const taken = await this.#d.pool.acquire(
      environmentKey(resolved),
      lineageOf({ functionName: record.name, version: version.version }),
      version.settings.memoryMiB,
    );
    if (!isReservation(taken)) return { ok: true, env: taken };
    return this.create(resolved, 'on-demand', requestId, taken);
  }

  /** What the runtime receives for this request. */
  #event(request: InvokeRequest, resolved: ResolvedFunction): InvocationEvent {
    const now = this.#d.clock.now();
    return {
      requestId: request.requestId,
      payload: request.payload.length === 0 ? Buffer.from('{}') : request.payload,
      deadlineMs: now + resolved.version.settings.timeoutSeconds * 1000,
      invokedFunctionArn: functionArn(this.#d.scope, resolved.record.name, resolved.ref.qualifier),
      traceId: traceId(request, resolved.version.settings, now),
      clientContext: request.clientContext,
    };
  }

  /**
   * Creates and initialises an environment for the function in the room `reservation` holds: a
   * pre-started sandbox is specialised when one fits, else a new one boots. The reservation is
   * committed to the environment, or cancelled when none could be made; a failed init reports the
   * error the invocation returns (the environment is dead, and its room given back).
   */
  async create(
    resolved: ResolvedFunction,
    initializationType: InitializationType,
    requestId: string,
    reservation: Reservation,
  ): Promise<CreatedEnvironment> {
    const settings = resolved.version.settings;
    const key = environmentKey(resolved);
    let base: RuntimeLaunch;
    try {
      base =
        resolved.image === undefined
          ? this.#d.launcher.launch(settings.runtime, this.#d.runtimeVersion?.(settings))
          : imageLaunch(resolved.image, settings);
    } catch (error) {
      // A runtime whose releases were all removed: the room held for the environment goes back.
      reservation.cancel();
      throw error;
    }
    const choice = await launchFor(base, resolved);
    if (!choice.ok) {
      reservation.cancel();
      return {
        ok: false,
        outcome: platformErrorOutcome(
          requestId,
          choice.errorType ?? 'Runtime.InvalidEntrypoint',
          choice.message,
        ),
      };
    }
    const launch = choice.launch;
    let env: ExecutionEnvironment | undefined;
    try {
      env = await this.#specialise(resolved, key, launch, initializationType, reservation);
      env ??= await this.#d.factory.coldStart(
        resolved,
        key,
        launch,
        initializationType,
        reservation,
      );
    } finally {
      reservation.cancel();
    }
    const init = await env.init(this.#d.initLimitMs);
    if (init.ok) return { ok: true, env };
    return {
      ok: false,
      initDurationMs: init.durationMs,
      outcome:
        init.payload === undefined
          ? platformErrorOutcome(requestId, init.errorType, init.message)
          : { kind: 'function-error', errorType: init.errorType, payload: init.payload },
    };
  }

  async #specialise(
    resolved: ResolvedFunction,
    key: string,
    launch: RuntimeLaunch,
    initializationType: InitializationType,
    reservation: Reservation,
  ): Promise<ExecutionEnvironment | undefined> {
    const family = prestartFamily(launch);
    const prestarted = this.#d.prestarted;
    if (family === undefined || prestarted === undefined || !canSpecialise(resolved)) return;
    prestarted.register(family, launch);
    const booted = prestarted.take(family);
    if (booted === undefined) return undefined;
    return this.#d.factory.specialise(
      booted,
      resolved,
      key,
      launch,
      initializationType,
      reservation,
    );
  }

  /**
   * A function, or one of its versions, was deleted: its environments end (idle ones at once).
   * Returns how many.
   */
  retire(functionName: string, version?: string): Promise<number> {
    return this.#d.pool.retire(functionName, version);
  }

  /** No alias routes to a version any more: its idle environments end. Returns how many. */
  retireUnrouted(functionName: string, version: string): Promise<number> {
    return this.#d.pool.retireIdle(functionName, version);
  }

  /** Reaps idle environments; returns how many were stopped. */
  reapIdle(idleMs: number): Promise<number> {
    return this.#d.pool.reapIdle(idleMs);
  }

  /** Retires environments made `maxAgeMs` or longer ago; returns how many. */
  retireAged(maxAgeMs: number): Promise<number> {
    return this.#d.pool.retireAged(maxAgeMs);
  }

  /** Stops every environment. */
  async stop(): Promise<void> {
    await this.#d.prestarted?.stop();
    await this.#d.pool.stopAll();
  }
}

/** The figures of an invocation that differ between one that ran and one that never started. */
type RunFigures = Pick<
  InvocationReport,
  | 'startMs'
  | 'initDurationMs'
  | 'durationMs'
  | 'billedDurationMs'
  | 'maxMemoryUsedMiB'
  | 'outcome'
  | 'errorType'
>;

function reportOf(
  admitted: Admitted,
  traceHeader: string,
  endMs: number,
  run: RunFigures,
): InvocationReport {
  const { request, resolved } = admitted;
  const { settings } = resolved.version;
  return {
    requestId: request.requestId,
    functionName: resolved.record.name,
    executedVersion: resolved.version.version,
    // As named in the function name (`fn:alias`) or the Qualifier parameter.
    qualifier: resolved.ref.qualifier,
    trigger: request.trigger ?? 'sync',
    receivedMs: admitted.receivedMs,
    endMs,
    cold: run.initDurationMs !== undefined,
    memorySizeMiB: settings.memoryMiB,
    architecture: settings.architecture,
    traceHeader,
    callerSpanId: parseXRayHeader(request.traceHeader)?.parentId,
    provisioned: admitted.provisioned,
    ...run,
  };
}

/** The body of an invocation that failed before it responded. */
function noChunks(): AsyncIterable<Buffer> {
  return Readable.from([]);
}

function increment(counts: Map<string, number>, name: string, by: number): void {
  const value = (counts.get(name) ?? 0) + by;
  if (value === 0) counts.delete(name);
  else counts.set(name, value);
}

/**
 * Environments are reused only for the same function, version, code and configuration. A version's
 * LastModified changes with every code or configuration update (published versions never change),
 * so it stands for the configuration without hashing it on every invoke.
 */
export function environmentKey(resolved: ResolvedFunction): string {
  const { record, version } = resolved;
  // A new runtime management setting (a pinned version) takes effect in new environments.
  const management = version.settings.runtimeManagement;
  const runtime =
    management === undefined
      ? ''
      : `${management.updateRuntimeOn}:${management.runtimeVersionArn ?? ''}`;
  return `${record.name}\u0000${version.version}\u0000${resolved.codeDir}\u0000${version.lastModifiedMs}\u0000${runtime}`;
}

/**
 * The invocation's X-Ray trace header: the caller's trace continued (a new one without) under a
 * new Parent, sampled as the function's TracingConfig says (core/trace-context.ts).
 */
function traceId(request: InvokeRequest, settings: FunctionSettings, nowMs: number): string {
  return invocationTraceHeader(request.traceHeader, settings.tracingMode, nowMs, randomHex);
}
