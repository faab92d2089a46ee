/**
 * Gives the memory of large request bodies and of floods of function output back to the system
 * once they are let go. V8 frees a Buffer's memory only when a full collection finds it dead, and a
 * server that goes quiet after a burst of code uploads allocates too little to run one: the last
 * uploads' zips (up to 50 MB each) would stay resident indefinitely, as would the strings of a
 * function that wrote 80 MB of logs, or the sockets of a function that opened tens of thousands of
 * connections. So once large bodies (uploads, larger than an Invoke payload), written output and
 * ended connections totalling `minReleasedBytes` were let go and nothing more was for `quietMs`,
 * one full collection runs: at most one per quiet period, never while they keep coming, never for
 * invokes alone (runtimes keep their connections).
 */
import { LARGE_BODY_BYTES } from '../core/body-budget.js';

/**
 * What one ended connection counts for. More than it leaves (about 300 bytes), so that a flood of
 * tens of thousands reaches the collection threshold; a few hundred never do.
 */
export const CONNECTION_BYTES = 1024;

/** Timers, injectable for tests. */
export interface ReclaimTimers {
  set(callback: () => void, ms: number): unknown;
  clear(timer: unknown): void;
}

export interface MemoryReclaimerOptions {
  /** Runs a full garbage collection. */
  readonly collect: () => void;
  /** Default 1 s. */
  readonly quietMs?: number;
  /** Default 32 MiB. */
  readonly minReleasedBytes?: number;
  readonly timers?: ReclaimTimers;
}

const nodeTimers: ReclaimTimers = {
  set: (callback, ms) => setTimeout(callback, ms).unref(),
  clear: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

export class MemoryReclaimer {
  readonly #collect: () => void;
  readonly #quietMs: number;
  readonly #minReleasedBytes: number;
  readonly #timers: ReclaimTimers;
  #releasedBytes = 0;
  #timer: unknown;

  constructor(options: MemoryReclaimerOptions) {
    this.#collect = options.collect;
    this.#quietMs = options.quietMs ?? 1000;
    this.#minReleasedBytes = options.minReleasedBytes ?? 32 * 1024 * 1024;
    this.#timers = options.timers ?? nodeTimers;
  }

  /** A request body of which `bytes` had arrived was let go (its response closed). */
  released(bytes: number): void {
    if (bytes <= LARGE_BODY_BYTES) return;
    this.passedThrough(bytes);
  }

  /**
   * A connection to an environment's socket ended, after the server read `bytesRead` from it.
   * Each leaves a socket, its handle and buffers for a full collection to find (about 300 bytes
   * measured; counted as CONNECTION_BYTES), and what was read (bodies kept or dropped over their
   * limit), so a flood of connections or of oversized bodies is given back like one of output.
   */
  connectionEnded(bytesRead = 0): void {
    this.passedThrough(CONNECTION_BYTES + bytesRead);
  }

  /**
   * `bytes` of a function's output went through the server and were let go (written to its log):
   * small pieces, but a function that writes fast makes them add up to as much as an upload.
   */
  passedThrough(bytes: number): void {
    this.#releasedBytes += bytes;
    if (this.#releasedBytes < this.#minReleasedBytes) return;
    if (this.#timer !== undefined) this.#timers.clear(this.#timer);
    this.#timer = this.#timers.set(() => {
      this.#timer = undefined;
      this.#releasedBytes = 0;
      this.#collect();
    }, this.#quietMs);
  }

  /** Drops a pending collection. */
  stop(): void {
    if (this.#timer !== undefined) this.#timers.clear(this.#timer);
    this.#timer = undefined;
  }
}
