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
  const start = alignedStart(startMs, periodSeconds);
  const periodMs = periodSeconds * 1000;
  const periods = new Map<number, MetricAggregate>();
  for (const [minuteMs, aggregate] of minutes) {
    if (minuteMs < start || minuteMs >= endMs) continue;
    const timestampMs = start + Math.floor((minuteMs - start) / periodMs) * periodMs;
    let period = periods.get(timestampMs);
    if (period === undefined) {
      period = new MetricAggregate();
      periods.set(timestampMs, period);
    }
    period.merge(aggregate, histograms);
  }
  return [...periods]
    .sort(([a], [b]) => a - b)
    .map(([timestampMs, aggregate]) => ({ timestampMs, aggregate }));
}
