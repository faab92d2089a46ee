/**
 * Lambda's metrics as they happen, in memory: per function and resource (the qualifier it was
 * invoked with) the invocations, errors, throttles, durations, cold starts, provisioned and
 * spillover invocations, the asynchronous queue's events, and per event source mapping its
 * batches and iterator age. It hears of them as an InvocationObserver, AsyncObserver and
 * MappingObserver; the Prometheus endpoint reads it when scraped.
 *
 * Recording is on the tail of every invoke, so it is plain arithmetic on plain objects (two Map
 * reads to find the series, no allocation once a series exists); turning the figures into
 * Prometheus's shapes happens only at scrape time. Label values are bounded: function names,
 * qualifiers, mapping ids and the source kind — never request ids — and the number of series is
 * capped (series-table.ts).
 */
import {
  INVOCATION_TRIGGERS,
  type InvocationReport,
  type InvocationThrottle,
  type InvocationTrigger,
} from '../core/invocation-report.js';
import { LATEST } from '../core/function-model.js';
import type {
  AsyncDropReason,
  AsyncObserver,
  MappingBatch,
  MappingObserver,
} from '../core/platform-events.js';
import type { InvocationObserver } from '../invoke/ports.js';
import {
  ASYNC_AGE_BUCKETS_SECONDS,
  BucketCounts,
  DURATION_BUCKETS_SECONDS,
  INIT_DURATION_BUCKETS_SECONDS,
} from './bucket-counts.js';
import { SeriesTable } from './series-table.js';

/** Series per function and resource kept before new ones are folded (default). */
export const DEFAULT_MAX_SERIES = 2000;
/** Event source mapping series kept before new ones are folded (default). */
export const DEFAULT_MAX_MAPPING_SERIES = 500;

const TRIGGER_SLOT: Readonly<Record<InvocationTrigger, number>> = Object.fromEntries(
  INVOCATION_TRIGGERS.map((trigger, i) => [trigger, i]),
) as Record<InvocationTrigger, number>;

/** The figures of one function and resource (`resource`: the qualifier, `$LATEST` unqualified). */
export class FunctionSeries {
  /** Invocations by trigger, in the order of INVOCATION_TRIGGERS. */
  readonly invocations = new Float64Array(INVOCATION_TRIGGERS.length);
  /** Invocations that ended in a function or platform error, or timed out (Lambda's Errors). */
  errors = 0;
  throttles = 0;
  /** Durations (seconds) of invocations the runtime got. */
  readonly duration = new BucketCounts(DURATION_BUCKETS_SECONDS);
  coldStarts = 0;
  /** Init durations (seconds) of cold starts. */
  readonly initDuration = new BucketCounts(INIT_DURATION_BUCKETS_SECONDS);
  provisionedInvocations = 0;
  /** Invocations of a resource with provisioned concurrency that ran on-demand all the same. */
  spilloverInvocations = 0;
  /** Max Memory Used of the latest invocation that reported one (MiB; 0: none yet). */
  maxMemoryUsedMiB = 0;
  asyncReceived = 0;
  /** Age (seconds) of asynchronous events when an attempt started. */
  readonly asyncAge = new BucketCounts(ASYNC_AGE_BUCKETS_SECONDS);
  droppedRetriesExhausted = 0;
  droppedEventAgeExceeded = 0;
  destinationFailures = 0;
  deadLetterErrors = 0;

  constructor(
    readonly functionName: string,
    readonly resource: string,
  ) {}
}

/** The figures of one event source mapping. */
export class MappingSeries {
  /** Batches the function succeeded with. */
  succeeded = 0;
  /** Batches that ended in an error (function error, or the function could not run). */
  failed = 0;
  /** Records in those batches. */
  records = 0;
  /** Age of the oldest record of the latest batch when it was invoked (ms; undefined: none). */
  iteratorAgeMs: number | undefined;

  constructor(
    readonly mappingUuid: string,
    readonly functionName: string,
    readonly resource: string,
    readonly source: string,
  ) {}
}

export interface LiveMetricsOptions {
  /**
   * Whether a version or alias has provisioned concurrency configured: an invocation of it that
   * ran on-demand is a spillover. Called once per on-demand invocation; must be a quick lookup.
   */
  readonly provisionedFor: (functionName: string, qualifier: string) => boolean;
  readonly maxSeries?: number | undefined;
  readonly maxMappingSeries?: number | undefined;
}

