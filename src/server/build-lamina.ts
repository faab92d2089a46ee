/**
 * The composition root: builds every concrete part of a Lamina server from its configuration.
 * Building opens what the parts are made of (the sandbox host, the database) but starts nothing;
 * LaminaServer.start() starts them, in order. Tests build with overrides (a clock, a sandbox host,
 * a log sink, a gated code store) instead of wiring the parts by hand.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kysely } from 'kysely';
import pino, { type Logger } from 'pino';
import { buildLambdaHttpApi } from '../api/lambda-http-api.js';
import { ResourcePolicyCache } from '../api/resource-policy-cache.js';
import type { ApiContext } from '../api/api-types.js';
import type { RpcService } from '../api/rpc-service.js';
import { AsyncDispatcher } from '../async/async-dispatcher.js';
import { AsyncEventService } from '../async/async-event-service.js';
import { BodyBudget } from '../core/body-budget.js';
import { systemClock, type Clock } from '../core/clock.js';
import { ConnectionBudget, jailDescriptorShare } from '../core/connection-budget.js';
import { defaultUrlBase, parseUrlBase, type UrlBase } from '../core/function-url.js';
import type { IdSource } from '../core/ids.js';
import { presignGetUrl } from '../core/sigv4-presign.js';
import { Sigv4Verifier } from '../core/sigv4-verifier.js';
import { EnvironmentFactory, prestartFamily } from '../environment/environment-factory.js';
import { PrestartedPool } from '../environment/prestarted-pool.js';
import { AliasService } from '../functions/alias-service.js';
import { CodeCollector } from '../functions/code-collector.js';
import type { CodeStore } from '../functions/code-store.js';
import { ConcurrencyService } from '../functions/concurrency-service.js';
import { EventInvokeConfigService } from '../functions/event-invoke-config-service.js';
import { FunctionService } from '../functions/function-service.js';
import { FunctionUrlService } from '../functions/function-url-service.js';
import { LayerService } from '../functions/layer-service.js';
import { PermissionService } from '../functions/permission-service.js';
import { PreparationQueue } from '../functions/preparation-queue.js';
import { ProvisionedConcurrencyService } from '../functions/provisioned-concurrency-service.js';
import { RuntimeCatalog } from '../functions/runtime-catalog.js';
import { VersionService } from '../functions/version-service.js';
import { EnvironmentPool } from '../invoke/environment-pool.js';
import { ServiceFunctionResolver } from '../invoke/function-resolver.js';
import { CachedFunctionLookup } from '../functions/cached-function-lookup.js';
import { InvokeService } from '../invoke/invoke-service.js';
import { ObserverFanout } from '../monitoring/observer-fanout.js';
import { PlatformEventFanout } from '../monitoring/platform-event-fanout.js';
import { PlatformSpans } from '../monitoring/platform-spans.js';
import { OtlpHttpExporter } from '../observability/otlp-http-exporter.js';
import { randomHex } from '../core/trace-ids.js';
import { InvocationHistory } from '../monitoring/invocation-history.js';
import { InvocationRecorder } from '../monitoring/invocation-recorder.js';
import { MetricMinutes } from '../monitoring/metric-minutes.js';
import { SqliteMetricStore } from '../store/sqlite-metric-store.js';
import { CloudWatchService } from '../api/cloudwatch-service.js';
import { SqliteInvocationRecordStore } from '../store/sqlite-invocation-record-store.js';
import { CachedReading } from '../monitoring/cached-reading.js';
import { LiveMetrics } from '../monitoring/live-metrics.js';
import { prestartedByRuntime, type PlatformGauges } from '../monitoring/platform-gauges.js';
import type { MetricsEndpoint } from '../api/prometheus-endpoint.js';
import { PrometheusListener } from '../api/prometheus-listener.js';
import { PrometheusMetrics } from '../api/prometheus-metrics.js';
import { Provisioner } from '../invoke/provisioner.js';
import { FileLogStore } from '../observability/file-log-store.js';
import { FileLogArchive } from '../observability/file-log-archive.js';
import { createLogsService } from '../api/logs-service.js';
import { LogRetentionSweeper } from '../monitoring/log-retention.js';
import { HostRuntimeLauncher } from '../runtimes/host-runtime-launcher.js';
import type { RuntimeLaunch } from '../environment/ports.js';
import { runtimeClientsDir } from '../runtimes/runtime-clients.js';
import { withViews } from './code-views.js';
import { FileCodeStore } from '../store/file-code-store.js';
import type { Database } from '../store/database-schema.js';
import { openSqliteDatabase } from '../store/sqlite-database.js';
import { ExecutionRoles } from '../iam/execution-roles.js';
import { buildIdentity } from './identity.js';
import { provisionFunctionRoles } from './function-roles.js';
import { SqliteAsyncEventStore } from '../store/sqlite-async-event-store.js';
import { SqliteEventInvokeConfigRepository } from '../store/sqlite-event-invoke-config-repository.js';
import { SqliteFunctionRepository } from '../store/sqlite-function-repository.js';
import { SqliteFunctionUrlRepository } from '../store/sqlite-function-url-repository.js';
import { SqliteLayerRepository } from '../store/sqlite-layer-repository.js';
import { SqlitePolicyRepository } from '../store/sqlite-policy-repository.js';
import { SqliteProvisionedConcurrencyRepository } from '../store/sqlite-provisioned-concurrency-repository.js';
import {
  SqliteAliasRepository,
  SqliteVersionRepository,
} from '../store/sqlite-version-repository.js';
import { ServiceAsyncTargets } from './async-targets.js';
import { openBwrapHost } from './bwrap-host.js';
import { resolveCredentials } from './credentials.js';
import { descriptorLimit } from './descriptor-limit.js';
import { environmentEndpoints } from './environment-endpoints.js';
import { OtlpForwarder } from '../runtime-api/otlp-forwarder.js';
import { fullCollection } from './full-collection.js';
import { buildEventSources } from './event-sources.js';
import { buildSchedules } from './schedules.js';
import { FunctionCredentials } from './function-credentials.js';
import { RuntimeVersions } from './runtime-versions.js';
import { hostPythonVersions, RuntimeStore } from '../runtimes/runtime-store.js';
import { RegistryService } from '../functions/registry-service.js';
import { SqliteRegistryLoginRepository } from '../store/sqlite-registry-login-repository.js';
import { FileImageStore } from '../images/file-image-store.js';
import { unpackLayer } from '../images/layer-unpacker.js';
import type { Architecture, FunctionSettings } from '../core/function-model.js';
import { LaminaServer, type Listening, type ServerLogSink } from './lamina-server.js';
import { MemoryReclaimer } from './memory-reclaimer.js';
import { openPlainProcessHost } from './plain-process-host.js';
import { privateFolder, sandboxPassage } from './private-folders.js';
import type { SandboxHostOpener } from './sandbox-host.js';
import { concurrencyLimits, credentialLifetimeMs, type ServerConfig } from './server-config.js';
import { WriteGeneration } from './write-generation.js';
import { RelayedPorts } from './socket-relay.js';

/** How long hourly usage is kept: a little over a year, so a year's bills can be compared. */
const USAGE_RETENTION_MS = 400 * 86_400_000;

