/**
 * A built Lamina server (see buildLamina): starts its parts in order, once (store recovery →
 * asynchronous queue → event sources and schedules → HTTP → provisioned concurrency), and stops
 * them in the reverse order.
 */
import type { OtlpForwarder } from '../runtime-api/otlp-forwarder.js';
import type { InvocationRecorder } from '../monitoring/invocation-recorder.js';
import type { MetricMinutes } from '../monitoring/metric-minutes.js';
import type { MappingSupervisor } from '../event-sources/mapping-supervisor.js';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { AsyncDispatcher } from '../async/async-dispatcher.js';
import type { AsyncEventService } from '../async/async-event-service.js';
import type { BodyBudget } from '../core/body-budget.js';
import type { LogSink } from '../environment/ports.js';
import type { PrestartedPool } from '../environment/prestarted-pool.js';
import type { PreparationQueue } from '../functions/preparation-queue.js';
import type { ProvisionedConcurrencyService } from '../functions/provisioned-concurrency-service.js';
import type { InvokeService } from '../invoke/invoke-service.js';
import type { Provisioner } from '../invoke/provisioner.js';
import type { Database } from '../store/database-schema.js';
import type { IamService } from '../iam/iam-service.js';
import type { SqliteAsyncEventStore } from '../store/sqlite-async-event-store.js';
import type { SqliteFunctionRepository } from '../store/sqlite-function-repository.js';
import type { Credentials } from './credentials.js';
import type { ScheduleRunner } from '../schedules/schedule-runner.js';
import type { ScheduleService } from '../schedules/schedule-service.js';
import type { MemoryReclaimer } from './memory-reclaimer.js';
import type { LogRetentionSweeper } from '../monitoring/log-retention.js';
import type { PrometheusListener } from '../api/prometheus-listener.js';
import type { PrometheusMetrics } from '../api/prometheus-metrics.js';
import type { SandboxHost } from './sandbox-host.js';
import type { ServerConfig } from './server-config.js';

/** Where the HTTP API listens, once it does (read by parts built before it listened). */
export interface Listening {
  endpoint?: string;
  /** The address environments' relays connect to. */
  apiTarget?: { host: string; port: number };
  /** Where Prometheus scrapes (`…/metrics` on the API port, or on `--metrics-port`). */
  metrics?: string;
}

/** The sink of function log lines, flushed on stop. */
export interface ServerLogSink extends LogSink {
  flush(): Promise<void>;
  /** The earliest timestamp of a line not yet written, when the sink can tell (FileLogStore). */
  unwrittenSince?(): number | undefined;
}

/** The parts a server starts and stops (built by buildLamina). */
export interface ServerParts {
  readonly config: ServerConfig;
  readonly logger: Logger;
  readonly listening: Listening;
  readonly credentials: Credentials | undefined;
  readonly limitations: readonly string[];
  readonly host: SandboxHost;
  readonly db: Kysely<Database>;
  /** The same database on a connection that does not sync each commit (records, metrics). */
  readonly telemetryDb: Kysely<Database>;
  readonly http: FastifyInstance;
  readonly bodyBudget: BodyBudget;
  readonly repository: SqliteFunctionRepository;
  readonly preparation: PreparationQueue;
  readonly invocations: InvokeService;
  readonly prestarted: PrestartedPool;
  readonly provisioner: Provisioner;
  readonly provisioned: ProvisionedConcurrencyService;
  readonly asyncStore: SqliteAsyncEventStore;
  readonly dispatcher: AsyncDispatcher;
  readonly asyncEvents: AsyncEventService;
  /** Invocation records and usage, written in batches; pruned and metered while running. */
  readonly recorder: InvocationRecorder;
  /** CloudWatch's metrics by minute: sampled and written while running, pruned after 15 days. */
  readonly cloudWatchMetrics: MetricMinutes;
  readonly logs: ServerLogSink;
  /** Deletes function logs past their group's retention (PutRetentionPolicy), periodically. */
  readonly logRetention: LogRetentionSweeper;
  readonly reclaimer: MemoryReclaimer | undefined;
  /** IAM's users, roles and policies (tests make the roles their functions name). */
  readonly iam: IamService;
  /** Runs the event source mappings. */
  readonly eventSources: MappingSupervisor;
  /** EventBridge Scheduler's schedules (the API's service) and the runner that fires them. */
  readonly schedules: ScheduleService;
  readonly scheduleRunner: ScheduleRunner;
  /** Sends the platform's spans to the OTLP collector (`--otlp-endpoint`), if one is set. */
  readonly spanExporter?: { stop(): Promise<void> } | undefined;
  /**
   * Relays what functions send to their environment's OTLP endpoint to the same collector, if one
   * is set; `counts()` tells what it forwarded and dropped.
   */
  readonly otlpRelay?: OtlpForwarder | undefined;
  /** The Prometheus registry (`/metrics`); others may register their metrics on it. */
  readonly metrics: PrometheusMetrics;
  /** `/metrics` on its own port (`--metrics-port`), else undefined: on the API port. */
  readonly metricsListener: PrometheusListener | undefined;
}

export class LaminaServer {
  /** Its parts, for the tests that look inside (the HTTP app, the store, the queues). */
  readonly parts: ServerParts;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #reaper: NodeJS.Timeout | undefined;

  constructor(parts: ServerParts) {
    this.parts = parts;
  }

  get config(): ServerConfig {
    return this.parts.config;
  }

  /** `http://host:port` once started. */
  get endpoint(): string {
    const endpoint = this.parts.listening.endpoint;
    if (endpoint === undefined) throw new Error('The server has not started.');
    return endpoint;
  }