export class LiveMetrics implements InvocationObserver, AsyncObserver, MappingObserver {
  readonly #functions: SeriesTable<FunctionSeries>;
  readonly #mappings: SeriesTable<MappingSeries>;
  readonly #provisionedFor: (functionName: string, qualifier: string) => boolean;

  constructor(options: LiveMetricsOptions) {
    this.#provisionedFor = options.provisionedFor;
    this.#functions = new SeriesTable(
      options.maxSeries ?? DEFAULT_MAX_SERIES,
      (name, resource) => new FunctionSeries(name, resource),
    );
    this.#mappings = new SeriesTable(
      options.maxMappingSeries ?? DEFAULT_MAX_MAPPING_SERIES,
      (uuid, target) => {
        // The second key is "<function>\0<resource>\0<source>" (see batchDone).
        const [functionName = uuid, resource = uuid, source = uuid] = target.split('\u0000');
        return new MappingSeries(uuid, functionName, resource, source);
      },
    );
  }

  ended(report: InvocationReport): void {
    const series = this.#series(report.functionName, report.qualifier);
    const slot = TRIGGER_SLOT[report.trigger] ?? 0;
    series.invocations[slot] = (series.invocations[slot] as number) + 1;
    if (report.outcome !== 'success') series.errors += 1;
    // An invocation whose environment failed to start never ran: it has no duration.
    if (report.billedDurationMs > 0) series.duration.observe(report.durationMs / 1000);
    if (report.cold) {
      series.coldStarts += 1;
      if (report.initDurationMs !== undefined)
        series.initDuration.observe(report.initDurationMs / 1000);
    }
    if (report.provisioned) series.provisionedInvocations += 1;
    else if (this.#provisionedFor(report.functionName, report.qualifier ?? LATEST))
      series.spilloverInvocations += 1;
    if (report.maxMemoryUsedMiB > 0) series.maxMemoryUsedMiB = report.maxMemoryUsedMiB;
  }

  throttled(throttle: InvocationThrottle): void {
    this.#series(throttle.functionName, throttle.qualifier).throttles += 1;
  }

  received(functionName: string, qualifier: string | undefined): void {
    this.#series(functionName, qualifier).asyncReceived += 1;
  }

  attemptStarted(functionName: string, qualifier: string | undefined, ageMs: number): void {
    this.#series(functionName, qualifier).asyncAge.observe(Math.max(0, ageMs) / 1000);
  }

  dropped(functionName: string, qualifier: string | undefined, reason: AsyncDropReason): void {
    const series = this.#series(functionName, qualifier);
    if (reason === 'EventAgeExceeded') series.droppedEventAgeExceeded += 1;
    else series.droppedRetriesExhausted += 1;
  }

  destinationFailed(functionName: string, qualifier: string | undefined): void {
    this.#series(functionName, qualifier).destinationFailures += 1;
  }

  deadLetterFailed(functionName: string, qualifier: string | undefined): void {
    this.#series(functionName, qualifier).deadLetterErrors += 1;
  }

  batchDone(batch: MappingBatch): void {
    const target = `${batch.functionName}\u0000${batch.qualifier ?? LATEST}\u0000${batch.source}`;
    const series = this.#mappings.get(batch.mappingUuid, target);
    if (batch.outcome === 'success') series.succeeded += 1;
    else series.failed += 1;
    series.records += batch.records;
    if (batch.iteratorAgeMs !== undefined) series.iteratorAgeMs = Math.max(0, batch.iteratorAgeMs);
  }

  /** Every function series (read at scrape time; do not keep the objects). */
  functions(): IterableIterator<FunctionSeries> {
    return this.#functions.values();
  }

  /** Every mapping series. */
  mappings(): IterableIterator<MappingSeries> {
    return this.#mappings.values();
  }

  /** Series kept and observations folded into the overflow series, over both tables. */
  cardinality(): { readonly series: number; readonly folded: number } {
    return {
      series: this.#functions.size + this.#mappings.size,
      folded: this.#functions.folded + this.#mappings.folded,
    };
  }

  #series(functionName: string, qualifier: string | undefined): FunctionSeries {
    return this.#functions.get(functionName, qualifier ?? LATEST);
  }
}
