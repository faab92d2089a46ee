/**
 * How fast one environment's output is read: a token bucket of bytes, shared by its stdout,
 * stderr and extensions' output. A function that prints faster than this blocks on its own
 * pipe, as on Lambda, instead of taking the server's event loop (each megabyte of log lines
 * costs the server splitting, JSON and a write) from every other tenant.
 */

/** Bytes per second an environment's output is read at, sustained. */
export const OUTPUT_BYTES_PER_SECOND = 8 * 1024 * 1024;

export class OutputRate {
  readonly #bytesPerSecond: number;
  readonly #now: () => number;
  /** Bytes that may be read now (may go below zero: the debt is waited off). */
  #tokens: number;
  #at: number;

  /** `now` in milliseconds; the bucket holds one second's worth. */
  constructor(
    bytesPerSecond = OUTPUT_BYTES_PER_SECOND,
    now: () => number = () => performance.now(),
  ) {
    this.#bytesPerSecond = bytesPerSecond;
    this.#now = now;
    this.#tokens = bytesPerSecond;
    this.#at = now();
  }

  /** Counts `bytes` read; answers how long (ms) to wait before reading more (0: go on). */
  take(bytes: number): number {
    const now = this.#now();
    this.#tokens = Math.min(
      this.#bytesPerSecond,
      this.#tokens + ((now - this.#at) / 1000) * this.#bytesPerSecond,
    );
    this.#at = now;
    this.#tokens -= bytes;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#bytesPerSecond) * 1000);
  }
}
