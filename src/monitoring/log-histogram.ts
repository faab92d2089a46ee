/**
 * A compact histogram for percentiles of positive values (durations, ages, counts): logarithmic
 * buckets whose bounds grow by a factor γ = (1 + α) / (1 − α), with α = 1 %. A value is placed in
 * bucket ⌈log_γ v⌉ and read back as the bucket's representative 2γⁱ / (γ + 1), which is within α
 * of every value the bucket holds: a percentile is off by at most 1 % of its true value, however
 * many values were added and however histograms of many minutes are merged. Zero and negative
 * values share one bucket read back as 0. Buckets are kept sparse (a few dozen for a typical
 * minute of durations), so adding is a logarithm and a Map update.
 */

/** The relative error of a percentile read back. */
export const RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);
/** Bucket indexes a stored histogram may hold (values from about 1e-300 to 1e300). */
const MAX_INDEX = 40_000;

/** The bucket a positive value falls in (the index `addAt` takes). */
export function bucketOf(value: number): number {
  return Math.ceil(Math.log(value) / LOG_GAMMA);
}

export class LogHistogram {
  readonly #buckets = new Map<number, number>();
  #zeros = 0;
  /** Values of exactly 1 (every sample of a count metric), kept apart until read: no Map work. */
  #ones = 0;
  #total = 0;

  /** How many values it holds. */
  get total(): number {
    return this.#total;
  }

  /** Adds `value` (`count` times). Non-finite values are ignored. */
  add(value: number, count = 1): void {
    if (!Number.isFinite(value) || !(count > 0)) return;
    if (value <= 0) {
      this.#total += count;
      this.#zeros += count;
    } else if (value === 1) {
      this.#total += count;
      this.#ones += count;
    } else this.addAt(bucketOf(value), count);
  }

  /** Adds a positive value by its bucket (`bucketOf`), computed once for several histograms. */
  addAt(index: number, count = 1): void {
    this.#total += count;
    this.#buckets.set(index, (this.#buckets.get(index) ?? 0) + count);
  }

  /** Adds every value `other` holds. */
  merge(other: LogHistogram): void {
    other.#settle();
    this.#zeros += other.#zeros;
    this.#total += other.#total;
    for (const [index, count] of other.#buckets)
      this.#buckets.set(index, (this.#buckets.get(index) ?? 0) + count);
  }

  /** Moves the ones kept apart into their bucket (index 0). */
  #settle(): void {
    if (this.#ones === 0) return;
    this.#buckets.set(0, (this.#buckets.get(0) ?? 0) + this.#ones);
    this.#ones = 0;
  }

  /**
   * The value at quantile `q` (0 to 1) by nearest rank: the smallest held value that at least
   * q of the values are less than or equal to (within the relative accuracy); undefined when empty.
   */
  quantile(q: number): number | undefined {
    if (this.#total === 0) return undefined;
    this.#settle();
    const rank = Math.max(1, Math.ceil(q * this.#total - 1e-9));
    let seen = this.#zeros;
    if (seen >= rank) return 0;
    const indexes = [...this.#buckets.keys()].sort((a, b) => a - b);
    let last = 0;
    for (const index of indexes) {
      seen += this.#buckets.get(index) ?? 0;
      last = index;
      if (seen >= rank) break;
    }
    return representative(last);
  }

  /**
   * The mean of the values between quantiles `low` and `high` (0 to 1; a trimmed mean), counting
   * the buckets cut by either bound in part; undefined when that range holds nothing.
   */
  trimmedMean(low: number, high: number): number | undefined {
    if (this.#total === 0 || high <= low) return undefined;
    this.#settle();
    const from = low * this.#total;
    const to = high * this.#total;
    let seen = 0;
    let weight = 0;
    let sum = 0;
    const take = (count: number, value: number) => {
      const inside = Math.min(seen + count, to) - Math.max(seen, from);
      if (inside > 0) {
        weight += inside;
        sum += inside * value;
      }
      seen += count;
    };
    take(this.#zeros, 0);
    for (const index of [...this.#buckets.keys()].sort((a, b) => a - b))
      take(this.#buckets.get(index) ?? 0, representative(index));
    return weight > 0 ? sum / weight : undefined;
  }

  /** The histogram as bytes (stored with each minute): [zeros, index, count, index, count…]. */
  encode(): Uint8Array {
    this.#settle();
    const values = new Float64Array(1 + 2 * this.#buckets.size);
    values[0] = this.#zeros;
    let i = 1;
    for (const [index, count] of this.#buckets) {
      values[i] = index;
      values[i + 1] = count;
      i += 2;
    }
    return new Uint8Array(values.buffer);
  }

  /** A histogram from `encode`'s bytes; bytes that are not one give an empty histogram. */
  static decode(bytes: Uint8Array): LogHistogram {
    const histogram = new LogHistogram();
    if (bytes.byteLength % 16 !== 8) return histogram;
    // Copied: a Buffer from SQLite need not be aligned for a Float64Array view.
    const values = new Float64Array(new Uint8Array(bytes).buffer);
    const zeros = values[0] ?? 0;
    if (!validCount(zeros)) return histogram;
    const buckets = new Map<number, number>();
    let total = zeros;
    for (let i = 1; i + 1 < values.length; i += 2) {
      const index = values[i] ?? NaN;
      const count = values[i + 1] ?? NaN;
      if (!Number.isInteger(index) || Math.abs(index) > MAX_INDEX || !validCount(count))
        return histogram;
      buckets.set(index, (buckets.get(index) ?? 0) + count);
      total += count;
    }
    histogram.#zeros = zeros;
    histogram.#total = total;
    for (const [index, count] of buckets) histogram.#buckets.set(index, count);
    return histogram;
  }
}

function representative(index: number): number {
  return (2 * GAMMA ** index) / (GAMMA + 1);
}

function validCount(count: number): boolean {
  return Number.isFinite(count) && count >= 0;
}
