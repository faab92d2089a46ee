/**
 * Creates execution environments. A cold start boots a new sandbox for one function. A
 * specialisation binds a function to a pre-started generic sandbox whose runtime has already
 * booted: the function's code is linked into the sandbox's /var/task, the memory limit is set to
 * the function's size, and the waiting runtime receives the function's environment.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Scope } from '../core/arn.js';
import type { Clock } from '../core/clock.js';
import type { ColocationPolicy } from './colocation-policy.js';
import type { EnvironmentPool } from './environment-pool.js';
import { environmentVariables, prestartVariables } from './environment-variables.js';
import { ExecutionEnvironment } from './execution-environment.js';
import { ExtensionRegistry } from './extension-registry.js';
import { TelemetryHub } from './telemetry-hub.js';
import { initStartRecord } from './telemetry-records.js';
import { linkTree } from './link-tree.js';
import { logStreamName } from './platform-log.js';
import { systemLogSettings } from './platform-records.js';
import type {
  LaminaApiAccess,
  LogSink,
  ResolvedFunction,
  RuntimeChannel,
  RuntimeChannelFactory,
  RuntimeLaunch,
  TelemetrySenderFactory,
} from './ports.js';
import type { Sandbox, SandboxDriver } from './sandbox-driver.js';

export type InitializationType = 'on-demand' | 'provisioned-concurrency';

export interface EnvironmentFactoryDeps {
  readonly scope: Scope;
  readonly sandboxes: SandboxDriver;
  readonly channels: RuntimeChannelFactory;
  readonly logs: LogSink;
  readonly clock: Clock;
  readonly pool: EnvironmentPool;
  readonly runtimeVersionArn: (runtime: string) => string;
  /** World-searchable folder for per-environment sockets. */
  readonly runDir: string;
  /**
   * Folder for the /var/task of pre-started sandboxes, on the same file system as the extracted
   * code (the code is hard-linked into it) and reachable by the sandbox's uid.
   */
  readonly slotsDir: string;
  readonly laminaApi?: LaminaApiAccess | undefined;
  /** How long a pre-started runtime may take to boot (ms). */
  readonly bootLimitMs: number;
  /** Delivers telemetry into an environment (none: subscriptions receive nothing). */
  readonly telemetrySenders?: TelemetrySenderFactory | undefined;
  /** Places lone invocations' environments on the server's CPU (none: never). */
  readonly placement?: ColocationPolicy | undefined;
}

/** A generic sandbox whose runtime has booted and waits for its function. */
export interface BootedSandbox {
  readonly id: string;
  /** Which launches it can serve (see `prestartFamily`). */
  readonly family: string;
  readonly sandbox: Sandbox;
  readonly channel: RuntimeChannel;
  readonly envDir: string;
  readonly slotDir: string;
  readonly output: OutputRoute;
}

/** Where an environment's output lines go; lines printed before it exists are kept. */
interface OutputRoute {
  env?: ExecutionEnvironment;
  readonly early: Array<{ readonly line: string; readonly extension: boolean }>;
}

/** Launches that a pre-started sandbox of one family can serve share the command it booted. */
export function prestartFamily(launch: RuntimeLaunch): string | undefined {
  return launch.prestart ? launch.command.join(' ') : undefined;
}

/** Variables that change how the runtime process starts; functions setting them boot their own. */
const BOOT_VARIABLES = /^(NODE_|PYTHON|LD_|AWS_LAMBDA_EXEC_WRAPPER$)/;

/** The ephemeral storage (MiB) pre-started sandboxes get: Lambda's default. */
export const PRESTART_STORAGE_MIB = 512;
/** The memory limit of a pre-started sandbox until it is specialised. */
const PRESTART_MEMORY_MIB = 1769;
const EARLY_LINES = 200;

/**
 * Whether a function can take a pre-started sandbox instead of booting its own. Functions with
 * layers boot their own: /opt is mounted when a sandbox starts, and a runtime reads layer paths
 * (NODE_PATH, sys.path) as it boots.
 */
export function canSpecialise(resolved: ResolvedFunction): boolean {
  const settings = resolved.version.settings;
  if (settings.ephemeralStorageMiB !== PRESTART_STORAGE_MIB) return false;
  if (settings.layers.length > 0) return false;
  return !Object.keys(settings.environment ?? {}).some((name) => BOOT_VARIABLES.test(name));
}

export class EnvironmentFactory {
  readonly #d: EnvironmentFactoryDeps;

  constructor(deps: EnvironmentFactoryDeps) {
    this.#d = deps;
  }

