/**
 * What one metric holds for one minute (or a longer period, once minutes are merged): the sample
 * count, sum, minimum and maximum, and a histogram for percentiles; and CloudWatch's statistics
 * read from it (Sum, Average, Minimum, Maximum, SampleCount, pNN.NN, tmNN, IQM).
 */
import { LogHistogram } from './log-histogram.js';

export class MetricAggregate {
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  /** Made when first needed: a period read without percentiles never has one. */
  #histogram: LogHistogram | undefined;

  constructor(histogram?: LogHistogram) {
    this.#histogram = histogram;
  }

  get histogram(): LogHistogram {
    this.#histogram ??= new LogHistogram();
    return this.#histogram;
  }

  add(value: number): void {
    this.count += 1;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    this.histogram.add(value);
  }

  /** Adds a positive `value` whose histogram bucket (`bucketOf`) is known already. */
  addInBucket(value: number, bucket: number): void {
    this.count += 1;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    this.histogram.addAt(bucket);
  }

  /** Adds a stored minute's figures (its histogram, if wanted, goes by `histogram.addEncoded`). */
  addFigures(count: number, sum: number, min: number, max: number): void {
    this.count += count;
    this.sum += sum;
    if (min < this.min) this.min = min;
    if (max > this.max) this.max = max;
  }

  /** Adds `other`'s figures (and its histogram, unless only the figures are wanted). */
  merge(other: MetricAggregate, histogram = true): void {
    this.addFigures(other.count, other.sum, other.min, other.max);
    if (histogram && other.#histogram !== undefined) this.histogram.merge(other.#histogram);
  }
}

/** One of CloudWatch's statistics, parsed. */
export type Statistic =
  | { readonly kind: 'SampleCount' | 'Sum' | 'Average' | 'Minimum' | 'Maximum' }
  /** `pNN.NN`: the value at that percentile. */
  | { readonly kind: 'percentile'; readonly percent: number }
  /** `tmNN`, `tm(A%:B%)`, `IQM`: the mean of the values between two percentiles. */
  | { readonly kind: 'trimmedMean'; readonly lowPercent: number; readonly highPercent: number };

export const BASIC_STATISTICS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'] as const;
export type BasicStatistic = (typeof BASIC_STATISTICS)[number];

const PERCENT = String.raw`(?:100(?:\.0{1,2})?|\d{1,2}(?:\.\d{1,2})?)`;
const PERCENTILE_RE = new RegExp(`^p(${PERCENT})$`);
const TRIMMED_RE = new RegExp(`^tm(${PERCENT})$`);
const TRIMMED_RANGE_RE = new RegExp(`^tm\\((${PERCENT})?%:(${PERCENT})?%\\)$`, 'i');

/** `text` as a statistic, or undefined when CloudWatch (as Lamina serves it) has no such one. */
export function parseStatistic(text: string): Statistic | undefined {
  if ((BASIC_STATISTICS as readonly string[]).includes(text))
    return { kind: text as BasicStatistic };
  return parseExtendedStatistic(text);
}

/** An extended statistic (`p99`, `p99.9`, `tm90`, `tm(10%:90%)`, `IQM`), or undefined. */
export function parseExtendedStatistic(text: string): Statistic | undefined {
  const percentile = PERCENTILE_RE.exec(text);
  if (percentile !== null) return { kind: 'percentile', percent: Number(percentile[1]) };
  const trimmed = TRIMMED_RE.exec(text);
  if (trimmed !== null)
    return { kind: 'trimmedMean', lowPercent: 0, highPercent: Number(trimmed[1]) };
  const range = TRIMMED_RANGE_RE.exec(text);
  if (range !== null) {
    const low = range[1] === undefined ? 0 : Number(range[1]);
    const high = range[2] === undefined ? 100 : Number(range[2]);
    return low < high ? { kind: 'trimmedMean', lowPercent: low, highPercent: high } : undefined;
  }
  if (text === 'IQM') return { kind: 'trimmedMean', lowPercent: 25, highPercent: 75 };
  return undefined;
}

/** The statistic's value over `aggregate`; undefined when it holds nothing to read it from. */
export function statisticValue(
  aggregate: MetricAggregate,
  statistic: Statistic,
): number | undefined {
  if (aggregate.count === 0) return undefined;
  switch (statistic.kind) {
    case 'SampleCount':
      return aggregate.count;
    case 'Sum':
      return aggregate.sum;
    case 'Average':
      return aggregate.sum / aggregate.count;
    case 'Minimum':
      return aggregate.min;
    case 'Maximum':
      return aggregate.max;
    case 'percentile': {
      // The ends are known exactly (p99 of fewer than 100 values is the largest); between them,
      // the value is read back within the histogram's accuracy.
      const rank = Math.max(1, Math.ceil((statistic.percent / 100) * aggregate.count - 1e-9));
      if (rank >= aggregate.count) return aggregate.max;
      if (rank === 1) return aggregate.min;
      return clamp(aggregate.histogram.quantile(statistic.percent / 100), aggregate);
    }
    case 'trimmedMean':
      return clamp(
        aggregate.histogram.trimmedMean(statistic.lowPercent / 100, statistic.highPercent / 100),
        aggregate,
      );
  }
}

function clamp(value: number | undefined, aggregate: MetricAggregate): number | undefined {
  if (value === undefined) return undefined;
  return Math.min(aggregate.max, Math.max(aggregate.min, value));
}
