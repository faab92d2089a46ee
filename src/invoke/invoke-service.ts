/**
 * Synchronous invocation: resolve the function, admit it under the concurrency limits, take a warm
 * environment of that exact version and configuration or create one (specialise a pre-started
 * sandbox, else cold-start a new one), deliver the event, and return the runtime's answer with
 * Lambda's semantics (function errors are values, not exceptions).
 */
import type { FunctionSettings } from '../core/function-model.js';
import { randomFillSync } from 'node:crypto';
import { Readable } from 'node:stream';
import { admit } from '../core/admission.js';
import { functionArn, type Scope } from '../core/arn.js';
import { LambdaError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { InvocationEvent } from '../core/runtime-protocol.js';
import { launchFor } from '../environment/launch-command.js';
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
  type InvocationOutcome,
} from '../environment/execution-environment.js';
import type { PrestartedPool } from '../environment/prestarted-pool.js';
import { isReservation, type Reservation } from '../environment/reservation.js';
import { streamErrorOf, type StreamingInvocation } from '../environment/streaming-invocation.js';
import type { ResolvedFunction, RuntimeLauncher, RuntimeLaunch } from '../environment/ports.js';
import type { FunctionResolver } from './ports.js';

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
}

/** A new environment and how its init went. */
export type CreatedEnvironment =
  | { readonly ok: true; readonly env: ExecutionEnvironment }
  | { readonly ok: false; readonly outcome: InvocationOutcome };

export class InvokeService {
  readonly #d: InvokeServiceDeps;
  /** Invocations running now, per function; on provisioned concurrency; on the unreserved pool. */
  readonly #inFlight = new Map<string, number>();
  readonly #provisionedInFlight = new Map<string, number>();
  #unreservedInFlight = 0;

  constructor(deps: InvokeServiceDeps) {
    this.#d = deps;
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
    const resolved = await this.#d.resolver.resolve(request.functionName, request.qualifier);
    const release = this.#admit(resolved);
    let run: { result: InvokeResult; completed: Promise<void> };
    try {
      run = await this.#run(request, resolved);
    } catch (error) {
      release();
      throw error;
    }
    // Extensions may still be working on the invocation: it holds its concurrency until then.
    const released = run.completed.finally(release);
    if (toEnd) await released;
    return run.result;
  }

  /**
   * Invokes with the response streamed (InvokeWithResponseStream, RESPONSE_STREAM function URLs):
   * resolves once the function starts its response, or failed before that; errors before the
   * invocation runs (not found, throttled) are thrown, as for `invoke`. The concurrency slot and
   * the environment are held until `completion` settles.
   */
  async invokeStreaming(request: InvokeRequest): Promise<StreamingInvocation> {
    const resolved = await this.#d.resolver.resolve(request.functionName, request.qualifier);
    const release = this.#admit(resolved);
    const executedVersion = resolved.version.version;
    const { requestId } = request;
    try {
      const acquired = await this.#acquire(requestId, resolved);
      if (!acquired.ok) {
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
        stream = await env.invokeStreaming(this.#event(request, resolved), request.logTail);
      } catch (error) {
        done();
        throw error;
      }
      const completion = stream.done.then(
        ({ outcome, logTail }) => {
          done();
          return { error: streamErrorOf(outcome), logTail };
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
      throw error;
    }
  }

  /** Admits one invocation under the concurrency limits (429 otherwise); returns its release. */
  #admit(resolved: ResolvedFunction): () => void {
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
    return () => {
      if (released) return;
      released = true;
      increment(this.#inFlight, name, -1);
      if (decision.lane === 'provisioned') increment(this.#provisionedInFlight, name, -1);
      if (decision.lane === 'unreserved') this.#unreservedInFlight -= 1;
    };
  }

  /**
   * Runs the invocation; `completed` settles once the environment is done with it (after the
   * extensions' post-processing), when the environment has gone back to the pool.
   */
  async #run(
    request: InvokeRequest,
    resolved: ResolvedFunction,
  ): Promise<{ result: InvokeResult; completed: Promise<void> }> {
    const { requestId } = request;
    const executedVersion = resolved.version.version;
    const acquired = await this.#acquire(requestId, resolved);
    if (!acquired.ok) {
      return {
        result: { requestId, executedVersion, outcome: acquired.outcome, logTail: undefined },
        completed: Promise.resolve(),
      };
    }
    const env = acquired.env;
    let invoked: Awaited<ReturnType<ExecutionEnvironment['invoke']>>;
    try {
      invoked = await env.invoke(this.#event(request, resolved), request.logTail);
    } catch (error) {
      this.#d.pool.release(env);
      throw error;
    }
    const completed = invoked.completed
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
      traceId: traceId(now),
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

/** An X-Ray style trace header: `Root=1-<time>-<24 hex>;Parent=<16 hex>;Sampled=0`. */
function traceId(nowMs: number): string {
  const time = Math.floor(nowMs / 1000)
    .toString(16)
    .padStart(8, '0');
  return `Root=1-${time}-${randomHex(12)};Parent=${randomHex(8)};Sampled=0`;
}

/** Random bytes for trace ids, drawn from a pool refilled 4 KiB at a time (one call per ~200 ids). */
const randomPool = Buffer.alloc(4096);
let randomUsed = randomPool.length;

function randomHex(bytes: number): string {
  if (randomUsed + bytes > randomPool.length) {
    randomFillSync(randomPool);
    randomUsed = 0;
  }
  randomUsed += bytes;
  return randomPool.toString('hex', randomUsed - bytes, randomUsed);
}
