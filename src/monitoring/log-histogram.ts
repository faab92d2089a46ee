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

  /**
   * The histogram as bytes (stored with each minute), varints throughout: the zeros, the number
   * of buckets, then per bucket by index the step from the previous index (the first index
   * zigzag-coded) and the count. A typical bucket takes 2 to 3 bytes.
   */
  encode(): Uint8Array {
    this.#settle();
    const indexes = [...this.#buckets.keys()].sort((a, b) => a - b);
    const out: number[] = [];
    writeVarint(out, wholeCount(this.#zeros));
    writeVarint(out, indexes.length);
    let previous = 0;
    indexes.forEach((index, i) => {
      writeVarint(out, i === 0 ? (index >= 0 ? 2 * index : -2 * index - 1) : index - previous);
      writeVarint(out, wholeCount(this.#buckets.get(index) ?? 0));
      previous = index;
    });
    return Uint8Array.from(out);
  }

  /** A histogram from `encode`'s bytes; bytes that are not one give an empty histogram. */
  static decode(bytes: Uint8Array): LogHistogram {
    const histogram = new LogHistogram();
    histogram.addEncoded(bytes);
    return histogram;
  }

  /**
   * Adds the values of an encoded histogram (`encode`), without making one: a read folds stored
   * minutes straight into its periods. Bytes that are not one add nothing; returns whether they were.
   */
  addEncoded(bytes: Uint8Array): boolean {
    // Checked whole first, so that a bad blob adds nothing rather than part of itself.
    if (walkEncoded(bytes, undefined) === undefined) return false;
    walkEncoded(bytes, this);
    return true;
  }
}

/**
 * Reads an encoded histogram, adding it to `into` when given; the values it holds, or undefined
 * when the bytes are not an encoded histogram.
 */
function walkEncoded(bytes: Uint8Array, into: LogHistogram | undefined): number | undefined {
  const at = { offset: 0 };
  const zeros = readVarint(bytes, at);
  const buckets = readVarint(bytes, at);
  // Every bucket takes at least two bytes: a count past that is not one.
  if (zeros === undefined || buckets === undefined || buckets * 2 > bytes.length) return undefined;
  if (into !== undefined && zeros > 0) into.add(0, zeros);
  let total = zeros;
  let index = 0;
  for (let i = 0; i < buckets; i += 1) {
    const step = readVarint(bytes, at);
    const count = readVarint(bytes, at);
    if (step === undefined || count === undefined) return undefined;
    if (i === 0) index = step % 2 === 0 ? step / 2 : -(step + 1) / 2;
    else if (step === 0) return undefined;
    else index += step;
    if (Math.abs(index) > MAX_INDEX) return undefined;
    if (into !== undefined && count > 0) into.addAt(index, count);
    total += count;
  }
  return at.offset === bytes.length ? total : undefined;
}

/** Appends `value` (a whole number from 0 to 2^53) as a varint: 7 bits a byte, low first. */
function writeVarint(out: number[], value: number): void {
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) + 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

/** The varint at `at.offset` (moved past it), or undefined when cut short or too large. */
function readVarint(bytes: Uint8Array, at: { offset: number }): number | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 8; i += 1) {
    const byte = bytes[at.offset];
    if (byte === undefined) return undefined;
    at.offset += 1;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return Number.isSafeInteger(value) ? value : undefined;
    scale *= 0x80;
  }
  return undefined;
}

/** Counts are whole numbers; anything else is stored as the nearest one. */
function wholeCount(count: number): number {
  return Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, Math.round(count)));
}

function representative(index: number): number {
  return (2 * GAMMA ** index) / (GAMMA + 1);
}
