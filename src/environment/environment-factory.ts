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
import {
  environmentVariables,
  OTLP_ADDRESS,
  prestartVariables,
  type EnvironmentInputs,
} from './environment-variables.js';
import { ExecutionEnvironment } from './execution-environment.js';
import { ExtensionRegistry } from './extension-registry.js';
import { TelemetryHub } from './telemetry-hub.js';
import { linkTree } from './link-tree.js';
import { logStreamName } from './platform-log.js';
import { systemLogSettings } from './platform-records.js';
import type {
  EnvironmentEndpoints,
  EnvironmentEndpointsFactory,
  LaminaApiAccess,
  LogSink,
  ResolvedFunction,
  RuntimeLaunch,
} from './ports.js';
import type { Reservation } from './reservation.js';
import type { OutputGate, Sandbox, SandboxDriver } from './sandbox-driver.js';

export type InitializationType = 'on-demand' | 'provisioned-concurrency';

export interface EnvironmentFactoryDeps {
  readonly scope: Scope;
  readonly sandboxes: SandboxDriver;
  /** Opens the host sockets of each new environment. */
  readonly endpoints: EnvironmentEndpointsFactory;
  readonly logs: LogSink;
  readonly clock: Clock;
  /**
   * Folder for the /var/task of pre-started sandboxes, on the same file system as the extracted
   * code (the code is hard-linked into it) and reachable by the sandbox's uid.
   */
  readonly slotsDir: string;
  readonly laminaApi?: LaminaApiAccess | undefined;
  /** How long a pre-started runtime may take to boot (ms). */
  readonly bootLimitMs: number;
  /** Places lone invocations' environments on the server's CPU (none: never). */
  readonly placement?: ColocationPolicy | undefined;
  /**
   * Keeps the code (and layers) an environment runs from being removed until the returned
   * function is called, when the environment has ended (a deleted or updated function's code
   * goes once its last environment has).
   */
  readonly holdCode?: (resolved: ResolvedFunction) => () => Promise<void>;
}

/** A generic sandbox whose runtime has booted and waits for its function. */
export interface BootedSandbox {
  readonly id: string;
  /** Which launches it can serve (see `prestartFamily`). */
  readonly family: string;
  readonly sandbox: Sandbox;
  readonly endpoints: EnvironmentEndpoints;
  readonly slotDir: string;
  readonly output: OutputRoute;
}

/** Where an environment's output lines go; lines printed before it exists are kept. */
interface OutputRoute {
  env?: ExecutionEnvironment;
  readonly early: Array<{ readonly line: string; readonly extension: boolean }>;
}

/**
 * Launches that a pre-started sandbox of one family can serve share the command it booted, the
 * interpreter shown at /var/lang (each runtime version its own) and the runtime's identity.
 */
export function prestartFamily(launch: RuntimeLaunch): string | undefined {
  if (!launch.prestart) return undefined;
  return `${launch.langDir ?? ''}\0${launch.env['AWS_EXECUTION_ENV'] ?? ''}\0${launch.command.join(' ')}`;
}

/** Variables that change how the runtime process starts; functions setting them boot their own. */
const BOOT_VARIABLES = /^(NODE_|PYTHON|LD_|AWS_LAMBDA_EXEC_WRAPPER$)/;

