/**
 * The composition root: builds every concrete part from the configuration and starts and stops
 * them in order (store → services → recovery → HTTP; HTTP → background work → store).
 */
import { createHash, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import pino, { type Logger } from 'pino';
import { buildLambdaHttpApi } from '../api/lambda-http-api.js';
import type { ApiContext } from '../api/api-types.js';
import { LayerService } from '../functions/layer-service.js';
import { SqliteLayerRepository } from '../store/sqlite-layer-repository.js';
import { AsyncDispatcher } from '../async/async-dispatcher.js';
import { AsyncEventService } from '../async/async-event-service.js';
import { runtimeVersionArn } from '../core/arn.js';
import { BodyBudget } from '../core/body-budget.js';
import { defaultUrlBase, parseUrlBase, type UrlBase } from '../core/function-url.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { IdSource } from '../core/ids.js';
import { presignGetUrl } from '../core/sigv4-presign.js';
import { Sigv4Verifier } from '../core/sigv4-verifier.js';
import { CodeCollector } from '../functions/code-collector.js';
import { AliasService } from '../functions/alias-service.js';
import { ConcurrencyService } from '../functions/concurrency-service.js';
import { EventInvokeConfigService } from '../functions/event-invoke-config-service.js';
import { FunctionUrlService } from '../functions/function-url-service.js';
import { PermissionService } from '../functions/permission-service.js';
import { FunctionService } from '../functions/function-service.js';
import { VersionService } from '../functions/version-service.js';
import { PreparationQueue } from '../functions/preparation-queue.js';
import { RuntimeCatalog } from '../functions/runtime-catalog.js';
import { EnvironmentFactory } from '../environment/environment-factory.js';
import { EnvironmentPool } from '../invoke/environment-pool.js';
import { InvokeService } from '../invoke/invoke-service.js';
import { PrestartedPool } from '../environment/prestarted-pool.js';
import { Provisioner } from '../invoke/provisioner.js';
import { ProvisionedConcurrencyService } from '../functions/provisioned-concurrency-service.js';
import { FileLogStore } from '../observability/file-log-store.js';
import { runtimeClientsDir } from '../runtimes/runtime-clients.js';
import { HostRuntimeLauncher } from '../runtimes/host-runtime-launcher.js';
import { BwrapSandboxDriver } from '../sandbox/bwrap-sandbox-driver.js';
import { detectCgroups, type CgroupManager } from '../sandbox/cgroups.js';
import { startWatchdog, type Watchdog } from '../sandbox/watchdog.js';
import { OverlayViews, plainDirectories, type DirectoryViews } from '../sandbox/overlay-views.js';
import { withViews } from './code-views.js';
import { mountPrivateTmpfs, removeRunDir, runDirName, sweepRunDirs } from './run-folder.js';
import {
  openEphemeralStorage,
  type EphemeralStorageProvider,
} from '../sandbox/ephemeral-storage.js';
import { openServerCpu, type ServerCpu } from '../sandbox/server-cpu.js';
import { ColocationPolicy, nodeReleaseTimer } from '../environment/colocation-policy.js';
import type { Database } from '../store/database-schema.js';
import { FileCodeStore } from '../store/file-code-store.js';
import { SqliteProvisionedConcurrencyRepository } from '../store/sqlite-provisioned-concurrency-repository.js';
import { SqliteAsyncEventStore } from '../store/sqlite-async-event-store.js';
import { openSqliteDatabase } from '../store/sqlite-database.js';
import { SqliteEventInvokeConfigRepository } from '../store/sqlite-event-invoke-config-repository.js';
import { SqliteFunctionRepository } from '../store/sqlite-function-repository.js';
import { SqliteFunctionUrlRepository } from '../store/sqlite-function-url-repository.js';
import { SqlitePolicyRepository } from '../store/sqlite-policy-repository.js';
import {
  SqliteAliasRepository,
  SqliteVersionRepository,
} from '../store/sqlite-version-repository.js';
import { resolveCredentials, type Credentials } from './credentials.js';
import { ServiceAsyncTargets } from './async-targets.js';
import { FunctionCredentials } from './function-credentials.js';
import { fullCollection } from './full-collection.js';
import { MemoryReclaimer } from './memory-reclaimer.js';
import { ServiceFunctionResolver } from '../invoke/function-resolver.js';
import { detectHostRuntimes } from './host-runtimes.js';
import { WriteGeneration } from './write-generation.js';
import { checkSandboxPrerequisites } from './sandbox-prerequisites.js';
import { ConnectionBudget, jailDescriptorShare } from '../core/connection-budget.js';
import { descriptorLimit } from './descriptor-limit.js';
import { environmentEndpoints } from './environment-endpoints.js';
import { privateFolder, sandboxPassage } from './private-folders.js';
import { sandboxIdentity } from './sandbox-identity.js';
import { concurrencyLimits, type ServerConfig } from './server-config.js';

/** The runtime clients shipped with Lamina (runtimes/ at the package root). */
const RUNTIME_CLIENTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../runtimes');

/** Overridable collaborators, for tests. */
export interface ServerOverrides {
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly env?: NodeJS.ProcessEnv;
}

/** A running (or stopped) Lamina server. */
export class LaminaServer {
  readonly config: ServerConfig;
  readonly #overrides: ServerOverrides;
  #db: Kysely<Database> | undefined;
  #http: FastifyInstance | undefined;
  #preparation: PreparationQueue | undefined;
  #credentials: Credentials | undefined;
  #invocations: InvokeService | undefined;
  #prestarted: PrestartedPool | undefined;
  #provisioner: Provisioner | undefined;
  #asyncStore: SqliteAsyncEventStore | undefined;
  #dispatcher: AsyncDispatcher | undefined;
  #asyncEvents: AsyncEventService | undefined;
  #logs: FileLogStore | undefined;
  #reaper: NodeJS.Timeout | undefined;
  #runDir: string | undefined;
  #limitations: readonly string[] = [];
  /** Where the HTTP API listens, for the environments' relays (once it does). */
  #apiTarget: { host: string; port: number } | undefined;
  #watchdog: Watchdog | undefined;
  #ephemeral: EphemeralStorageProvider | undefined;
  #views: DirectoryViews | undefined;
  #serverCpu: ServerCpu | undefined;
  #cgroups: CgroupManager | undefined;
  #endpoint: string | undefined;
  #stopping: Promise<void> | undefined;
  #reclaimer: MemoryReclaimer | undefined;

  constructor(config: ServerConfig, overrides: ServerOverrides = {}) {
    this.config = { ...config, dataDir: resolve(config.dataDir) };
    this.#overrides = overrides;
  }

  /** `http://host:port` once started. */
  get endpoint(): string {
    if (this.#endpoint === undefined) throw new Error('The server has not started.');
    return this.#endpoint;
  }

  /** The accepted key pair (undefined with `--auth none`). */
  get credentials(): Credentials | undefined {
    return this.#credentials;
  }

  /** What the sandbox cannot enforce on this host (printed at start). */
  get limitations(): readonly string[] {
    return this.#limitations;
  }

  /** Where function logs are kept. */
  get logs(): FileLogStore | undefined {
    return this.#logs;
  }

  /** The pre-started sandbox pool (for Lamina's status API and tests). */
  get prestarted(): PrestartedPool | undefined {
    return this.#prestarted;
  }

  /**
   * Stops environments idle for longer than the idle timeout (scale to zero; provisioned ones
   * stay). Runs on a timer; tests with an injected clock call it directly. Returns how many.
   */
  async reapIdle(): Promise<number> {
    return (await this.#invocations?.reapIdle(this.config.idleTimeoutMs)) ?? 0;
  }

  /** Resolves when all background preparations are done (for tests and orderly stops). */
  async idle(): Promise<void> {
    await this.#preparation?.idle();
  }

  async start(): Promise<void> {
    const config = this.config;
    const logger = this.#overrides.logger ?? pino({ level: config.logLevel });
    const clock = this.#overrides.clock ?? systemClock;
    const ids: IdSource = { uuid: () => randomUUID() };
    const scope = { region: config.region, accountId: config.accountId };

    this.#credentials =
      config.auth === 'sigv4'
        ? resolveCredentials(config.dataDir, this.#overrides.env ?? process.env)
        : undefined;
    checkSandboxPrerequisites(config.dataDir);
    // Root and the jails' group may pass through the data directory; logs and zips are root's.
    const identity = sandboxIdentity();
    sandboxPassage(config.dataDir, identity);
    sandboxPassage(join(config.dataDir, 'code'), identity);
    privateFolder(join(config.dataDir, 'code', 'zips'));
    privateFolder(join(config.dataDir, 'logs'));
    const runtimes = await detectHostRuntimes();
    // What a server that died, watchdog and all, left in the temp folder goes first.
    await sweepRunDirs(tmpdir());
    const runDir = join(tmpdir(), runDirName(process.pid, randomUUID().slice(0, 8)));
    this.#runDir = runDir;
    sandboxPassage(runDir, identity);
    // As root, the run folder is a small file system of its own: the sockets bound into jails
    // then show paths inside it (`/envs/<id>/runtime.sock`), not the host's temp folder.
    if (identity !== undefined) await mountPrivateTmpfs(runDir, identity);
    // Code, layers and runtime folders are shown to jails through views that hide their paths.
    const viewsRoot = join(runDir, 'views');
    sandboxPassage(viewsRoot, identity);
    this.#views = identity === undefined ? plainDirectories : new OverlayViews(viewsRoot);
    const views = this.#views;

    this.#db = await openSqliteDatabase(join(config.dataDir, 'lamina.db'));
    // Writes move the generation on, so the invoke path's cached lookups read again.
    const writes = new WriteGeneration();
    const repository = writes.watch(new SqliteFunctionRepository(this.#db), [
      'insert',
      'update',
      'delete',
    ]);
    const code = new FileCodeStore(join(config.dataDir, 'code'));
    const collector = new CodeCollector(repository, code);
    // A prepared code folder gets its view at once, so the first cold start does not mount it.
    this.#preparation = new PreparationQueue(
      repository,
      withViews(code, views),
      collector,
      ids,
      (name, error) => logger.error({ err: error, function: name }, 'code preparation failed'),
    );
    const versions = writes.watch(new SqliteVersionRepository(this.#db), ['publish', 'delete']);
    const aliases = writes.watch(new SqliteAliasRepository(this.#db), [
      'insert',
      'update',
      'delete',
    ]);
    const capacityMiB =
      config.environmentMemoryMiB ?? Math.floor((totalmem() / (1024 * 1024)) * 0.75);
    const limits = concurrencyLimits(config, capacityMiB);
    const concurrency = new ConcurrencyService(scope, repository, limits);
    await concurrency.load();
    // Layer versions are read by the invoke path's cached lookups too (through functions).
    const layers = new LayerService({
      scope,
      repository: new SqliteLayerRepository(this.#db),
      code,
      collector,
      clock,
      ids,
    });
    const functions = new FunctionService({
      // A deleted function's (or version's) environments end now, not at the idle timeout.
      onDeleted: (name, version) =>
        void this.#invocations
          ?.retire(name, version)
          .catch((error: unknown) => logger.error({ err: error }, 'retiring environments failed')),
      layers,
      scope,
      repository,
      versions,
      aliases,
      code,
      collector,
      preparation: this.#preparation,
      runtimes: new RuntimeCatalog(runtimes.identifiers),
      clock,
      ids,
    });

    // The runtime clients live under the temp folder, which the jail's uid can reach: shared by the
    // servers on this machine, or copied next to the sockets when the shared copy cannot be used.
    const runtimeClients = runtimeClientsDir(RUNTIME_CLIENTS, tmpdir(), join(runDir, 'runtimes'));
    const ephemeralRoot = join(config.dataDir, 'ephemeral');
    const cgroups = await detectCgroups({
      cpusets: config.cpuColocation,
      processLimit: config.environmentProcessLimit,
    });
    this.#cgroups = cgroups;
    // Whatever kills this process, the watchdog ends its environments (frozen ones included).
    this.#watchdog = startWatchdog({
      serverPid: process.pid,
      cgroupBases: cgroups.environmentBases,
      freezerBase: cgroups.freezerBase,
      v2: cgroups.version === 'v2',
      prefixes: [runDir, join(ephemeralRoot, `${process.pid}.`)],
    });
    const serverCpu = config.cpuColocation ? await openServerCpu(cgroups) : undefined;
    this.#serverCpu = serverCpu;
    if (serverCpu !== undefined)
      logger.debug(`lone invocations run with the event loop on CPU ${serverCpu.cpu}`);
    this.#ephemeral = await openEphemeralStorage({
      root: ephemeralRoot,
      ...(identity === undefined ? {} : { jailGid: identity.gid }),
      onError: (error) => logger.warn({ err: error }, 'preparing ephemeral storage failed'),
    });
    const sandboxes = new BwrapSandboxDriver({
      runDir,
      cgroups,
      serverCpu: serverCpu?.cpu,
      hostUid: identity?.uid,
      hostGid: identity?.gid,
      ephemeral: this.#ephemeral,
      views,
    });
    this.#limitations = sandboxes.limitations();
    for (const limitation of this.#limitations) logger.warn(`sandbox limitation: ${limitation}`);
    this.#logs = new FileLogStore(
      join(config.dataDir, 'logs'),
      (error, file) =>
        logger.error({ err: error, file }, 'function log lines could not be written'),
      (chars) => this.#reclaimer?.passedThrough(chars),
    );
    // One RuntimeVersionArn per runtime, as GetFunction and INIT_START lines both report it.
    const versionArnOf = (runtime: string) =>
      runtimeVersionArn(
        config.region,
        createHash('sha256')
          .update(runtimes.versions[runtime] ?? runtime)
          .digest('hex'),
      );
    const functionCredentials = new FunctionCredentials();
    const pool = new EnvironmentPool(
      {
        capacityMiB,
        queueTimeoutMs: config.queueTimeoutMs,
        // Sandbox starts are CPU-bound: a few at a time finish sooner than many at once.
        maxColdStarts: Math.max(2, 2 * availableParallelism()),
        burstTimeoutMs: 60_000,
      },
      clock,
    );
    const slotsDir = join(config.dataDir, 'slots');
    rmSync(slotsDir, { recursive: true, force: true });
    sandboxPassage(slotsDir, identity);
    const factory = new EnvironmentFactory({
      scope,
      sandboxes,
      endpoints: environmentEndpoints({
        runDir,
        identity,
        budget: new ConnectionBudget(jailDescriptorShare(descriptorLimit())),
        api: () => this.#apiTarget,
        onConnectionEnded: (bytesRead) => this.#reclaimer?.connectionEnded(bytesRead),
      }),
      logs: this.#logs,
      clock,
      runtimeVersionArn: versionArnOf,
      slotsDir,
      bootLimitMs: config.initLimitMs,
      holdCode: ({ version }) =>
        collector.hold([
          version.readyCode?.sha256Hex,
          ...version.settings.layers.map((layer) => layer.code.sha256Hex),
        ]),
      placement:
        serverCpu === undefined
          ? undefined
          : new ColocationPolicy(serverCpu, nodeReleaseTimer(config.cpuColocationReleaseMs)),
      laminaApi: {
        credentialsFor: (name) => functionCredentials.credentialsFor(name),
      },
    });
    const launcher = new HostRuntimeLauncher(runtimeClients);
    this.#prestarted = new PrestartedPool(config.prestartPoolSize, {
      boot: (launch) => factory.prestart(launch),
      discard: (booted) => factory.discard(booted),
      onBootFailure: (family, error) =>
        logger.warn({ err: error, family }, 'a pre-started sandbox failed to boot'),
    });
    // Node.js is booted ahead from the start; other runtimes once a function first uses them.
    const node = launcher.launch('nodejs20.x');
    if (node.runtimeDir !== undefined) await views.prepare(node.runtimeDir);
    this.#prestarted.register(node.command.join(' '), node);
    const prestarted = this.#prestarted;
    const resolver = new ServiceFunctionResolver(functions, code, writes);
    this.#invocations = new InvokeService({
      scope,
      resolver,
      pool,
      factory,
      prestarted: this.#prestarted,
      launcher,
      clock,
      initLimitMs: config.initLimitMs,
      concurrency: {
        accountLimit: limits.accountLimit,
        reservedTotal: () => concurrency.reservedTotal(),
        provisionedOf: (name) => concurrency.provisionedOf(name),
      },
    });
    const invocations = this.#invocations;
    this.#provisioner = new Provisioner({
      resolver,
      pool,
      create: (resolved, type, requestId, reservation) =>
        invocations.create(resolved, type, requestId, reservation),
    });
    const provisioned = new ProvisionedConcurrencyService({
      scope,
      clock,
      functions: repository,
      versions,
      aliases,
      configs: new SqliteProvisionedConcurrencyRepository(this.#db),
      concurrency,
      provisioning: this.#provisioner,
    });
    this.#reaper = setInterval(
      () => {
        this.reapIdle().catch((error: unknown) =>
          logger.error({ err: error }, 'idle reaping failed'),
        );
      },
      Math.max(1000, Math.min(30_000, config.idleTimeoutMs / 4)),
    );
    this.#reaper.unref();

    const eventConfigs = new SqliteEventInvokeConfigRepository(this.#db);
    const targets = new ServiceAsyncTargets(functions, eventConfigs, concurrency);
    this.#asyncStore = new SqliteAsyncEventStore(this.#db);
    const dispatcher = new AsyncDispatcher({
      scope,
      store: this.#asyncStore,
      invoker: { invoke: (request) => invocations.invokeToEnd(request) },
      targets,
      clock,
      ids,
      concurrency: config.asyncConcurrency,
      onError: (error, requestId) =>
        logger.error({ err: error, requestId }, 'asynchronous event handling failed'),
    });
    this.#dispatcher = dispatcher;
    this.#asyncEvents = new AsyncEventService({
      scope,
      store: this.#asyncStore,
      targets,
      clock,
      ids,
      onEnqueued: () => dispatcher.wake(),
      retentionMs: config.asyncEventRetentionMs,
      onError: (error) => logger.error({ err: error }, 'pruning asynchronous events failed'),
    });

    const credentials = this.#credentials;
    const verifier =
      credentials === undefined
        ? undefined
        : new Sigv4Verifier({
            service: 'lambda',
            region: config.region,
            clock,
            secretFor: (id) =>
              id === credentials.accessKeyId
                ? credentials.secretAccessKey
                : functionCredentials.lookup(id)?.secretAccessKey,
            sessionTokenFor: (id) => functionCredentials.lookup(id)?.sessionToken,
          });
    // The default URL base names the API's port, known once it listens.
    const publicUrlBase =
      config.functionUrlBase === undefined ? undefined : parseUrlBase(config.functionUrlBase);
    const urlBase = (): UrlBase =>
      publicUrlBase ??
      defaultUrlBase(config.region, Number(new URL(this.#endpoint ?? 'http://localhost:0').port));
    const context: ApiContext = {
      scope,
      functions,
      functionUrls: new FunctionUrlService({
        scope,
        functions: repository,
        aliases,
        urls: new SqliteFunctionUrlRepository(this.#db),
        clock,
        ids,
      }),
      permissions: new PermissionService({
        scope,
        functions: repository,
        versions,
        aliases,
        policies: new SqlitePolicyRepository(this.#db),
        ids,
      }),
      urlBase,
      layers,
      versions: new VersionService(scope, repository, versions, clock, ids),
      aliases: new AliasService(scope, repository, versions, aliases, ids),
      invocations,
      eventInvokeConfigs: new EventInvokeConfigService({
        scope,
        functions: repository,
        versions,
        aliases,
        configs: eventConfigs,
        clock,
      }),
      asyncEvents: this.#asyncEvents,
      concurrency,
      provisioned,
      prestartedStatus: () => prestarted.status(),
      runtimeVersionArn: versionArnOf,
      codeLocation: async (sha, host) => {
        const path = `/lamina/2026-11-01/code/${sha}`;
        if (credentials === undefined) return `http://${host}${path}`;
        return presignGetUrl(host, path, {
          ...credentials,
          region: config.region,
          service: 'lambda',
          expiresSeconds: config.codeUrlExpirySeconds,
          clock,
        });
      },
      openCode: async (sha) => ((await code.has(sha)) ? code.open(sha) : undefined),
    };
    const collect = fullCollection();
    this.#reclaimer = collect === undefined ? undefined : new MemoryReclaimer({ collect });
    const urlDomains = [defaultUrlBase(config.region, 0).domain];
    if (publicUrlBase !== undefined) urlDomains.unshift(publicUrlBase.domain);
    this.#http = buildLambdaHttpApi({
      context,
      verifier,
      logger,
      urlDomains,
      bodyBudget: new BodyBudget(config.requestBodyMemoryBytes, (bytes) =>
        this.#reclaimer?.released(bytes),
      ),
    });
    const recovered = await this.#preparation.recover();
    if (recovered > 0) logger.info({ recovered }, 'resuming unfinished code preparations');
    // Events a crash left Running go back in the queue before anything new is accepted.
    const requeued = await dispatcher.start();
    if (requeued > 0)
      logger.warn({ requeued }, 'asynchronous events interrupted by a crash will run again');
    this.#asyncEvents.startPruning();
    const address = await this.#http.listen({ host: config.host, port: config.port });
    this.#endpoint = address.replace('[::1]', 'localhost');
    const url = new URL(this.#endpoint);
    this.#apiTarget = {
      host: url.hostname === 'localhost' ? '127.0.0.1' : url.hostname,
      port: Number(url.port),
    };
    await provisioned.load();
  }

  /** Stops accepting requests, lets in-flight ones finish, then closes the store. Idempotent. */
  async stop(): Promise<void> {
    this.#stopping ??= (async () => {
      clearInterval(this.#reaper);
      this.#asyncEvents?.stopPruning();
      // Claim nothing new; attempts under way are recorded (or put back) before the store closes.
      const asyncStopped = this.#dispatcher?.stop();
      await this.#http?.close();
      this.#reclaimer?.stop();
      await this.#provisioner?.stop();
      await this.#invocations?.stop();
      await asyncStopped;
      await this.#asyncStore?.flush();
      await this.#serverCpu?.close();
      await this.#cgroups?.close();
      await this.#ephemeral?.close();
      await this.#views?.close();
      await this.#logs?.flush();
      await this.#preparation?.stop();
      await this.#db?.destroy();
      if (this.#runDir !== undefined) await removeRunDir(this.#runDir);
      this.#watchdog?.disarm();
    })();
    return this.#stopping;
  }
}
