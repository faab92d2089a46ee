/**
 * Records of an ordered source waiting to be processed, in lanes: every record of one partition
 * key goes to the same lane (ParallelizationFactor lanes in all), a lane gives its records out one
 * batch at a time, in order, and stays busy until that batch is settled. So records of one key are
 * processed in order while different keys run in parallel, as Lambda does for a stream's shard.
 */

/** The lane of a partition key: FNV-1a, so a key always lands in the same lane. */
export function laneOf(key: string, lanes: number): number {
  if (lanes <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % lanes;
}

export class LaneBuffer<T> {
  readonly #lanes: T[][];
  readonly #busy: boolean[];
  readonly #waiters = new Set<() => void>();
  #closed = false;

  constructor(lanes: number) {
    this.#lanes = Array.from({ length: Math.max(1, lanes) }, () => []);
    this.#busy = this.#lanes.map(() => false);
  }

  /** Records waiting, in all lanes. */
  get size(): number {
    return this.#lanes.reduce((n, lane) => n + lane.length, 0);
  }

  get laneCount(): number {
    return this.#lanes.length;
  }

  push(lane: number, item: T): void {
    this.#lanes[lane % this.#lanes.length]?.push(item);
    this.wake();
  }

  /**
   * Up to `max` records of one free lane, in order (the lane is busy until `release`); once a free
   * lane has records, waits at most `windowMs` for it to fill to `max`. Answers an empty batch when
   * `stop` holds (checked on every wake).
   */
  async take(
    max: number,
    windowMs: number,
    stop: () => boolean,
  ): Promise<{ lane: number; items: T[] }> {
    let lane = this.#ready();
    while (lane < 0 && !stop() && !this.#closed) {
      await this.#wait();
      lane = this.#ready();
    }
    if (lane < 0 || stop()) return { lane: -1, items: [] };
    this.#busy[lane] = true;
    const queue = this.#lanes[lane] ?? [];
    if (queue.length < max && windowMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      let elapsed = false;
      const window = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          elapsed = true;
          resolve();
        }, windowMs);
      });
      while (!elapsed && queue.length < max && !stop() && !this.#closed)
        await Promise.race([this.#wait(), window]);
      clearTimeout(timer);
    }
    return { lane, items: queue.splice(0, max) };
  }

  /** The lane's batch is settled: its next records may go out. */
  release(lane: number): void {
    if (lane >= 0) this.#busy[lane] = false;
    this.wake();
  }

  /** Every record still waiting (to hand back to the source when closing). */
  drain(): T[] {
    return this.#lanes.flatMap((lane) => lane.splice(0));
  }

  /** Resolves at the next push, release or close. */
  changed(): Promise<void> {
    return this.#wait();
  }

  close(): void {
    this.#closed = true;
    this.wake();
  }

  wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) waiter();
  }

  #ready(): number {
    return this.#lanes.findIndex((lane, i) => lane.length > 0 && this.#busy[i] !== true);
  }

  #wait(): Promise<void> {
    return new Promise((resolve) => this.#waiters.add(resolve));
  }
}
