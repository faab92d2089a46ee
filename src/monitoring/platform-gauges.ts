/**
 * What the metrics read from the platform when they are scraped (the gauges: levels, not events).
 * The server implements it over the invocation engine, the environment pool, the pre-started
 * pool, the provisioner and the asynchronous queue. Each call must be cheap: a scrape may come
 * every second.
 */

/** Invocations running now (ConcurrentExecutions, UnreservedConcurrentExecutions). */
import type { OtlpRelayCounts } from '../core/otlp-relay-counts.js';
import type { SpanExportCounts } from './span-exporter.js';

export interface ConcurrencyGauge {
  readonly byFunction: ReadonlyMap<string, number>;
  /** Running on the unreserved pool (functions without reserved concurrency). */
  readonly unreserved: number;
  /** The account's concurrency limit. */
  readonly accountLimit: number;
}

/** Execution environments by state, and the memory they hold. */
export interface EnvironmentsGauge {
  /** Initialising (a cold start or provisioned concurrency being made). */
  readonly starting: number;
  /** Initialised and waiting for an invocation (warm). */
  readonly idle: number;
  /** Running an invocation. */
  readonly busy: number;
  /** MemorySize reserved by live and starting environments (MiB). */
  readonly reservedMiB: number;
  /** What all environments may reserve together (MiB). */
  readonly capacityMiB: number;
}

/** Pre-started sandboxes of one runtime family. */
export interface PrestartedGauge {
  readonly family: string;
  /** Booted and waiting to be specialised. */
  readonly ready: number;
  /** Specialisations served so far (a counter). */
  readonly taken: number;
}

/** Provisioned concurrency of one version or alias. */
export interface ProvisionedGauge {
  readonly functionName: string;
  readonly qualifier: string;
  readonly requested: number;
  /** Initialised environments kept for it. */
  readonly allocated: number;
  /** Of those, running an invocation now. */
  readonly busy: number;
}

/** Asynchronous events not finished. */
export interface AsyncQueueGauge {
  /** Queued or waiting for a retry. */
  readonly waiting: number;
  /** Being attempted now. */
  readonly running: number;
}

/**
 * What watching itself could not keep: platform spans the OTLP exporter dropped, bodies functions
 * sent to their environment's OTLP endpoint that were not delivered, invocation records not
 * written. Counts since the server started; undefined parts are not configured.
 */
export interface WatchingGauge {
  readonly spans: SpanExportCounts | undefined;
  readonly otlpRelay: OtlpRelayCounts | undefined;
  readonly recordsDropped: number;
}

export interface PlatformGauges {
  concurrency(): ConcurrencyGauge;
  environments(): EnvironmentsGauge;
  prestarted(): readonly PrestartedGauge[];
  provisioned(): readonly ProvisionedGauge[];
  /** Read from the store: the implementation caches it (a second) so scrapes stay cheap. */
  asyncQueue(): Promise<AsyncQueueGauge>;
  watching(): WatchingGauge;
}

/**
 * The pre-started pool's families as metrics show them: a family is keyed by its language folder,
 * `AWS_EXECUTION_ENV` and command, joined by NUL (environment-factory's `prestartFamily`), which is
 * no label value. The runtime part names it (`AWS_Lambda_nodejs20.x` → `nodejs20.x`); families
 * that come to the same name are added up, so no series is repeated.
 */
export function prestartedByRuntime(
  families: readonly { readonly family: string; readonly ready: number; readonly taken: number }[],
): PrestartedGauge[] {
  const byName = new Map<string, PrestartedGauge>();
  for (const { family, ready, taken } of families) {
    const runtime = (family.split('\u0000')[1] ?? '').replace(/^AWS_Lambda_/, '');
    const name = /^[\w.-]{1,64}$/.test(runtime) ? runtime : 'other';
    const before = byName.get(name);
    byName.set(name, {
      family: name,
      ready: ready + (before?.ready ?? 0),
      taken: taken + (before?.taken ?? 0),
    });
  }
  return [...byName.values()];
}