/** The ephemeral storage (MiB) pre-started sandboxes get: Lambda's default. */
export const PRESTART_STORAGE_MIB = 512;
/** The memory limit of a pre-started sandbox until it is specialised. */
const PRESTART_MEMORY_MIB = 1769;
/** Lines kept from before an environment exists (a pre-started runtime's boot), at most. */
const EARLY_LINES = 200;
/** Each kept line's characters, at most (enough for a stack trace). */
const EARLY_LINE_CHARS = 4096;

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

  /**
   * Boots a new sandbox for the function, in the room `reservation` holds (committed to the
   * environment once it exists; left unsettled when the start fails).
   */
  async coldStart(
    resolved: ResolvedFunction,
    key: string,
    launch: RuntimeLaunch,
    initializationType: InitializationType,
    reservation: Reservation,
  ): Promise<ExecutionEnvironment> {
    const { settings } = resolved.version;
    const id = randomBytes(16).toString('hex');
    const endpoints = await this.#d.endpoints(id);
    const letGo = this.#holdCode(resolved);
    const close = () => {
      this.#d.laminaApi?.revoke(id);
      return endpoints.close();
    };
    try {
      const credentials = await this.#credentials(id, resolved, endpoints);
      const logStream = logStreamName(this.#d.clock.now(), resolved.version.version, id);
      const route: OutputRoute = { early: [] };
      const sandbox = await this.#d.sandboxes.start({
        id,
        codeDir: resolved.codeDir,
        optDir: resolved.optDir,
        runtimeDir: launch.runtimeDir,
        modulesDir: launch.modulesDir,
        langDir: launch.langDir,
        rootDir: launch.rootDir,
        workingDirectory: launch.workingDirectory,
        command: launch.command,
        env: this.#variables(
          resolved,
          launch,
          logStream,
          initializationType,
          credentials,
          endpoints,
        ),
        memoryMiB: settings.memoryMiB,
        ephemeralStorageMiB: settings.ephemeralStorageMiB,
        ...sockets(endpoints),
        onOutput: routeLine(route, false),
        onExtensionOutput: routeLine(route, true),
        outputGate: this.#outputGate(),
      });
      return this.#environment(resolved, key, launch, {
        id,
        sandbox,
        endpoints,
        logStream,
        route,
        initializationType,
        reservation,
        cleanup: close,
        releaseCode: letGo,
      });
    } catch (error) {
      await Promise.all([close(), letGo()]);
      throw error;
    }
  }

  /**
   * Holds the function's code for an environment (see `holdCode`); a no-op without it. Letting go
   * never fails: it may run after the server closed its database (an environment that ends while
   * the server stops), and the code then simply stays until a later collection.
   */
  #holdCode(resolved: ResolvedFunction): () => Promise<void> {
    const release = this.#d.holdCode?.(resolved);
    if (release === undefined) return () => Promise.resolve();
    return () => release().catch(() => undefined);
  }

  /**
   * Starts a generic sandbox for a family of launches and resolves once its runtime waits for a
   * function (rejects if it exits or does not boot in time).
   */
  async prestart(launch: RuntimeLaunch): Promise<BootedSandbox> {
    const family = prestartFamily(launch);
    if (family === undefined) throw new Error('this runtime cannot be pre-started');
    const id = randomBytes(16).toString('hex');
    const slotDir = join(this.#d.slotsDir, id);
    const route: OutputRoute = { early: [] };
    let sandbox: Sandbox | undefined;
    let endpoints: EnvironmentEndpoints | undefined;
    try {
      await mkdir(slotDir, { recursive: true, mode: 0o755 });
      await chmod(slotDir, 0o755);
      endpoints = await this.#d.endpoints(id);
      endpoints.runtime.expectAssignment();
      const booted = endpoints;
      sandbox = await this.#d.sandboxes.start({
        id,
        codeDir: slotDir,
        runtimeDir: launch.runtimeDir,
        modulesDir: launch.modulesDir,
        langDir: launch.langDir,
        command: launch.command,
        env: prestartVariables(launch.env),
        memoryMiB: PRESTART_MEMORY_MIB,
        ephemeralStorageMiB: PRESTART_STORAGE_MIB,
        background: true,
        ...sockets(booted),
        onOutput: routeLine(route, false),
        onExtensionOutput: routeLine(route, true),
        outputGate: this.#outputGate(),
      });
      const started = sandbox;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('the pre-started runtime did not boot in time')),
          this.#d.bootLimitMs,
        );
        booted.runtime.onAssignmentWait(() => {
          clearTimeout(timer);
          resolve();
        });
        void started.exited.then(() => {
          clearTimeout(timer);
          const output = route.early.map((entry) => entry.line).join(' | ');
          reject(new Error(`the pre-started runtime exited: ${output}`));
        });
      });
      return { id, family, sandbox: started, endpoints: booted, slotDir, output: route };
    } catch (error) {
      await sandbox?.kill();
      await endpoints?.close();
      await rm(slotDir, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Binds a function to a booted sandbox, in the room `reservation` holds (committed to the
   * environment once it exists). Undefined when the sandbox cannot take it (it died, or already
   * uses more memory than the function may): the sandbox is then discarded, the reservation left
   * unsettled, and the caller cold-starts instead.
   */
  async specialise(
    booted: BootedSandbox,
    resolved: ResolvedFunction,
    key: string,
    launch: RuntimeLaunch,
    initializationType: InitializationType,
    reservation: Reservation,
  ): Promise<ExecutionEnvironment | undefined> {
    const { settings } = resolved.version;
    const letGo = this.#holdCode(resolved);
    // Both run to their end before anything is cleaned up (a failed resize must not remove the
    // slot while its links are still being made).
    const prepared = await Promise.allSettled([
      linkTree(resolved.codeDir, booted.slotDir),
      booted.sandbox.resize(settings.memoryMiB),
    ]);
    if (prepared.some((step) => step.status === 'rejected')) {
      await Promise.all([this.discard(booted), letGo()]);
      return undefined;
    }
    const logStream = logStreamName(this.#d.clock.now(), resolved.version.version, booted.id);
    booted.output.early.splice(0);
    const credentials = await this.#credentials(booted.id, resolved, booted.endpoints).catch(
      () => null,
    );
    if (credentials === null) {
      await Promise.all([this.discard(booted), letGo()]);
      return undefined;
    }
    const variables = this.#variables(
      resolved,
      launch,
      logStream,
      initializationType,
      credentials,
      booted.endpoints,
    );
    if (!booted.endpoints.runtime.assign(booted.sandbox.translate(variables))) {
      await Promise.all([this.discard(booted), letGo()]);
      return undefined;
    }
    return this.#environment(resolved, key, launch, {
      id: booted.id,
      sandbox: booted.sandbox,
      endpoints: booted.endpoints,
      logStream,
      route: booted.output,
      initializationType,
      reservation,
      cleanup: () => this.#release(booted),
      releaseCode: letGo,
    });
  }

  /** Stops a booted sandbox that will not be used. */
  async discard(booted: BootedSandbox): Promise<void> {
    await booted.sandbox.kill();
    await this.#release(booted);
  }

  #environment(
    resolved: ResolvedFunction,
    key: string,
    launch: RuntimeLaunch,
    parts: {
      readonly id: string;
      readonly sandbox: Sandbox;
      readonly endpoints: EnvironmentEndpoints;
      readonly logStream: string;
      readonly route: OutputRoute;
      readonly initializationType: InitializationType;
      readonly reservation: Reservation;
      readonly cleanup: () => Promise<void>;
      /** Lets go of the code the environment ran (see `holdCode`), once it has ended. */
      readonly releaseCode: () => Promise<void>;
    },
  ): ExecutionEnvironment {
    const { record, version } = resolved;
    const settings = version.settings;
    const clock = this.#d.clock;
    const channel = parts.endpoints.runtime;
    const telemetry = new TelemetryHub(parts.endpoints.telemetry, () => clock.now());
    const registry = new ExtensionRegistry(
      {
        functionName: record.name,
        functionVersion: version.version,
        handler: settings.handler,
        accountId: this.#d.scope.accountId,
      },
      telemetry,
    );
    channel.attachExtensions(registry);
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
      channel,
      this.#d.logs,
      this.#d.clock,
      () => {
        // Its key stops working at once; its sockets close once its processes are gone (a
        // runtime must not see them go first).
        this.#d.laminaApi?.revoke(parts.id);
        void parts.sandbox.exited.then(() => Promise.all([parts.cleanup(), parts.releaseCode()]));
      },
      { registry, telemetry, initializationType: parts.initializationType },
      this.#d.placement,
    );
    parts.route.env = environment;
    parts.reservation.commit(environment);
    environment.initStart({
      runtimeVersion: launch.runtimeVersion,
      runtimeVersionArn: launch.runtimeVersionArn,
      initializationType: parts.initializationType,
      functionName: record.name,
      functionVersion: version.version,
    });
    for (const { line, extension } of parts.route.early.splice(0)) {
      if (extension) environment.extensionOutput(line);
      else environment.output(line);
    }
    return environment;
  }

  /** The environment's own credentials, when its code can reach the Lamina API. */
  async #credentials(
    environmentId: string,
    resolved: ResolvedFunction,
    endpoints: EnvironmentEndpoints,
  ): Promise<EnvironmentInputs['credentials']> {
    const access = this.#d.laminaApi;
    if (access === undefined || endpoints.laminaApiSocket === undefined) return undefined;
    return access.issue(environmentId, resolved.record.name, resolved.version.settings.role);
  }

  #variables(
    resolved: ResolvedFunction,
    launch: RuntimeLaunch,
    logStream: string,
    initializationType: InitializationType,
    credentials: EnvironmentInputs['credentials'],
    endpoints: EnvironmentEndpoints,
  ): Record<string, string> {
    return environmentVariables({
      functionName: resolved.record.name,
      version: resolved.version.version,
      region: this.#d.scope.region,
      settings: resolved.version.settings,
      logStreamName: logStream,
      initializationType,
      runtimeEnv: launch.env,
      credentials,
      laminaEndpoint: credentials === undefined ? undefined : 'http://127.0.0.1:9002',
      otlpEndpoint: endpoints.otlpSocket === undefined ? undefined : `http://${OTLP_ADDRESS}`,
    });
  }

  /** The log sink as the environments' output gate, when it is one. */
  #outputGate(): OutputGate | undefined {
    const logs = this.#d.logs;
    return logs.whenOpen === undefined ? undefined : (logs as OutputGate);
  }

  async #release(booted: BootedSandbox): Promise<void> {
    this.#d.laminaApi?.revoke(booted.id);
    await booted.endpoints.close();
    await rm(booted.slotDir, { recursive: true, force: true });
  }
}

/** The sandbox's view of its endpoints: the sockets bound into the jail. */
function sockets(endpoints: EnvironmentEndpoints) {
  return {
    runtimeApiSocket: endpoints.runtimeSocket,
    laminaApiSocket: endpoints.laminaApiSocket,
    inboundSocket: endpoints.inboundSocket,
    hostServiceSockets: endpoints.hostServiceSockets,
    otlpSocket: endpoints.otlpSocket,
  };
}

function routeLine(route: OutputRoute, extension: boolean): (line: string) => void {
  return (line) => {
    if (route.env === undefined) {
      if (route.early.length < EARLY_LINES)
        route.early.push({ line: line.slice(0, EARLY_LINE_CHARS), extension });
    } else if (extension) route.env.extensionOutput(line);
    else route.env.output(line);
  };
}
