/**
 * Group commit: writes submitted while the event loop turns are run together in one transaction,
 * so many concurrent requests share one fsync (the database runs `synchronous=FULL`). Each
 * caller's promise still resolves only after the commit that holds its own write. If a group
 * fails, its writes are retried one transaction each, so one bad write cannot fail the others.
 */
import type { Kysely, Transaction } from 'kysely';

interface Pending<DB> {
  readonly run: (trx: Transaction<DB>) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommit<DB> {
  readonly #db: Kysely<DB>;
  #pending: Pending<DB>[] = [];
  #scheduled = false;
  #flushing: Promise<void> | undefined;

  constructor(db: Kysely<DB>) {
    this.#db = db;
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
    // After this turn's I/O callbacks, so that requests arriving together share the commit.
    setImmediate(() => {
      this.#scheduled = false;
      this.#flushing = this.#flush().finally(() => {
        this.#flushing = undefined;
        if (this.#pending.length > 0) this.#schedule();
      });
    });
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
