/**
 * A histogram's counts kept as plain numbers: one array slot per bucket, incremented on the
 * invoke path's tail without allocating, and turned into Prometheus's cumulative `le` buckets only
 * when the metrics are read. The bounds of the histograms Lamina keeps are here too.
 */

/**
 * Invocation duration buckets (seconds): Lambda functions run from about a millisecond to 15
 * minutes, and most of what matters for latency is under a second.
 */
export const DURATION_BUCKETS_SECONDS: readonly number[] = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900,
];

/** Init duration buckets (seconds): a cold start takes tens of ms to the 10 s init limit. */
export const INIT_DURATION_BUCKETS_SECONDS: readonly number[] = [
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/**
 * Asynchronous event age buckets (seconds): from an event run at once to one retried near the
 * 6-hour maximum event age.
 */
export const ASYNC_AGE_BUCKETS_SECONDS: readonly number[] = [
  0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 120, 300, 900, 3600, 21_600,
];

export class BucketCounts {
  /** Upper bounds, ascending (Prometheus's `le`; the +Inf bucket is implied). */
  readonly bounds: readonly number[];
  /** Observations per bucket, not cumulative; the last slot is the +Inf bucket. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Counts one observation (`value` in the bounds' unit; a value on a bound falls in it). */
  observe(value: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i += 1;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count += 1;
  }

  /** The cumulative count at each bound, then at +Inf (what `_bucket{le=…}` shows). */
  cumulative(): number[] {
    const out: number[] = [];
    let running = 0;
    for (const n of this.counts) {
      running += n;
      out.push(running);
    }
    return out;
  }
}
