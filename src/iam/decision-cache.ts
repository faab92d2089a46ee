/**
 * Decisions remembered per caller, for requests that are the same in everything a decision reads:
 * the action, the resource, the resource policy (by identity: a changed policy is a new object),
 * the request's condition keys (its own, the source address, and the time to the second, which is
 * as fine as `aws:CurrentTime` and `aws:EpochTime` go). `clear` (any IAM write) forgets them all,
 * and a decision computed across a clear is not kept. A warm invoke by the same IAM caller then
 * costs one lookup instead of an evaluation.
 */

/** Decisions kept per caller, the oldest dropped first. */
const PER_CALLER = 256;

export class DecisionCache<T> {
  #byCaller = new WeakMap<object, Map<string, T>>();
  #generation = 0;
  readonly #ids = new WeakMap<object, number>();
  #nextId = 1;

  /** Changes at every `clear`: pass the value read before deciding to `set`. */
  get generation(): number {
    return this.#generation;
  }

  clear(): void {
    this.#byCaller = new WeakMap();
    this.#generation += 1;
  }

  /** The key of a request; undefined parts are left out. */
  keyOf(request: {
    readonly action: string;
    readonly resource: string;
    readonly resourcePolicy: object | undefined;
    readonly sourceIp: string | undefined;
    readonly second: number;
    readonly context: Readonly<Record<string, string | readonly string[]>> | undefined;
  }): string {
    const policy = request.resourcePolicy === undefined ? 0 : this.#idOf(request.resourcePolicy);
    const context = request.context === undefined ? '' : JSON.stringify(request.context);
    return `${request.action}\u0000${request.resource}\u0000${policy}\u0000${request.sourceIp ?? ''}\u0000${request.second}\u0000${context}`;
  }

  get(caller: object, key: string): T | undefined {
    return this.#byCaller.get(caller)?.get(key);
  }

  /** Keeps `value` unless the cache was cleared since `generation` was read. */
  set(caller: object, key: string, value: T, generation: number): void {
    if (generation !== this.#generation) return;
    let decisions = this.#byCaller.get(caller);
    if (decisions === undefined) {
      decisions = new Map();
      this.#byCaller.set(caller, decisions);
    }
    if (decisions.size >= PER_CALLER) {
      const oldest = decisions.keys().next().value;
      if (oldest !== undefined) decisions.delete(oldest);
    }
    decisions.set(key, value);
  }

  #idOf(object: object): number {
    let id = this.#ids.get(object);
    if (id === undefined) {
      id = this.#nextId;
      this.#nextId += 1;
      this.#ids.set(object, id);
    }
    return id;
  }
}
