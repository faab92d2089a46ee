/**
 * How CloudWatch turns minutes into datapoints: the start time is rounded down (to the minute, or
 * to the period's own seconds below a minute), each period after it gathers the minutes whose
 * timestamps fall in it, and only periods holding data become datapoints, stamped with the
 * period's start. The end time is exclusive. Pure functions.
 */
import { MetricAggregate } from './metric-aggregate.js';

/** Periods CloudWatch takes below a minute (for high-resolution data; Lamina's is per minute). */
export const SHORT_PERIODS: readonly number[] = [1, 5, 10, 30];

/** Whether `periodSeconds` is one CloudWatch accepts: 1, 5, 10, 30 or a multiple of 60. */
export function validPeriod(periodSeconds: number): boolean {
  return (
    Number.isInteger(periodSeconds) &&
    periodSeconds > 0 &&
    (periodSeconds % 60 === 0 || SHORT_PERIODS.includes(periodSeconds))
  );
}

/** The start of the first period. */
export function alignedStart(startMs: number, periodSeconds: number): number {
  const unit = (periodSeconds < 60 ? periodSeconds : 60) * 1000;
  return Math.floor(startMs / unit) * unit;
}

/** How many datapoints a range asks for at most (CloudWatch's figure in its limit's message). */
export function requestedDatapoints(startMs: number, endMs: number, periodSeconds: number): number {
  return Math.ceil((endMs - startMs) / (periodSeconds * 1000));
}

/** A datapoint: a period's start and what its minutes add up to. */
export interface PeriodAggregate {
  readonly timestampMs: number;
  readonly aggregate: MetricAggregate;
}

/** A query's periods: from `startMs` (rounded down) to `endMs` (exclusive), `periodSeconds` long. */
export interface PeriodRange {
  readonly startMs: number;
  readonly endMs: number;
  readonly periodSeconds: number;
}

/**
 * Folds minutes, given in any order, into the periods of a range, and hands each period on once
 * no later minute can fall in it (`emitBefore`): a read over days holds the periods of the
 * minutes it has in hand, not every minute.
 */
export class PeriodFolder {
  readonly #start: number;
  readonly #end: number;
  readonly #periodMs: number;
  readonly #emit: (period: PeriodAggregate) => void;
  readonly #open = new Map<number, MetricAggregate>();

  constructor(range: PeriodRange, emit: (period: PeriodAggregate) => void) {
    this.#start = alignedStart(range.startMs, range.periodSeconds);
    this.#end = range.endMs;
    this.#periodMs = range.periodSeconds * 1000;
    this.#emit = emit;
  }

  /** The aggregate of the period `minuteMs` falls in (made on first use); none outside the range. */
  periodOf(minuteMs: number): MetricAggregate | undefined {
    if (minuteMs < this.#start || minuteMs >= this.#end) return undefined;
    const timestampMs =
      this.#start + Math.floor((minuteMs - this.#start) / this.#periodMs) * this.#periodMs;
    let period = this.#open.get(timestampMs);
    if (period === undefined) {
      period = new MetricAggregate();
      this.#open.set(timestampMs, period);
    }
    return period;
  }

  /** Hands on, oldest first, the periods that end at or before `boundaryMs` (all: Infinity). */
  emitBefore(boundaryMs: number): void {
    const done = [...this.#open.keys()]
      .filter((timestampMs) => timestampMs + this.#periodMs <= boundaryMs)
      .sort((a, b) => a - b);
    for (const timestampMs of done) {
      const aggregate = this.#open.get(timestampMs);
      this.#open.delete(timestampMs);
      if (aggregate !== undefined) this.#emit({ timestampMs, aggregate });
    }
  }
}

/**
 * The datapoints of `minutes` (minute start → aggregate) between `startMs` (rounded down) and
 * `endMs` (exclusive), oldest first.
 */
export function rollUp(
  minutes: ReadonlyMap<number, MetricAggregate>,
  startMs: number,
  endMs: number,
  periodSeconds: number,
  histograms: boolean,
): PeriodAggregate[] {
  const out: PeriodAggregate[] = [];
  const folder = new PeriodFolder({ startMs, endMs, periodSeconds }, (p) => out.push(p));
  for (const [minuteMs, aggregate] of minutes)
    folder.periodOf(minuteMs)?.merge(aggregate, histograms);
  folder.emitBefore(Infinity);
  return out;
}
