/**
 * The `AWS/Lambda` metrics at one-minute resolution, as CloudWatch serves them: every invocation,
 * throttle, asynchronous event and mapping batch adds a sample to the aggregate of its metric,
 * dimension set and minute, in memory (a few Map lookups and additions per invoke); the
 * concurrency metrics are the per-minute maximum of InvokeService's in-flight counts, sampled
 * every second (and at least 1 in a minute an invocation ended in). Finished minutes are written
 * to the store just after each minute ends, off the invoke path, in chunks with the event loop
 * given back between them; the minute in progress is answered from memory, so a query right after
 * an invoke sees it. A read folds the store's rows three hours at a time straight into its periods. Data is kept for 15
 * days (CloudWatch's retention at one-minute resolution): older minutes are never answered and
 * are pruned every hour.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Clock } from '../core/clock.js';
import { DueTimer } from '../core/due-timer.js';
import type { InvocationReport, InvocationThrottle } from '../core/invocation-report.js';
import type {
  AsyncDropReason,
  AsyncObserver,
  MappingBatch,
  MappingObserver,
} from '../core/platform-events.js';
import type { InvocationObserver } from '../invoke/ports.js';
import {
  invocationDimensionSets,
  LAMBDA_NAMESPACE,
  seriesKey,
  type Dimension,
  type LambdaMetricName,
  type MetricSeries,
} from './lambda-metric-catalog.js';
import { bucketOf } from './log-histogram.js';
import { MetricAggregate } from './metric-aggregate.js';
import {
  alignedStart,
  PeriodFolder,
  type PeriodAggregate,
  type PeriodRange,
} from './metric-periods.js';
import type { MetricStore, SeriesMinute } from './metric-store.js';

export const MINUTE_MS = 60_000;
/** How long minutes are kept and answered: CloudWatch keeps one-minute data for 15 days. */
export const METRIC_RETENTION_MS = 15 * 86_400_000;
/** How often the in-flight counts are sampled. */
const SAMPLE_INTERVAL_MS = 1_000;
/** How long after a minute ends it is written (late samples of it are written in the next one). */
const FLUSH_DELAY_MS = 1_000;
const PRUNE_INTERVAL_MS = 3_600_000;
/** Closed minutes kept while the store refuses them (then the oldest are dropped). */
const MAX_PENDING_MINUTES = 240;
/**
 * How much of a series one store read takes: three hours, at most 180 minutes in hand at once and
 * a few milliseconds of the event loop (a day held it 20–30 ms, a stall a neighbour felt).
 */
export const READ_CHUNK_MS = 10_800_000;
/** Rows made ready for the store between two turns of the event loop while flushing. */
const ROWS_PER_TURN = 2_000;
/** Remembered dimension sets per function, qualifier and version (cleared past this). */
const MAX_CACHED_TARGETS = 10_000;

/** The in-flight counts (InvokeService.concurrencyNow). */
export interface ConcurrencySource {
  concurrencyNow(): {
    readonly byFunction: ReadonlyMap<string, number>;
    readonly provisionedByFunction: ReadonlyMap<string, number>;
    readonly unreserved: number;
  };
}

export interface MetricMinutesDeps {
  readonly clock: Clock;
  readonly store: MetricStore;
  readonly concurrency?: ConcurrencySource | undefined;
  /** A function's provisioned concurrency in total (0: none): ProvisionedConcurrencyUtilization. */
  readonly provisionedOf?: ((functionName: string) => number) | undefined;
  /** Whether a version or alias has provisioned concurrency: spillover invocations. */
  readonly provisionedFor?: ((functionName: string, qualifier: string) => boolean) | undefined;
  readonly onError: (error: unknown, what: string) => void;
  /** How long data is kept (default 15 days; tests shorten nothing, they move the clock). */
  readonly retentionMs?: number | undefined;
}

/** A series the catalog knows, and the last minute it had data. */
export interface CatalogEntry extends MetricSeries {
  readonly key: string;
  readonly namespace: string;
  lastMinuteMs: number;
}

/** What the CloudWatch API reads. */
export interface MetricReader {
  readonly retentionMs: number;
  now(): number;
  /** The series with data within the retention period. */
  listSeries(): CatalogEntry[];
  /**
   * How many minutes `fold` would read of series `key` between `fromMs` and `toMs` at most (the
   * part of the range within the retention period and up to the series' last minute; 0 for a
   * series with no data): what a request is charged for reading it.
   */
  minutesToRead(key: string, fromMs: number, toMs: number): number;
  /**
   * Folds the minutes of series `key` (store and memory merged, within the retention period)
   * into the periods of `range`, handing each period to `emit` once complete, oldest first. The
   * store is read three hours at a time, the event loop given back in between; histograms only
   * with `histograms`.
   */
  fold(
    key: string,
    range: PeriodRange,
    histograms: boolean,
    emit: (period: PeriodAggregate) => void,
  ): Promise<void>;
}

