/**
 * A value read from somewhere slow (the database), kept for a while so frequent readers (scrapes)
 * do not each pay for it; concurrent readers share one read in flight. A failed read is not kept.
 */
import type { Clock } from '../core/clock.js';

export class CachedReading<T> {
  readonly #read: () => Promise<T>;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  #value: { readonly value: T; readonly atMs: number } | undefined;
  #pending: Promise<T> | undefined;

  /** `ttlMs`: how long a read value is served again (default 1 s). */
  constructor(read: () => Promise<T>, clock: Clock, ttlMs = 1000) {
    this.#read = read;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  get(): Promise<T> {
    const kept = this.#value;
    if (kept !== undefined && this.#clock.now() - kept.atMs < this.#ttlMs)
      return Promise.resolve(kept.value);
    this.#pending ??= this.#read().then(
      (value) => {
        this.#pending = undefined;
        this.#value = { value, atMs: this.#clock.now() };
        return value;
      },
      (error: unknown) => {
        this.#pending = undefined;
        throw error;
      },
    );
    return this.#pending;
  }
}
