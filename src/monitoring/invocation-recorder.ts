/**
 * Keeps a record of every invocation and meters usage, off the invoke path: reports are collected
 * in memory and written in batches (one transaction every FLUSH_DELAY_MS at most), records older
 * than the retention are pruned in bounded steps, and the provisioned concurrency kept ready is
 * metered once a minute. A batch that cannot be written is counted as dropped and reported; the
 * invoke that made it never waits for, or fails with, its record.
 */
import type { Clock } from '../core/clock.js';
import { DueTimer } from '../core/due-timer.js';
import type { InvocationReport } from '../core/invocation-report.js';
import type { InvocationObserver } from '../invoke/ports.js';
import type {
  InvocationRecordStore,
  ProvisionedAccrual,
  ProvisionedNow,
} from './invocation-records.js';

/** How long reports gather before they are written together. */
export const FLUSH_DELAY_MS = 100;
/**
 * Most reports waiting to be written, in memory or in batches being written; past it new ones are
 * dropped (and counted), so a database that falls behind cannot make the backlog grow unbounded.
 */
export const MAX_PENDING = 100_000;
/** Records deleted per pruning step (a step holds the event loop for a few milliseconds). */
const PRUNE_STEP = 5_000;
const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

export interface InvocationRecorderDeps {
  readonly store: InvocationRecordStore;
  readonly clock: Clock;
  /** How long records are kept (ms). */
  readonly retentionMs: number;
  /** How long hourly usage is kept (ms). */
  readonly usageRetentionMs: number;
  /** Provisioned concurrency allocated now (metered once a minute). */
  readonly provisionedNow: () => Promise<readonly ProvisionedNow[]>;
  readonly onError: (error: unknown) => void;
}

export class InvocationRecorder implements InvocationObserver {
  readonly #d: InvocationRecorderDeps;
  #pending: InvocationReport[] = [];
  #accruals: ProvisionedAccrual[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #dropped = 0;
  /** Reports in batches handed to the store and not yet written. */
  #writingCount = 0;
  #lastMeteredMs: number | undefined;
  readonly #pruneTimer: DueTimer;
  readonly #meterTimer: DueTimer;
  #started = false;

  constructor(deps: InvocationRecorderDeps) {
    this.#d = deps;
    this.#pruneTimer = new DueTimer(deps.clock, () => void this.#pruneAndRearm());
    this.#meterTimer = new DueTimer(deps.clock, () => void this.#meterAndRearm());
  }

  /** Records not written: dropped past MAX_PENDING, or in a batch the store refused. */
  get dropped(): number {
    return this.#dropped;
  }

  ended(report: InvocationReport): void {
    if (this.#pending.length + this.#writingCount >= MAX_PENDING) {
      this.#dropped += 1;
      return;
    }
    this.#pending.push(report);
    if (this.#timer === undefined) {
      this.#timer = setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
      this.#timer.unref();
    }
  }

  /** Throttled requests are not invocations: they leave no record and cost nothing. */
  throttled(): void {}

  /** Writes what waits; resolves once it (and every earlier batch) is written or dropped. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const reports = this.#pending;
    const accruals = this.#accruals;
    this.#pending = [];
    this.#accruals = [];
    if (reports.length === 0 && accruals.length === 0) return this.#writing;
    this.#writingCount += reports.length;
    this.#writing = this.#writing.then(() =>
      this.#d.store
        .append(reports, accruals)
        .catch((error: unknown) => {
          this.#dropped += reports.length;
          this.#d.onError(error);
        })
        .finally(() => {
          this.#writingCount -= reports.length;
        }),
    );
    return this.#writing;
  }

  /** Starts pruning (now, then periodically) and metering provisioned concurrency. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#lastMeteredMs = this.#d.clock.now();
    this.#meterTimer.at(this.#lastMeteredMs + MINUTE_MS);
    void this.#pruneAndRearm();
  }

  /** Meters provisioned concurrency up to now and writes everything that waits. */
  async stop(): Promise<void> {
    this.#pruneTimer.cancel();
    this.#meterTimer.cancel();
    if (this.#started) await this.#meter().catch((error: unknown) => this.#d.onError(error));
    await this.flush();
  }

  /** Deletes records (and usage) older than their retention; returns how many records. */
  async prune(): Promise<number> {
    const now = this.#d.clock.now();
    await this.#d.store.pruneUsage(now - this.#d.usageRetentionMs);
    let total = 0;
    for (;;) {
      const deleted = await this.#d.store.pruneRecords(now - this.#d.retentionMs, PRUNE_STEP);
      total += deleted;
      if (deleted < PRUNE_STEP) return total;
      // Let requests run between steps.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async #pruneAndRearm(): Promise<void> {
    const started = this.#d.clock.now();
    try {
      await this.prune();
    } catch (error) {
      this.#d.onError(error);
    }
    const every = Math.min(Math.max(this.#d.retentionMs / 10, MINUTE_MS), HOUR_MS);
    this.#pruneTimer.at(started + every);
  }

  async #meterAndRearm(): Promise<void> {
    try {
      await this.#meter();
    } catch (error) {
      this.#d.onError(error);
    }
    this.#meterTimer.at(this.#d.clock.now() + MINUTE_MS);
  }

  /** Adds the provisioned concurrency kept since the last time to the usage. */
  async #meter(): Promise<void> {
    const from = this.#lastMeteredMs;
    const allocations = await this.#d.provisionedNow();
    const to = this.#d.clock.now();
    this.#lastMeteredMs = to;
    if (from === undefined || to <= from) return;
    for (const allocation of allocations)
      this.#accruals.push(...accrualsBetween(allocation, from, to));
    if (this.#accruals.length > 0) await this.flush();
  }
}

/** The memory-time an allocation kept from `fromMs` to `toMs`, split at the hours it crosses. */
export function accrualsBetween(
  allocation: ProvisionedNow,
  fromMs: number,
  toMs: number,
): ProvisionedAccrual[] {
  const out: ProvisionedAccrual[] = [];
  for (let start = fromMs; start < toMs;) {
    const hourMs = start - (start % HOUR_MS);
    const end = Math.min(toMs, hourMs + HOUR_MS);
    out.push({
      functionName: allocation.functionName,
      version: allocation.version,
      architecture: allocation.architecture,
      hourMs,
      mibMs: allocation.allocated * allocation.memoryMiB * (end - start),
    });
    start = end;
  }
  return out;
}