  /** The URL Prometheus scrapes, once started. */
  get metricsEndpoint(): string {
    const metrics = this.parts.listening.metrics;
    if (metrics === undefined) throw new Error('The server has not started.');
    return metrics;
  }

  /** The accepted key pair (undefined with `--auth none`). */
  get credentials(): Credentials | undefined {
    return this.parts.credentials;
  }

  /** What the sandbox cannot enforce on this host (printed at start). */
  get limitations(): readonly string[] {
    return this.parts.limitations;
  }

  /** Where function logs are kept. */
  get logs(): ServerLogSink {
    return this.parts.logs;
  }

  /** The pre-started sandbox pool (for Lamina's status API and tests). */
  get prestarted(): PrestartedPool {
    return this.parts.prestarted;
  }

  /**
   * Stops environments idle for longer than the idle timeout (scale to zero; provisioned ones
   * stay). Runs on a timer; tests with an injected clock call it directly. Returns how many.
   */
  reapIdle(): Promise<number> {
    return this.parts.invocations.reapIdle(this.config.idleTimeoutMs);
  }

  /**
   * Retires environments older than their maximum age (before their credentials expire); their
   * functions' next invocations start new ones. Runs on the idle reaper's timer; tests with an
   * injected clock call it directly. Returns how many.
   */
  retireAged(): Promise<number> {
    return this.parts.invocations.retireAged(this.config.environmentMaxAgeMs);
  }

  /** Resolves when all background preparations are done (for tests and orderly stops). */
  idle(): Promise<void> {
    return this.parts.preparation.idle();
  }

  /** Starts serving: once, however often it is called; never once it has been stopped. */
  start(): Promise<void> {
    if (this.#stopping !== undefined && this.#starting === undefined)
      return Promise.reject(new Error('The server has been stopped.'));
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    const { config, logger, preparation, dispatcher, asyncEvents, http, listening } = this.parts;
    const recovered = await preparation.recover();
    if (recovered > 0) logger.info({ recovered }, 'resuming unfinished code preparations');
    // Events a crash left Running go back in the queue before anything new is accepted.
    const requeued = await dispatcher.start();
    if (requeued > 0)
      logger.warn({ requeued }, 'asynchronous events interrupted by a crash will run again');
    asyncEvents.startPruning();
    this.parts.logRetention.start();
    this.parts.recorder.start();
    await this.parts.cloudWatchMetrics.start();
    // Mappings resume (their sources connect in the background) once the queue takes events.
    await this.parts.eventSources.start();
    // Schedules fire into the queue: what fell due while the server was down fires once now.
    await this.parts.schedules.ensureDefaultGroup();
    this.parts.scheduleRunner.start();
    this.parts.prestarted.start();
    this.#reaper = setInterval(
      () => {
        this.reapIdle().catch((error: unknown) =>
          logger.error({ err: error }, 'idle reaping failed'),
        );
        this.retireAged().catch((error: unknown) =>
          logger.error({ err: error }, 'retiring aged environments failed'),
        );
      },
      Math.max(1000, Math.min(30_000, config.idleTimeoutMs / 4)),
    );
    this.#reaper.unref();
    const address = await http.listen({ host: config.host, port: config.port });
    listening.endpoint = address.replace('[::1]', 'localhost');
    const url = new URL(listening.endpoint);
    listening.apiTarget = {
      host: url.hostname === 'localhost' ? '127.0.0.1' : url.hostname,
      port: Number(url.port),
    };
    const { metrics, metricsListener } = this.parts;
    metrics.startProcessMetrics();
    listening.metrics =
      metricsListener === undefined
        ? `${listening.endpoint}/metrics`
        : await metricsListener.listen(config.host, config.metricsPort ?? 0);
    await this.parts.provisioned.load();
  }

  /**
   * Stops accepting requests, lets in-flight ones finish, then closes the store and releases the
   * sandbox host. Idempotent; also for a server that was built and never started.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const p = this.parts;
      await this.#starting?.catch(() => undefined);
      clearInterval(this.#reaper);
      p.asyncEvents.stopPruning();
      // No fire after this; one being recorded is, before the queue and the store stop.
      const schedulesStopped = p.scheduleRunner.stop();
      // Claim nothing new; attempts under way are recorded (or put back) before the store closes.
      const asyncStopped = p.dispatcher.stop();
      // Every step runs even when one before it failed; the first failure is thrown at the end,
      // once the sandbox host (cgroups, mounts, the run folder) is released.
      const failures: unknown[] = [];
      const step = async (work: () => Promise<void> | void) => {
        try {
          await work();
        } catch (error) {
          failures.push(error);
        }
      };
      await step(() => p.http.close());
      await step(() => p.metricsListener?.close());
      await step(() => schedulesStopped);
      // Batches under way finish and are settled; records read but not settled go back.
      await step(() => p.eventSources.stop());
      await step(() => p.reclaimer?.stop());
      await step(() => p.provisioner.stop());
      await step(() => p.invocations.stop());
      await step(() => asyncStopped);
      // The last invocations' spans get a short while to reach the collector.
      await step(() => p.spanExporter?.stop());
      // Every environment has ended: what functions sent and is still queued is let go.
      await step(() => p.otlpRelay?.close());
      await step(() => p.asyncStore.flush());
      // Every invocation has ended: its record (and the provisioned usage so far) is written.
      await step(() => p.recorder.stop());
      // And its metrics: the minute in progress too.
      await step(() => p.cloudWatchMetrics.stop());
      await step(() => p.logRetention.stop());
      await step(() => p.logs.flush());
      await step(() => p.preparation.stop());
      await step(() => p.telemetryDb.destroy());
      await step(() => p.db.destroy());
      await step(() => p.host.close());
      if (failures.length > 0) throw failures[0];
    })();
    return this.#stopping;
  }
}
