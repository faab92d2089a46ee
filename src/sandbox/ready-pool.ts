/**
 * A few things made ahead of need (ready-made file systems), handed out at once and replaced in
 * the background, one at a time so that refilling never competes with itself for the CPU.
 */

/** What the pool makes and how it disposes of what it no longer needs. */
export interface ReadyPoolMaker<T> {
  make(): Promise<T>;
  discard(item: T): Promise<void>;
  /** Told when making one fails; refilling then waits for the next `take`. */
  onError(error: unknown): void;
}

/** Keeps up to `target` items ready. */
export class ReadyPool<T> {
  readonly #target: number;
  readonly #maker: ReadyPoolMaker<T>;
  readonly #ready: T[] = [];
  #refilling: Promise<void> | undefined;
  #closed = false;

  constructor(target: number, maker: ReadyPoolMaker<T>, first?: T) {
    this.#target = target;
    this.#maker = maker;
    if (first !== undefined) this.#ready.push(first);
  }

  /** How many items are ready now. */
  get size(): number {
    return this.#ready.length;
  }

  /** A ready item, or undefined when none is; either way starts refilling. Synchronous. */
  take(): T | undefined {
    const item = this.#ready.shift();
    this.refill();
    return item;
  }

  /** Starts making items until `target` are ready, unless already under way or closed. */
  refill(): void {
    if (this.#closed || this.#refilling !== undefined) return;
    this.#refilling = this.#fill().finally(() => (this.#refilling = undefined));
  }

  /** Resolves once the refill under way (if any) has ended. */
  async settled(): Promise<void> {
    await this.#refilling;
  }

  /** Stops refilling and discards the ready items (and one still being made). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#refilling;
    const items = this.#ready.splice(0);
    await Promise.all(items.map((item) => this.#maker.discard(item)));
  }

  async #fill(): Promise<void> {
    while (!this.#closed && this.#ready.length < this.#target) {
      let item: T;
      try {
        item = await this.#maker.make();
      } catch (error) {
        // No retry loop: a maker that fails once (a full disk) would likely fail again at once.
        this.#maker.onError(error);
        return;
      }
      if (this.#closed)
        await this.#maker.discard(item).catch((error) => this.#maker.onError(error));
      else this.#ready.push(item);
    }
  }
}
