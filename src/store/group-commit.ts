/**
 * Group commit: writes submitted while the event loop turns are run together in one transaction,
 * so many concurrent requests share one fsync (the database runs `synchronous=FULL`). Each
 * caller's promise still resolves only after the commit that holds its own write. If a group
 * fails, its writes are retried one transaction each, so one bad write cannot fail the others.
 */
import type { Kysely, Transaction } from 'kysely';

/**
 * Under load (a commit finished less than `BUSY_MS` ago), a group waits `WINDOW_MS` to gather
 * more writes: a commit's fsync blocks the event loop, so fewer, larger commits leave more time
 * for requests. An idle store commits on the next turn.
 */
const BUSY_MS = 5;
const WINDOW_MS = 2;

interface Pending<DB> {
  readonly run: (trx: Transaction<DB>) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommit<DB> {
  readonly #db: Kysely<DB>;
  readonly #onCommitted: (() => void) | undefined;
  #pending: Pending<DB>[] = [];
  #scheduled = false;
  #flushing: Promise<void> | undefined;
  #lastCommitMs = -Infinity;

  /** `onCommitted`: called once after each group, its writers' promises settled. */
  constructor(db: Kysely<DB>, onCommitted?: () => void) {
    this.#db = db;
    this.#onCommitted = onCommitted;
  }

  /** Runs `write` in the next group's transaction; resolves with its result once committed. */
  submit<T>(write: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ run: write, resolve: resolve as (value: unknown) => void, reject });
      this.#schedule();
    });
  }

  /** Resolves once every write submitted so far is committed (or has failed). */
  async drain(): Promise<void> {
    while (this.#pending.length > 0 || this.#flushing !== undefined || this.#scheduled) {
      await (this.#flushing ?? new Promise<void>((resolve) => setImmediate(resolve)));
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing !== undefined) return;
    this.#scheduled = true;
    const run = () => {
      this.#scheduled = false;
      this.#flushing = this.#flush().finally(() => {
        this.#flushing = undefined;
        this.#lastCommitMs = performance.now();
        this.#onCommitted?.();
        if (this.#pending.length > 0) this.#schedule();
      });
    };
    // At least after this turn's I/O callbacks, so that requests arriving together share it.
    if (performance.now() - this.#lastCommitMs < BUSY_MS) setTimeout(run, WINDOW_MS);
    else setImmediate(run);
  }

  async #flush(): Promise<void> {
    const group = this.#pending;
    this.#pending = [];
    if (group.length === 0) return;
    try {
      const results = await this.#db.transaction().execute(async (trx) => {
        const out: unknown[] = [];
        for (const item of group) out.push(await item.run(trx));
        return out;
      });
      group.forEach((item, i) => item.resolve(results[i]));
    } catch (error) {
      if (group.length === 1) {
        group[0]?.reject(error);
        return;
      }
      for (const item of group) {
        try {
          item.resolve(await this.#db.transaction().execute((trx) => item.run(trx)));
        } catch (single) {
          item.reject(single);
        }
      }
    }
  }
}
