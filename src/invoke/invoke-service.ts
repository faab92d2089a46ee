/**
 * Synchronous invocation: resolve the function, take a warm environment of that exact version and
 * configuration or start one (cold start: sandbox + runtime init), deliver the event, and return
 * the runtime's answer with Lambda's semantics (function errors are values, not exceptions).
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { admissionRefusal } from '../core/admission.js';
import { functionArn, type Scope } from '../core/arn.js';
import { LambdaError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { environmentVariables } from './environment-variables.js';
import type { EnvironmentPool } from './environment-pool.js';
import {
  ExecutionEnvironment,
  platformErrorOutcome,
  type InvocationOutcome,
} from './execution-environment.js';
import { initStartLine, logStreamName } from './platform-log.js';
import type {
  FunctionResolver,
  LogSink,
  ResolvedFunction,
  RuntimeChannelFactory,
  RuntimeLauncher,
  RuntimeLaunch,
} from './ports.js';
import type { SandboxDriver } from './sandbox-driver.js';

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
  readonly sandboxes: SandboxDriver;
  readonly channels: RuntimeChannelFactory;
  readonly launcher: RuntimeLauncher;
  readonly logs: LogSink;
  readonly clock: Clock;
  /** `RuntimeVersionArn` of a runtime, as GetFunction reports it (used in INIT_START). */
  readonly runtimeVersionArn: (runtime: string) => string;
  /** World-searchable folder for per-environment sockets. */
  readonly runDir: string;
  /** Init time limit (Lambda: 10 s). */
  readonly initLimitMs: number;
  /** Account concurrency: the limit and the sum of all reservations (kept current elsewhere). */
  readonly concurrency: { readonly accountLimit: number; readonly reservedTotal: () => number };
  /** The Lamina API as seen from inside environments, with the function's credentials. */
  readonly laminaApi?: LaminaApiAccess | undefined;
}

/** Lets code inside an environment call the Lamina API with credentials scoped to its function. */
export interface LaminaApiAccess {
  /** Host unix socket relayed to 127.0.0.1:9002 inside the jail. */
  readonly socketPath: string;
  readonly credentialsFor: (functionName: string) => {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken: string;
  };
}

export class InvokeService {
  readonly #d: InvokeServiceDeps;
  /** Invocations running now, per function, and for functions without reserved concurrency. */
  readonly #inFlight = new Map<string, number>();
  #unreservedInFlight = 0;

  constructor(deps: InvokeServiceDeps) {
    this.#d = deps;
  }