/** The runtime clients shipped with Lamina (runtimes/ at the package root). */
const RUNTIME_CLIENTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../runtimes');

/** What a test may put in place of the real part. */
export interface LaminaOverrides {
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Where the key pair is read from (`LAMINA_ACCESS_KEY_ID`…; default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** The sandbox host (default: bubblewrap, or plain processes with `unsafePlainProcesses`). */
  readonly sandboxHost?: SandboxHostOpener;
  /** Where function log lines go (default: files under `<data>/logs`). */
  readonly logs?: ServerLogSink;
  /** Wraps the code store (tests hold preparations back with it). */
  readonly codeStore?: (store: CodeStore) => CodeStore;
  /** Where schedules' flexible windows take their random offsets (default: Math.random). */
  readonly random?: () => number;
}

export async function buildLamina(
  configuration: ServerConfig,
  overrides: LaminaOverrides = {},
): Promise<LaminaServer> {
  const config = { ...configuration, dataDir: resolve(configuration.dataDir) };
  const logger = overrides.logger ?? pino({ level: config.logLevel });
  const clock = overrides.clock ?? systemClock;
  const ids: IdSource = { uuid: () => randomUUID() };
  const scope = { region: config.region, accountId: config.accountId };
  const listening: Listening = {};

  const credentials =
    config.auth === 'sigv4'
      ? resolveCredentials(config.dataDir, overrides.env ?? process.env)
      : undefined;
  const openHost =
    overrides.sandboxHost ?? (config.unsafePlainProcesses ? openPlainProcessHost : openBwrapHost);
  const host = await openHost({
    dataDir: config.dataDir,
    cpuColocation: config.cpuColocation,
    cpuColocationReleaseMs: config.cpuColocationReleaseMs,
    environmentProcessLimit: config.environmentProcessLimit,
    functionNetwork: config.functionNetwork,
    functionDeny: config.functionDeny,
    functionDns: config.functionDns,
    logger,
  });
  // From here on, a failure releases what was opened before it is thrown.
  let db: Kysely<Database> | undefined;
  // Connections opened besides `db` (closed with it).
  const opened: Kysely<Database>[] = [];
  try {
    const limitations = host.driver.limitations();
    for (const limitation of limitations) logger.warn(`sandbox limitation: ${limitation}`);
    const { identity, runDir, views } = host;
    // Root and the jails' group may pass through the data directory; logs and zips are root's.
    sandboxPassage(config.dataDir, identity);
    sandboxPassage(join(config.dataDir, 'code'), identity);
    privateFolder(join(config.dataDir, 'code', 'zips'));
    privateFolder(join(config.dataDir, 'logs'));
    const runtimeStore = new RuntimeStore(config.runtimesDir);
    const runtimes = new RuntimeVersions(runtimeStore, hostPythonVersions(), config.region);
    const catalog = new RuntimeCatalog(runtimes, hostArchitecture());

    db = await openSqliteDatabase(join(config.dataDir, 'lamina.db'));
    const { secrets, ...iamEdge } = await buildIdentity({
      db,
      dataDir: config.dataDir,
      accountId: config.accountId,
      clock,
      root: credentials,
      secretsKey: process.env['LAMINA_SECRETS_KEY'],
    });
    const executionRoles = new ExecutionRoles(iamEdge.api.iam, iamEdge.api.authorizer);
    // Writes move the generation on, so the invoke path's cached lookups read again.
    const writes = new WriteGeneration();
    const repository = writes.watch(new SqliteFunctionRepository(db), [
      'insert',
      'update',
      'delete',
    ]);
    const fileCode = new FileCodeStore(join(config.dataDir, 'code'));
    const code = overrides.codeStore?.(fileCode) ?? fileCode;
    const registries = new RegistryService(new SqliteRegistryLoginRepository(db, secrets), clock);
    // The jails' group passes through to the unpacked images (read-only roots); blobs stay root's.
    sandboxPassage(join(config.dataDir, 'images'), identity);
    const images = new FileImageStore({
      dir: join(config.dataDir, 'images'),
      credentials: registries,
      insecureRegistries: config.insecureRegistries,
      unpackLayer,
    });
    const collector = new CodeCollector(repository, code, images);
    // A prepared code folder gets its view at once, so the first cold start does not mount it.
    const preparation = new PreparationQueue(
      repository,
      withViews(code, views),
      collector,
      ids,
      (name, error) => logger.error({ err: error, function: name }, 'code preparation failed'),
      images,
    );
    const versions = writes.watch(new SqliteVersionRepository(db), ['publish', 'delete', 'update']);
    const madeRoles = await provisionFunctionRoles({
      functions: repository,
      versions,
      executionRoles,
      fullAccess: config.legacyFunctionAccess,
    });
    if (madeRoles.length > 0)
      logger.warn(
        `made ${madeRoles.length} execution role(s) that existing functions named: ${madeRoles.join(', ')} ` +
          `(${config.legacyFunctionAccess ? 'AWSLambdaBasicExecutionRole and AWSLambda_FullAccess' : 'AWSLambdaBasicExecutionRole only; see --legacy-function-access'})`,
      );
    const aliases = writes.watch(new SqliteAliasRepository(db), ['insert', 'update', 'delete']);
    const capacityMiB =
      config.environmentMemoryMiB ?? Math.floor((totalmem() / (1024 * 1024)) * 0.75);
    const limits = concurrencyLimits(config, capacityMiB);
    const concurrency = new ConcurrencyService(scope, repository, limits);
    await concurrency.load();
    // Layer versions are read by the invoke path's cached lookups too (through functions).
    const layers = new LayerService({
      scope,
      repository: new SqliteLayerRepository(db),
      code,
      collector,
      clock,
      ids,
    });
    // Parts built later that earlier ones call back into.
    const late: { invocations?: InvokeService; reclaimer?: MemoryReclaimer | undefined } = {};
    const functions = new FunctionService({
      // A deleted function's (or version's) environments end now, not at the idle timeout.
      onDeleted: (name, version) =>
        void late.invocations
          ?.retire(name, version)
          .catch((error: unknown) => logger.error({ err: error }, 'retiring environments failed')),
      layers,
      scope,
      repository,
      versions,
      aliases,
      code,
      collector,
      preparation,
      runtimes: catalog,
      clock,
      ids,
      executionRoles,
    });

    // The runtime clients live under the temp folder, which the jail's uid can reach: shared by
    // the servers on this machine, or copied next to the sockets when the shared copy cannot be.
    const runtimeClients = runtimeClientsDir(RUNTIME_CLIENTS, tmpdir(), join(runDir, 'runtimes'));
    const logs =
      overrides.logs ??
      new FileLogStore(
        join(config.dataDir, 'logs'),
        (error, file) =>
          logger.error({ err: error, file }, 'function log lines could not be written'),
        (chars) => late.reclaimer?.passedThrough(chars),
      );
    // The runtime version a function runs on, as GetFunction and INIT_START lines report it.
    const versionArnOf = (settings: FunctionSettings) => catalog.versionFor(settings)?.arn;
    const functionCredentials = new FunctionCredentials({
      directory: iamEdge.directory,
      roles: executionRoles,
      clock,
      lifetimeMs: credentialLifetimeMs(config),
    });
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
    // The host-side ports of the connections relayed out of environments.
    const relayedPorts = new RelayedPorts();
    const slotsDir = join(config.dataDir, 'slots');
    rmSync(slotsDir, { recursive: true, force: true });
    sandboxPassage(slotsDir, identity);
    // What functions send to their environment's OTLP endpoint goes to the same collector.
    const otlpRelay =
      config.otlpEndpoint === undefined
        ? undefined
        : new OtlpForwarder({
            collector: config.otlpEndpoint,
            onReleased: (bytes) => late.reclaimer?.passedThrough(bytes),
          });
    const factory = new EnvironmentFactory({
      scope,
      sandboxes: host.driver,
      endpoints: environmentEndpoints({
        runDir,
        identity,
        relayed: relayedPorts,
        budget: new ConnectionBudget(jailDescriptorShare(descriptorLimit())),
        api: () => listening.apiTarget,
        hostServices: config.functionAllow,
        otlp: otlpRelay,
        onConnectionEnded: (bytesRead) => late.reclaimer?.connectionEnded(bytesRead),
      }),
      logs,
      clock,
      slotsDir,
      bootLimitMs: config.initLimitMs,
      holdCode: ({ version }) =>
        collector.hold([
          version.readyCode?.sha256Hex,
          ...version.settings.layers.map((layer) => layer.code.sha256Hex),
        ]),
      placement: host.placement,
      laminaApi: {
        issue: (id, name, role) => functionCredentials.issue(id, name, role),
        revoke: (id) => functionCredentials.revoke(id),
      },
    });
    const launcher = new HostRuntimeLauncher(
      runtimeClients,
      (runtime, version) =>
        runtimes
          .versions()
          .find((v) => v.runtime === runtime && (version === undefined || v.version === version)),
      runtimeStore.sdkModules(),
    );
    const prestarted = new PrestartedPool(config.prestartPoolSize, {
      boot: (launch) => factory.prestart(launch),
      discard: (booted) => factory.discard(booted),
      onBootFailure: (family, error) =>
        logger.warn({ err: error, family }, 'a pre-started sandbox failed to boot'),
    });
    // Node.js is booted ahead from the start; other runtimes once a function first uses them.
    const node = bootLaunch(launcher);
    if (node.runtimeDir !== undefined) await views.prepare(node.runtimeDir);
    const nodeFamily = prestartFamily(node);
    if (nodeFamily !== undefined) prestarted.register(nodeFamily, node);
    const lookup = new CachedFunctionLookup(functions, writes);
    const resolver = new ServiceFunctionResolver(lookup, code, images);
    // Everything that watches invocations (records, metrics, usage, spans) hears of them here.
    const observers = new ObserverFanout((error) =>
      logger.error({ err: error }, 'an invocation observer failed'),
    );
    // The asynchronous queue's and the mappings' events, for the same watchers.
    const platformEvents = new PlatformEventFanout((error) =>
      logger.error({ err: error }, 'a platform event observer failed'),
    );
    const invokeService = new InvokeService({
      // `--observability off` (benchmarks of its cost): invocations are not watched at all.
      observer: config.observability ? observers : undefined,
      scope,
      resolver,
      pool,
      factory,
      prestarted,
      launcher,
      runtimeVersion: (settings) => catalog.versionFor(settings)?.version,
      clock,
      initLimitMs: config.initLimitMs,
      concurrency: {
        accountLimit: limits.accountLimit,
        reservedTotal: () => concurrency.reservedTotal(),
        provisionedOf: (name) => concurrency.provisionedOf(name),
      },
    });
    late.invocations = invokeService;
    const provisioner = new Provisioner({
      resolver,
      pool,
      create: (resolved, type, requestId, reservation) =>
        invokeService.create(resolved, type, requestId, reservation),
    });
    const provisioned = new ProvisionedConcurrencyService({
      scope,
      clock,
      functions: repository,
      versions,
      aliases,
      configs: new SqliteProvisionedConcurrencyRepository(db),
      concurrency,
      provisioning: provisioner,
    });

    // Every invocation's record, and the usage metered from them (and from provisioned concurrency).
    // Records and metrics are written often and may lose their last moments in a crash: on a
    // connection of their own that does not wait for an fsync at every commit.
    const telemetryDb = await openSqliteDatabase(join(config.dataDir, 'lamina.db'), 'NORMAL');
    opened.push(telemetryDb);
    const records = new SqliteInvocationRecordStore(telemetryDb);
    const recorder = new InvocationRecorder({
      store: records,
      clock,
      retentionMs: config.invocationRecordRetentionMs,
      usageRetentionMs: USAGE_RETENTION_MS,
      provisionedNow: () => provisioned.allocatedNow(),
      onError: (error) => logger.error({ err: error }, 'writing invocation records failed'),
    });
    observers.add(recorder);
    // CloudWatch's AWS/Lambda metrics by minute (GetMetricData, GetMetricStatistics, ListMetrics).
    const cloudWatchMetrics = new MetricMinutes({
      clock,
      store: new SqliteMetricStore(telemetryDb),
      concurrency: { concurrencyNow: () => invokeService.concurrencyNow() },
      provisionedOf: (name) => concurrency.provisionedOf(name),
      provisionedFor: (name, qualifier) => provisioner.has(name, qualifier),
      onError: (error, what) => logger.error({ err: error }, `${what} failed`),
    });
    observers.add(cloudWatchMetrics);
    platformEvents.addAsync(cloudWatchMetrics);
    platformEvents.addMappings(cloudWatchMetrics);

    const eventConfigs = new SqliteEventInvokeConfigRepository(db);
    const targets = new ServiceAsyncTargets(lookup, eventConfigs, concurrency);
    const asyncStore = new SqliteAsyncEventStore(db);
    const dispatcher = new AsyncDispatcher({
      scope,
      store: asyncStore,
      invoker: { invoke: (request) => invokeService.invokeToEnd(request) },
      targets,
      clock,
      ids,
      concurrency: config.asyncConcurrency,
      onError: (error, requestId) =>
        logger.error({ err: error, requestId }, 'asynchronous event handling failed'),
      observer: platformEvents,
    });
    const asyncEvents = new AsyncEventService({
      scope,
      store: asyncStore,
      targets,
      clock,
      ids,
      onEnqueued: () => dispatcher.wake(),
      retentionMs: config.asyncEventRetentionMs,
      onError: (error) => logger.error({ err: error }, 'pruning asynchronous events failed'),
      observer: platformEvents,
    });
    // Prometheus: Lambda's metrics as they happen, and the platform's gauges read when scraped.
    const liveMetrics = new LiveMetrics({
      provisionedFor: (name, qualifier) => provisioner.has(name, qualifier),
    });
    observers.add(liveMetrics);
    platformEvents.addAsync(liveMetrics);
    platformEvents.addMappings(liveMetrics);
    // OpenTelemetry: the platform's spans of sampled invocations, batched to the collector.
    const spanExporter =
      config.otlpEndpoint === undefined
        ? undefined
        : new OtlpHttpExporter({
            endpoint: config.otlpEndpoint,
            maxQueuedSpans: config.otlpSpanBuffer,
            onDropped: (counts) =>
              logger.warn(
                { spans: counts },
                'platform spans dropped: the OTLP collector is slow, down or refusing them',
              ),
          });
    if (spanExporter !== undefined) {
      const spans = new PlatformSpans({ exporter: spanExporter, scope, clock, randomHex });
      observers.add(spans);
      platformEvents.addAsync(spans);
      platformEvents.addMappings(spans);
    }
    const queueDepth = new CachedReading(
      async () => ({ waiting: await asyncStore.waitingCount(), running: dispatcher.running }),
      clock,
    );
    const gauges: PlatformGauges = {
      concurrency: () => ({ ...invokeService.concurrencyNow(), accountLimit: limits.accountLimit }),
      environments: () => pool.status(),
      prestarted: () => prestartedByRuntime(prestarted.status()),
      provisioned: () => provisioner.status(),
      asyncQueue: () => queueDepth.get(),
      watching: () => ({
        spans: spanExporter?.counts(),
        otlpRelay: otlpRelay?.counts(),
        recordsDropped: recorder.dropped,
      }),
    };
    const prometheus = new PrometheusMetrics(liveMetrics, gauges);
    const metricsEndpoint: MetricsEndpoint = {
      token: config.metricsToken,
      render: () => prometheus.render(),
      onError: (error) => logger.error({ err: error }, 'rendering the metrics failed'),
      // A function's request relayed to the API arrives from loopback: it is not a loopback client.
      relayed: (port) => relayedPorts.has(port),
    };

    const eventSources = buildEventSources({
      db,
      secrets,
      scope,
      clock,
      ids,
      logger,
      lookup,
      invocations: () => late.invocations,
      asyncEvents,
      observer: platformEvents,
    });
    const schedules = buildSchedules({
      db,
      scope,
      clock,
      ids,
      logger,
      random: overrides.random,
      asyncEvents,
      iam: iamEdge.api.iam,
      authorizer: iamEdge.api.authorizer,
      observer: platformEvents,
    });
    const { directory } = iamEdge;
    const verifier =
      credentials === undefined
        ? undefined
        : new Sigv4Verifier({
            service: 'lambda',
            otherServices: ['iam', 'sts', 'scheduler', 'logs', 'monitoring'],
            region: config.region,
            clock,
            secretFor: (id) => directory.secretFor(id),
            sessionTokenFor: (id) => directory.sessionTokenFor(id),
            hasExpired: (id) => directory.hasExpired(id),
          });
    // The default URL base names the API's port, known once it listens.
    const publicUrlBase =
      config.functionUrlBase === undefined ? undefined : parseUrlBase(config.functionUrlBase);
    const urlBase = (): UrlBase =>
      publicUrlBase ??
      defaultUrlBase(
        config.region,
        Number(new URL(listening.endpoint ?? 'http://localhost:0').port),
      );
    const context: ApiContext = {
      scope,
      functions,
      functionUrls: new FunctionUrlService({
        scope,
        functions: repository,
        aliases,
        urls: new SqliteFunctionUrlRepository(db),
        clock,
        ids,
      }),
      permissions: new PermissionService({
        scope,
        functions: repository,
        versions,
        aliases,
        // Permission changes drop the resource policies IAM callers' invokes have compiled.
        policies: writes.watch(new SqlitePolicyRepository(db), ['put', 'delete']),
        ids,
      }),
      urlBase,
      layers,
      versions: new VersionService(scope, repository, versions, clock, ids),
      // A version no alias routes to any more keeps no idle environments.
      aliases: new AliasService(
        scope,
        repository,
        versions,
        aliases,
        ids,
        (name, version) =>
          void late.invocations
            ?.retireUnrouted(name, version)
            .catch((error: unknown) =>
              logger.error({ err: error }, 'retiring environments failed'),
            ),
      ),
      invocations: invokeService,
      eventInvokeConfigs: new EventInvokeConfigService({
        scope,
        functions: repository,
        versions,
        aliases,
        configs: eventConfigs,
        clock,
      }),
      asyncEvents,
      eventSourceMappings: eventSources.mappings,
      brokers: eventSources.brokers,
      registries,
      schedules: schedules.service,
      concurrency,
      provisioned,
      prestartedStatus: () => prestarted.status(),
      invocationHistory: new InvocationHistory({
        store: records,
        flush: () => recorder.flush(),
        prices: config.prices,
      }),
      runtimeVersionArn: versionArnOf,
      codeLocation: async (sha, requestHost) => {
        const path = `/lamina/2026-11-01/code/${sha}`;
        if (credentials === undefined) return `http://${requestHost}${path}`;
        return presignGetUrl(requestHost, path, {
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
    const reclaimer = collect === undefined ? undefined : new MemoryReclaimer({ collect });
    late.reclaimer = reclaimer;
    const urlDomains = [defaultUrlBase(config.region, 0).domain];
    if (publicUrlBase !== undefined) urlDomains.unshift(publicUrlBase.domain);
    const bodyBudget = new BodyBudget(config.requestBodyMemoryBytes, (bytes) =>
      late.reclaimer?.released(bytes),
    );
    // The other AWS services served at `POST /` beside IAM and STS.
    const rpcServices: RpcService[] = [];
    rpcServices.push(
      new CloudWatchService(cloudWatchMetrics, (error) =>
        logger.error({ err: error }, 'a CloudWatch request failed'),
      ),
    );
    // CloudWatch Logs over the function logs; a periodic sweep enforces their retention.
    const logArchive = new FileLogArchive({
      root: join(config.dataDir, 'logs'),
      writerQuietMs: config.environmentMaxAgeMs + 3_600_000,
      onScanned: (bytes) => late.reclaimer?.passedThrough(bytes),
      clock,
      unwrittenSince: () => logs.unwrittenSince?.(),
    });
    rpcServices.push(createLogsService({ archive: logArchive, scope, clock }));
    const logRetention = new LogRetentionSweeper(logArchive, clock, (error) =>
      logger.error({ err: error }, 'sweeping expired function logs failed'),
    );
    const http = buildLambdaHttpApi({
      rpcServices,
      metrics: config.metricsPort === undefined ? metricsEndpoint : undefined,
      context,
      verifier,
      logger,
      urlDomains,
      bodyBudget,
      identity: {
        ...iamEdge,
        resourcePolicies: new ResourcePolicyCache({
          read: (name, qualifier) => context.permissions.get(name, qualifier),
          compile: (document) => iamEdge.api.authorizer.compile(document, 'resource'),
          generation: () => writes.value,
        }),
      },
    });
    return new LaminaServer({
      config,
      logger,
      listening,
      credentials,
      limitations,
      host,
      db,
      telemetryDb,
      http,
      bodyBudget,
      repository,
      preparation,
      invocations: invokeService,
      prestarted,
      provisioner,
      provisioned,
      asyncStore,
      dispatcher,
      asyncEvents,
      recorder,
      cloudWatchMetrics,
      logs,
      logRetention,
      reclaimer,
      iam: iamEdge.api.iam,
      eventSources: eventSources.supervisor,
      schedules: schedules.service,
      scheduleRunner: schedules.runner,
      spanExporter,
      otlpRelay,
      metrics: prometheus,
      metricsListener:
        config.metricsPort === undefined ? undefined : new PrometheusListener(metricsEndpoint),
    });
  } catch (error) {
    await db?.destroy().catch(() => undefined);
    for (const other of opened) await other.destroy().catch(() => undefined);
    await host.close().catch(() => undefined);
    throw error;
  }
}

/** The architecture functions run on here (Lambda's names). */
function hostArchitecture(): Architecture {
  return process.arch === 'arm64' ? 'arm64' : 'x86_64';
}

/**
 * The Node.js launch pre-started from the start: nodejs20.x, or, when no release of it is
 * installed and the platform's Node.js is another major, the runtime of the platform's own major.
 */
function bootLaunch(launcher: HostRuntimeLauncher): RuntimeLaunch {
  try {
    return launcher.launch('nodejs20.x');
  } catch {
    return launcher.launch(`nodejs${process.versions.node.split('.')[0] ?? '20'}.x`);
  }
}