  /** Boots a new sandbox for the function (its memory was reserved in the pool). */
  async coldStart(
    resolved: ResolvedFunction,
    key: string,
    launch: RuntimeLaunch,
    initializationType: InitializationType,
  ): Promise<ExecutionEnvironment> {
    const { settings } = resolved.version;
    const id = randomBytes(16).toString('hex');
    const envDir = await this.#envDir(id);
    try {
      const socketPath = join(envDir, 'runtime.sock');
      const channel = await this.#d.channels(socketPath);
      const logStream = logStreamName(this.#d.clock.now(), resolved.version.version, id);
      const route: OutputRoute = { early: [] };
      const sandbox = await this.#d.sandboxes.start({
        id,
        codeDir: resolved.codeDir,
        optDir: resolved.optDir,
        runtimeDir: launch.runtimeDir,
        langDir: launch.langDir,
        command: launch.command,
        env: this.#variables(resolved, launch, logStream, initializationType),
        memoryMiB: settings.memoryMiB,
        ephemeralStorageMiB: settings.ephemeralStorageMiB,
        runtimeApiSocket: socketPath,
        laminaApiSocket: this.#d.laminaApi?.socketPath,
        onOutput: routeLine(route, false),
        onExtensionOutput: routeLine(route, true),
      });
      return this.#environment(resolved, key, launch, {
        id,
        sandbox,
        channel,
        logStream,
        route,
        initializationType,
        cleanup: () => rm(envDir, { recursive: true, force: true }),
      });
    } catch (error) {
      await rm(envDir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Starts a generic sandbox for a family of launches and resolves once its runtime waits for a
   * function (rejects if it exits or does not boot in time).
   */
  async prestart(launch: RuntimeLaunch): Promise<BootedSandbox> {
    const family = prestartFamily(launch);
    if (family === undefined) throw new Error('this runtime cannot be pre-started');
    const id = randomBytes(16).toString('hex');
    const envDir = await this.#envDir(id);
    const slotDir = join(this.#d.slotsDir, id);
    const route: OutputRoute = { early: [] };
    let sandbox: Sandbox | undefined;
    let channel: RuntimeChannel | undefined;
    try {
      await mkdir(slotDir, { recursive: true, mode: 0o755 });
      await chmod(slotDir, 0o755);
      const socketPath = join(envDir, 'runtime.sock');
      channel = await this.#d.channels(socketPath);
      const booted = channel;
      sandbox = await this.#d.sandboxes.start({
        id,
        codeDir: slotDir,
        runtimeDir: launch.runtimeDir,
        langDir: launch.langDir,
        command: launch.command,
        env: prestartVariables(launch.env),
        memoryMiB: PRESTART_MEMORY_MIB,
        ephemeralStorageMiB: PRESTART_STORAGE_MIB,
        runtimeApiSocket: socketPath,
        laminaApiSocket: this.#d.laminaApi?.socketPath,
        onOutput: routeLine(route, false),
        onExtensionOutput: routeLine(route, true),
      });
      const started = sandbox;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('the pre-started runtime did not boot in time')),
          this.#d.bootLimitMs,
        );
        booted.onAssignmentWait(() => {
          clearTimeout(timer);
          resolve();
        });
        void started.exited.then(() => {
          clearTimeout(timer);
          const output = route.early.map((entry) => entry.line).join(' | ');
          reject(new Error(`the pre-started runtime exited: ${output}`));
        });
      });
      return { id, family, sandbox: started, channel: booted, envDir, slotDir, output: route };
    } catch (error) {
      await sandbox?.kill();
      await channel?.close();
      await Promise.all([envDir, slotDir].map((dir) => rm(dir, { recursive: true, force: true })));
      throw error;
    }
  }

  /**
   * Binds a function to a booted sandbox (its memory was reserved in the pool). Undefined when the
   * sandbox cannot take it (it died, or already uses more memory than the function may): the
   * sandbox is then discarded and the caller cold-starts instead.
   */
  async specialise(
    booted: BootedSandbox,
    resolved: ResolvedFunction,
    key: string,
    launch: RuntimeLaunch,
    initializationType: InitializationType,
  ): Promise<ExecutionEnvironment | undefined> {
    const { settings } = resolved.version;
    try {
      await linkTree(resolved.codeDir, booted.slotDir);
      await booted.sandbox.resize(settings.memoryMiB);
    } catch {
      await this.discard(booted);
      return undefined;
    }
    const logStream = logStreamName(this.#d.clock.now(), resolved.version.version, booted.id);
    booted.output.early.splice(0);
    const variables = this.#variables(resolved, launch, logStream, initializationType);
    if (!booted.channel.assign(variables)) {
      await this.discard(booted);
      return undefined;
    }
    return this.#environment(resolved, key, launch, {
      id: booted.id,
      sandbox: booted.sandbox,
      channel: booted.channel,
      logStream,
      route: booted.output,
      initializationType,
      cleanup: () => this.#removeDirs(booted),
    });
  }

  /** Stops a booted sandbox that will not be used. */
  async discard(booted: BootedSandbox): Promise<void> {
    await booted.sandbox.kill();
    await booted.channel.close();
    await this.#removeDirs(booted);
  }

  #environment(
    resolved: ResolvedFunction,
    key: string,
    launch: RuntimeLaunch,
    parts: {
      readonly id: string;
      readonly sandbox: Sandbox;
      readonly channel: RuntimeChannel;
      readonly logStream: string;
      readonly route: OutputRoute;
      readonly initializationType: InitializationType;
      readonly cleanup: () => Promise<void>;
    },
  ): ExecutionEnvironment {
    const { record, version } = resolved;
    const settings = version.settings;
    const clock = this.#d.clock;
    const inbound = parts.sandbox.inboundSocket;
    const telemetry = new TelemetryHub(
      inbound === undefined ? undefined : this.#d.telemetrySenders?.(inbound),
      () => clock.now(),
    );
    const registry = new ExtensionRegistry(
      {
        functionName: record.name,
        functionVersion: version.version,
        handler: settings.handler,
        accountId: this.#d.scope.accountId,
      },
      telemetry,
    );
    parts.channel.attachExtensions(registry);
    parts.sandbox.onExtensionExit((name, code) => registry.exited(name, code));
    const environment = new ExecutionEnvironment(
      {
        id: parts.id,
        key,
        functionName: record.name,
        version: version.version,
        memoryMiB: settings.memoryMiB,
        timeoutSeconds: settings.timeoutSeconds,
        logGroup: settings.logging.logGroup,
        logStream: parts.logStream,
        systemLog: systemLogSettings(settings.logging),
        provisioned: parts.initializationType === 'provisioned-concurrency',
      },
      parts.sandbox,
      parts.channel,
      this.#d.logs,
      this.#d.clock,
      (dead) => {
        this.#d.pool.forget(dead);
        void parts.cleanup();
      },
      { registry, telemetry, initializationType: parts.initializationType },
      this.#d.placement,
    );
    parts.route.env = environment;
    this.#d.pool.add(environment);
    const runtimeVersionArn = this.#d.runtimeVersionArn(settings.runtime);
    environment.platform({
      kind: 'initStart',
      runtimeVersion: launch.runtimeVersion,
      runtimeVersionArn,
      initializationType: parts.initializationType,
      functionName: record.name,
      functionVersion: version.version,
    });
    telemetry.emit(
      'platform',
      'platform.initStart',
      initStartRecord({
        initializationType: parts.initializationType,
        runtimeVersion: launch.runtimeVersion,
        runtimeVersionArn,
        functionName: record.name,
        functionVersion: version.version,
      }),
    );
    for (const { line, extension } of parts.route.early.splice(0)) {
      if (extension) environment.extensionOutput(line);
      else environment.output(line);
    }
    return environment;
  }

  #variables(
    resolved: ResolvedFunction,
    launch: RuntimeLaunch,
    logStream: string,
    initializationType: InitializationType,
  ): Record<string, string> {
    const access = this.#d.laminaApi;
    return environmentVariables({
      functionName: resolved.record.name,
      version: resolved.version.version,
      region: this.#d.scope.region,
      settings: resolved.version.settings,
      logStreamName: logStream,
      initializationType,
      runtimeEnv: launch.env,
      credentials: access?.credentialsFor(resolved.record.name),
      laminaEndpoint: access === undefined ? undefined : 'http://127.0.0.1:9002',
    });
  }

  async #envDir(id: string): Promise<string> {
    const envDir = join(this.#d.runDir, 'envs', id);
    await mkdir(envDir, { recursive: true, mode: 0o711 });
    await chmod(envDir, 0o711);
    return envDir;
  }

  async #removeDirs(booted: BootedSandbox): Promise<void> {
    await Promise.all(
      [booted.envDir, booted.slotDir].map((dir) => rm(dir, { recursive: true, force: true })),
    );
  }
}

function routeLine(route: OutputRoute, extension: boolean): (line: string) => void {
  return (line) => {
    if (route.env === undefined) {
      if (route.early.length < EARLY_LINES) route.early.push({ line, extension });
    } else if (extension) route.env.extensionOutput(line);
    else route.env.output(line);
  };
}