  /** Checks that the function exists and can run (DryRun). */
  async check(functionName: string, qualifier: string | undefined): Promise<string> {
    return (await this.#d.resolver.resolve(functionName, qualifier)).version.version;
  }

  async invoke(request: InvokeRequest): Promise<InvokeResult> {
    const resolved = await this.#d.resolver.resolve(request.functionName, request.qualifier);
    const name = resolved.record.name;
    const reserved = resolved.record.reservedConcurrency;
    const refusal = admissionRefusal({
      reserved,
      functionInFlight: this.#inFlight.get(name) ?? 0,
      unreservedInFlight: this.#unreservedInFlight,
      accountLimit: this.#d.concurrency.accountLimit,
      reservedTotal: this.#d.concurrency.reservedTotal(),
    });
    if (refusal !== undefined) {
      throw new LambdaError('TooManyRequestsException', 'Rate Exceeded.', {
        reason: refusal,
        retryAfterSeconds: 1,
      });
    }
    this.#inFlight.set(name, (this.#inFlight.get(name) ?? 0) + 1);
    if (reserved === undefined) this.#unreservedInFlight += 1;
    try {
      return await this.#run(request, resolved);
    } finally {
      const left = (this.#inFlight.get(name) ?? 1) - 1;
      if (left === 0) this.#inFlight.delete(name);
      else this.#inFlight.set(name, left);
      if (reserved === undefined) this.#unreservedInFlight -= 1;
    }
  }

  async #run(request: InvokeRequest, resolved: ResolvedFunction): Promise<InvokeResult> {
    const { record, version } = resolved;
    const key = environmentKey(resolved);
    const requestId = request.requestId;
    const failed = (outcome: InvocationOutcome): InvokeResult => ({
      requestId,
      executedVersion: version.version,
      outcome,
      logTail: undefined,
    });
    let env = await this.#d.pool.acquire(key, record.name, version.settings.memoryMiB);
    if (env === undefined) {
      const launch = this.#d.launcher.launch(version.settings.runtime, version.settings.handler);
      const missing = await missingEntrypoint(launch, resolved.codeDir);
      if (missing !== undefined) {
        this.#d.pool.unreserve(version.settings.memoryMiB);
        return failed(platformErrorOutcome(requestId, 'Runtime.InvalidEntrypoint', missing));
      }
      env = await this.#coldStart(resolved, key, launch);
      const init = await env.init(this.#d.initLimitMs).finally(() => this.#d.pool.coldStartDone());
      if (!init.ok) {
        return failed(
          init.payload === undefined
            ? platformErrorOutcome(requestId, init.errorType, init.message)
            : { kind: 'function-error', errorType: init.errorType, payload: init.payload },
        );
      }
    }
    const now = this.#d.clock.now();
    try {
      const { outcome, logTail } = await env.invoke(
        {
          requestId,
          payload: request.payload.length === 0 ? Buffer.from('{}') : request.payload,
          deadlineMs: now + version.settings.timeoutSeconds * 1000,
          invokedFunctionArn: functionArn(this.#d.scope, record.name, resolved.ref.qualifier),
          traceId: traceId(now),
          clientContext: request.clientContext,
        },
        request.logTail,
      );
      return { requestId, executedVersion: version.version, outcome, logTail };
    } finally {
      this.#d.pool.release(env);
    }
  }

  /** Reaps idle environments; returns how many were stopped. */
  reapIdle(idleMs: number): Promise<number> {
    return this.#d.pool.reapIdle(idleMs);
  }

  /** Stops every environment. */
  stop(): Promise<void> {
    return this.#d.pool.stopAll();
  }

  async #coldStart(
    resolved: ResolvedFunction,
    key: string,
    launch: RuntimeLaunch,
  ): Promise<ExecutionEnvironment> {
    const { record, version } = resolved;
    const settings = version.settings;
    const id = randomBytes(16).toString('hex');
    const envDir = join(this.#d.runDir, 'envs', id);
    try {
      await mkdir(envDir, { recursive: true, mode: 0o711 });
      await chmod(envDir, 0o711);
      const socketPath = join(envDir, 'runtime.sock');
      const channel = await this.#d.channels(socketPath);
      const logStream = logStreamName(this.#d.clock.now(), version.version, id);
      const access = this.#d.laminaApi;
      const env = environmentVariables({
        functionName: record.name,
        version: version.version,
        region: this.#d.scope.region,
        settings,
        logStreamName: logStream,
        initializationType: 'on-demand',
        runtimeEnv: launch.env,
        credentials: access?.credentialsFor(record.name),
        laminaEndpoint: access === undefined ? undefined : 'http://127.0.0.1:9002',
      });
      // Lines printed before the environment object exists are kept and replayed into it.
      const target: { env?: ExecutionEnvironment } = {};
      const early: string[] = [];
      const sandbox = await this.#d.sandboxes.start({
        id,
        codeDir: resolved.codeDir,
        runtimeDir: launch.runtimeDir,
        langDir: launch.langDir,
        command: launch.command,
        env,
        memoryMiB: settings.memoryMiB,
        ephemeralStorageMiB: settings.ephemeralStorageMiB,
        runtimeApiSocket: socketPath,
        laminaApiSocket: access?.socketPath,
        onOutput: (line) => (target.env === undefined ? early.push(line) : target.env.output(line)),
      });
      const environment = new ExecutionEnvironment(
        {
          id,
          key,
          functionName: record.name,
          version: version.version,
          memoryMiB: settings.memoryMiB,
          timeoutSeconds: settings.timeoutSeconds,
          logGroup: settings.logging.logGroup,
          logStream,
        },
        sandbox,
        channel,
        this.#d.logs,
        this.#d.clock,
        (dead) => {
          this.#d.pool.forget(dead);
          void rm(envDir, { recursive: true, force: true });
        },
      );
      target.env = environment;
      this.#d.pool.add(environment);
      environment.log(
        initStartLine(launch.runtimeVersion, this.#d.runtimeVersionArn(settings.runtime)),
      );
      for (const line of early.splice(0)) environment.output(line);
      return environment;
    } catch (error) {
      this.#d.pool.unreserve(settings.memoryMiB);
      await rm(envDir, { recursive: true, force: true });
      throw error;
    }
  }
}

/**
 * Environments are reused only for the same function, version, code and configuration. A version's
 * LastModified changes with every code or configuration update (published versions never change),
 * so it stands for the configuration without hashing it on every invoke.
 */
export function environmentKey(resolved: ResolvedFunction): string {
  const { record, version } = resolved;
  return `${record.name}\u0000${version.version}\u0000${resolved.codeDir}\u0000${version.lastModifiedMs}`;
}

/** Custom runtimes need an executable bootstrap; says what is missing, if anything. */
async function missingEntrypoint(
  launch: RuntimeLaunch,
  codeDir: string,
): Promise<string | undefined> {
  if (launch.entrypoints.length === 0) return undefined;
  for (const entry of launch.entrypoints) {
    try {
      await access(join(codeDir, entry), constants.X_OK);
      return undefined;
    } catch {
      // try the next candidate
    }
  }
  const candidates = launch.entrypoints.map((e) => `/var/task/${e}`).join(' ');
  return `Couldn't find valid bootstrap(s): [${candidates} /opt/bootstrap]`;
}

/** An X-Ray style trace header: `Root=1-<time>-<24 hex>;Parent=<16 hex>;Sampled=0`. */
function traceId(nowMs: number): string {
  const time = Math.floor(nowMs / 1000)
    .toString(16)
    .padStart(8, '0');
  return `Root=1-${time}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
}