/** The series keys an invocation adds to, per metric. */
interface InvocationTarget {
  readonly invocations: readonly string[];
  readonly errors: readonly string[];
  readonly duration: readonly string[];
  readonly provisioned: readonly string[];
  readonly spillover: readonly string[];
  readonly concurrency: readonly string[];
}

/** A minute's aggregates in memory, with the batch number its rows are written under. */
interface MemoryMinute {
  readonly minuteMs: number;
  readonly batch: number;
  readonly series: Map<string, MetricAggregate>;
}

export class MetricMinutes
  implements InvocationObserver, AsyncObserver, MappingObserver, MetricReader
{
  readonly retentionMs: number;
  readonly #d: MetricMinutesDeps;
  /** Minutes still taking samples (the current one, and earlier ones a late report went to). */
  readonly #open = new Map<number, MemoryMinute>();
  /** Closed minutes not yet written (one being written stays here until it is). */
  #pending: MemoryMinute[] = [];
  readonly #catalog = new Map<string, CatalogEntry>();
  /** Series keys per metric and (function, qualifier, version): built once, then looked up. */
  readonly #targets = new Map<string, readonly string[]>();
  readonly #invocationTargets = new Map<string, InvocationTarget>();
  /** The minute the last sample went to (most samples go to the same one). */
  #lastMinute: MemoryMinute | undefined;
  /** Batch numbers: random per process, then counted, so rows of two runs never share one. */
  #nextBatch = Math.floor(Math.random() * 2 ** 40) * 1024;
  #flushing: Promise<void> = Promise.resolve();
  #pruning: Promise<void> = Promise.resolve();
  #sampler: NodeJS.Timeout | undefined;
  readonly #flushTimer: DueTimer;
  readonly #pruneTimer: DueTimer;
  #started = false;
  #stopped = false;

  constructor(deps: MetricMinutesDeps) {
    this.#d = deps;
    this.retentionMs = deps.retentionMs ?? METRIC_RETENTION_MS;
    this.#flushTimer = new DueTimer(deps.clock, () => this.#onFlushTimer());
    this.#pruneTimer = new DueTimer(deps.clock, () => this.#onPruneTimer());
  }

  now(): number {
    return this.#d.clock.now();
  }

  /** Loads the catalog of series, prunes, and starts sampling and writing. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    for (const stored of await this.#d.store.series(this.#cutoff())) {
      const known = this.#catalog.get(stored.key);
      if (known === undefined) this.#catalog.set(stored.key, { ...stored });
      else known.lastMinuteMs = Math.max(known.lastMinuteMs, stored.lastMinuteMs);
    }
    if (this.#stopped) return;
    this.#sampler = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    this.#sampler.unref();
    this.#armFlush();
    // What aged out while the server was down goes in the background (reads skip it already).
    this.#onPruneTimer();
  }

  /** Stops sampling and writes every minute held, the current one too. */
  async stop(): Promise<void> {
    if (this.#stopped) return this.#flushing;
    this.#stopped = true;
    clearInterval(this.#sampler);
    this.#flushTimer.cancel();
    this.#pruneTimer.cancel();
    await this.#pruning;
    await this.flush(true);
  }

  // ---- what is observed ----

  ended(report: InvocationReport): void {
    const minute = this.#minute(minuteOf(report.receivedMs));
    if (minute === undefined) return;
    const { functionName: fn, qualifier } = report;
    const target = this.#invocationTarget(fn, qualifier, report.executedVersion);
    for (const key of target.invocations) this.#aggregateIn(minute, key).add(1);
    const failed = report.outcome === 'success' ? 0 : 1;
    for (const key of target.errors) this.#aggregateIn(minute, key).add(failed);
    const duration = report.durationMs;
    if (report.billedDurationMs > 0) {
      // One logarithm for the four series the duration goes to.
      const bucket = duration > 0 ? bucketOf(duration) : undefined;
      for (const key of target.duration) {
        const aggregate = this.#aggregateIn(minute, key);
        if (bucket === undefined) aggregate.add(duration);
        else aggregate.addInBucket(duration, bucket);
      }
    }
    if (report.provisioned)
      for (const key of target.provisioned) this.#aggregateIn(minute, key).add(1);
    else if (qualifier !== undefined && this.#d.provisionedFor?.(fn, qualifier) === true)
      for (const key of target.spillover) this.#aggregateIn(minute, key).add(1);
    // An invocation ran in the minute it ended in: at least 1, whatever the samples missed.
    const endMinuteMs = minuteOf(report.endMs);
    for (const key of target.concurrency) this.#atLeastOne(endMinuteMs, key);
  }

  throttled(throttle: InvocationThrottle): void {
    const keys = this.#keys('Throttles', throttle.functionName, throttle.qualifier, undefined);
    this.#addAll(minuteOf(throttle.atMs), keys, 1);
  }

  received(functionName: string, qualifier: string | undefined): void {
    this.#addNow('AsyncEventsReceived', functionName, qualifier, 1);
  }

  attemptStarted(functionName: string, qualifier: string | undefined, ageMs: number): void {
    this.#addNow('AsyncEventAge', functionName, qualifier, Math.max(0, ageMs));
  }

  dropped(functionName: string, qualifier: string | undefined, _reason: AsyncDropReason): void {
    this.#addNow('AsyncEventsDropped', functionName, qualifier, 1);
  }

  destinationFailed(functionName: string, qualifier: string | undefined): void {
    this.#addNow('DestinationDeliveryFailures', functionName, qualifier, 1);
  }

  deadLetterFailed(functionName: string, qualifier: string | undefined): void {
    this.#addNow('DeadLetterErrors', functionName, qualifier, 1);
  }

  batchDone(batch: MappingBatch): void {
    if (batch.iteratorAgeMs === undefined) return;
    const keys = this.#keys('IteratorAge', batch.functionName, batch.qualifier, undefined);
    this.#addAll(minuteOf(batch.startMs), keys, Math.max(0, batch.iteratorAgeMs));
  }

  // ---- reading ----

  listSeries(): CatalogEntry[] {
    const cutoff = this.#cutoff();
    return [...this.#catalog.values()].filter((entry) => entry.lastMinuteMs >= cutoff);
  }

  minutesToRead(key: string, fromMs: number, toMs: number): number {
    const entry = this.#catalog.get(key);
    if (entry === undefined || entry.lastMinuteMs === -Infinity) return 0;
    const from = Math.max(fromMs, this.#cutoff());
    const to = Math.min(toMs, entry.lastMinuteMs + MINUTE_MS);
    return to > from ? Math.ceil((to - from) / MINUTE_MS) : 0;
  }

  async fold(
    key: string,
    range: PeriodRange,
    histograms: boolean,
    emit: (period: PeriodAggregate) => void,
  ): Promise<void> {
    const entry = this.#catalog.get(key);
    if (entry === undefined) return;
    const from = Math.max(alignedStart(range.startMs, range.periodSeconds), this.#cutoff());
    // Nothing is read past the series' last minute (a range may end in the year 9999).
    const to = Math.min(range.endMs, entry.lastMinuteMs + MINUTE_MS);
    if (from >= to) return;
    const periods = new PeriodFolder(range, emit);
    // Memory first, in one go: a minute written meanwhile is recognised by its batch number.
    const held: Array<{ minuteMs: number; batch: number; aggregate: MetricAggregate }> = [];
    for (const minute of [...this.#pending, ...this.#open.values()]) {
      const aggregate = minute.series.get(key);
      if (aggregate !== undefined && minute.minuteMs >= from && minute.minuteMs < to)
        held.push({ minuteMs: minute.minuteMs, batch: minute.batch, aggregate });
    }
    for (let chunkFrom = from; chunkFrom < to;) {
      // Histograms are more work a minute: a quarter of a day of them at a time.
      const chunkTo = Math.min(to, chunkFrom + (histograms ? READ_CHUNK_MS / 4 : READ_CHUNK_MS));
      const written = new Set<number>();
      for (const row of await this.#d.store.read(key, chunkFrom, chunkTo, histograms)) {
        written.add(row.batch);
        const period = periods.periodOf(row.minuteMs);
        if (period === undefined) continue;
        period.addFigures(row.count, row.sum, row.min, row.max);
        if (histograms) period.histogram.addEncoded(row.histogram);
      }
      for (const { minuteMs, batch, aggregate } of held)
        if (minuteMs >= chunkFrom && minuteMs < chunkTo && !written.has(batch))
          periods.periodOf(minuteMs)?.merge(aggregate, histograms);
      periods.emitBefore(chunkTo);
      chunkFrom = chunkTo;
      if (chunkFrom < to) await yieldToLoop();
    }
    periods.emitBefore(Infinity);
  }

  // ---- writing and pruning ----

  /**
   * Writes the minutes that have ended (every minute held with `all`). A failed write keeps them
   * for the next one (rows already written are not written twice: each is keyed by its batch).
   */
  flush(all = false): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#flushOnce(all));
    return this.#flushing;
  }

  /** Deletes data older than the retention period; returns the rows deleted. */
  async prune(): Promise<number> {
    const cutoff = this.#cutoff();
    for (const [key, entry] of this.#catalog)
      if (entry.lastMinuteMs < cutoff) this.#catalog.delete(key);
    // The cached series keys name catalog entries: made again as they are needed.
    this.#targets.clear();
    this.#invocationTargets.clear();
    for (const [minuteMs] of this.#open) if (minuteMs < cutoff) this.#open.delete(minuteMs);
    this.#pending = this.#pending.filter((minute) => minute.minuteMs >= cutoff);
    return this.#d.store.prune(cutoff);
  }

  async #flushOnce(all: boolean): Promise<void> {
    const currentMs = minuteOf(this.#d.clock.now());
    for (const [minuteMs, minute] of this.#open) {
      if (!all && minuteMs >= currentMs) continue;
      this.#open.delete(minuteMs);
      this.#pending.push(minute);
    }
    if (this.#pending.length > MAX_PENDING_MINUTES) {
      const dropped = this.#pending.splice(0, this.#pending.length - MAX_PENDING_MINUTES);
      this.#d.onError(
        new Error(`${dropped.length} minute(s) of metrics could not be written and were dropped`),
        'writing metrics',
      );
    }
    const writing = [...this.#pending];
    if (writing.length === 0) return;
    const rows: SeriesMinute[] = [];
    for (const minute of writing) {
      for (const [key, aggregate] of minute.series) {
        const entry = this.#catalog.get(key);
        if (entry === undefined) continue;
        // Encoding thousands of histograms is work too: the loop is given back now and then.
        if (rows.length > 0 && rows.length % ROWS_PER_TURN === 0) await yieldToLoop();
        rows.push({
          key,
          namespace: entry.namespace,
          metric: entry.metric,
          dimensions: entry.dimensions,
          minuteMs: minute.minuteMs,
          batch: minute.batch,
          count: aggregate.count,
          sum: aggregate.sum,
          min: aggregate.min,
          max: aggregate.max,
          histogram: aggregate.histogram.encode(),
        });
      }
    }
    try {
      await this.#d.store.write(rows);
      const done = new Set(writing);
      this.#pending = this.#pending.filter((minute) => !done.has(minute));
    } catch (error) {
      this.#d.onError(error, 'writing metrics');
    }
  }

  #onFlushTimer(): void {
    this.flush().catch((error: unknown) => this.#d.onError(error, 'writing metrics'));
    this.#armFlush();
  }

  #armFlush(): void {
    if (this.#stopped) return;
    this.#flushTimer.at(minuteOf(this.#d.clock.now()) + MINUTE_MS + FLUSH_DELAY_MS);
  }

  #onPruneTimer(): void {
    this.#pruning = this.prune().then(
      () => undefined,
      (error: unknown) => this.#d.onError(error, 'pruning metrics'),
    );
    if (!this.#stopped) this.#pruneTimer.at(this.#d.clock.now() + PRUNE_INTERVAL_MS);
  }

  // ---- samples ----

  /** Samples the in-flight counts now (a timer does every second; tests call it). */
  sample(): void {
    const source = this.#d.concurrency;
    if (source === undefined) return;
    const { byFunction, provisionedByFunction, unreserved } = source.concurrencyNow();
    const minuteMs = minuteOf(this.#d.clock.now());
    let total = 0;
    for (const [fn, running] of byFunction) {
      if (running <= 0) continue;
      total += running;
      this.#add(minuteMs, this.#series('ConcurrentExecutions', [fnDimension(fn)]), running);
    }
    if (total > 0) this.#add(minuteMs, this.#series('ConcurrentExecutions', []), total);
    if (unreserved > 0)
      this.#add(minuteMs, this.#series('UnreservedConcurrentExecutions', []), unreserved);
    for (const [fn, running] of provisionedByFunction) {
      if (running <= 0) continue;
      const dimensions = [fnDimension(fn)];
      this.#add(minuteMs, this.#series('ProvisionedConcurrentExecutions', dimensions), running);
      const provisioned = this.#d.provisionedOf?.(fn) ?? 0;
      if (provisioned > 0)
        this.#add(
          minuteMs,
          this.#series('ProvisionedConcurrencyUtilization', dimensions),
          running / provisioned,
        );
    }
  }

  // ---- the aggregates ----

  #addNow(
    metric: LambdaMetricName,
    fn: string,
    qualifier: string | undefined,
    value: number,
  ): void {
    this.#addAll(
      minuteOf(this.#d.clock.now()),
      this.#keys(metric, fn, qualifier, undefined),
      value,
    );
  }

  #addAll(minuteMs: number, keys: readonly string[], value: number): void {
    for (const key of keys) this.#add(minuteMs, key, value);
  }

  #add(minuteMs: number, key: string, value: number): void {
    const minute = this.#minute(minuteMs);
    if (minute !== undefined) this.#aggregateIn(minute, key).add(value);
  }

  #atLeastOne(minuteMs: number, key: string): void {
    const minute = this.#minute(minuteMs);
    if (minute === undefined || minute.series.has(key)) return;
    this.#aggregateIn(minute, key).add(1);
  }

  /** The minute's aggregates in memory (made on first use); none past the retention. */
  #minute(minuteMs: number): MemoryMinute | undefined {
    const last = this.#lastMinute;
    if (last?.minuteMs === minuteMs && this.#open.get(minuteMs) === last) return last;
    let minute = this.#open.get(minuteMs);
    if (minute === undefined) {
      if (this.#stopped || minuteMs < this.#cutoff()) return undefined;
      minute = { minuteMs, batch: (this.#nextBatch += 1), series: new Map() };
      this.#open.set(minuteMs, minute);
    }
    this.#lastMinute = minute;
    return minute;
  }

  /** The aggregate of a series in a minute, made on first use. */
  #aggregateIn(minute: MemoryMinute, key: string): MetricAggregate {
    let aggregate = minute.series.get(key);
    if (aggregate === undefined) {
      aggregate = new MetricAggregate();
      minute.series.set(key, aggregate);
      const entry = this.#catalog.get(key);
      if (entry !== undefined && entry.lastMinuteMs < minute.minuteMs)
        entry.lastMinuteMs = minute.minuteMs;
    }
    return aggregate;
  }

  /** The series an invocation of `fn` under `qualifier` running `version` adds to, made once. */
  #invocationTarget(fn: string, qualifier: string | undefined, version: string): InvocationTarget {
    const cacheKey = qualifier === undefined ? fn : `${fn}\n${qualifier}\n${version}`;
    let target = this.#invocationTargets.get(cacheKey);
    if (target === undefined) {
      if (this.#invocationTargets.size >= MAX_CACHED_TARGETS) this.#invocationTargets.clear();
      target = {
        invocations: this.#keys('Invocations', fn, qualifier, version),
        errors: this.#keys('Errors', fn, qualifier, version),
        duration: this.#keys('Duration', fn, qualifier, version),
        provisioned: this.#keys('ProvisionedConcurrencyInvocations', fn, qualifier, version),
        spillover: this.#keys('ProvisionedConcurrencySpilloverInvocations', fn, qualifier, version),
        concurrency: this.#keys('ConcurrentExecutions', fn, undefined, undefined, 2),
      };
      this.#invocationTargets.set(cacheKey, target);
    }
    return target;
  }

  /**
   * The series keys of `metric` for an invocation of `fn` under `qualifier` that ran `version`
   * (every dimension set, or the first `sets` of them), made once per combination.
   */
  #keys(
    metric: LambdaMetricName,
    fn: string,
    qualifier: string | undefined,
    version: string | undefined,
    sets = 4,
  ): readonly string[] {
    const cacheKey = `${metric}\n${fn}\n${qualifier ?? ''}\n${version ?? ''}\n${sets}`;
    let keys = this.#targets.get(cacheKey);
    if (keys === undefined) {
      if (this.#targets.size >= MAX_CACHED_TARGETS) this.#targets.clear();
      keys = invocationDimensionSets(fn, qualifier, version)
        .slice(0, sets)
        .map((dimensions) => this.#series(metric, dimensions));
      this.#targets.set(cacheKey, keys);
    }
    return keys;
  }

  /** The key of a series, recorded in the catalog (not yet with data) the first time. */
  #series(metric: LambdaMetricName, dimensions: readonly Dimension[]): string {
    const key = seriesKey(metric, dimensions);
    if (!this.#catalog.has(key))
      this.#catalog.set(key, {
        key,
        namespace: LAMBDA_NAMESPACE,
        metric,
        dimensions,
        lastMinuteMs: -Infinity,
      });
    return key;
  }

  #cutoff(): number {
    return minuteOf(this.#d.clock.now() - this.retentionMs) + MINUTE_MS;
  }
}

function minuteOf(ms: number): number {
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}

function fnDimension(functionName: string): Dimension {
  return { name: 'FunctionName', value: functionName };
}
