/**
 * How many connections the jails may hold open on the server at once, all environments together,
 * counted in file descriptors. The rest of the process's descriptor limit stays in reserve for the
 * server's own work (its API clients, the database, logs, the environments' pipes), so a function
 * that opens connections until something breaks finds the limit here, not in `EMFILE` on cold
 * starts and API connections.
 */
export class ConnectionBudget {
  readonly limit: number;
  #used = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Takes `descriptors` from the budget; false (taking nothing) when they do not fit. */
  tryAcquire(descriptors = 1): boolean {
    if (this.#used + descriptors > this.limit) return false;
    this.#used += descriptors;
    return true;
  }

  release(descriptors = 1): void {
    this.#used = Math.max(0, this.#used - descriptors);
  }

  get used(): number {
    return this.#used;
  }
}

/** Descriptors kept back for the server whatever the jails do, at least. */
export const RESERVED_DESCRIPTORS = 1024;

/**
 * The jails' share of a descriptor limit: half of what is left after the fixed reserve (a server
 * with the usual 1,024 descriptors still lets jails hold a few hundred connections).
 */
export function jailDescriptorShare(descriptorLimit: number): number {
  return Math.max(256, Math.floor((descriptorLimit - RESERVED_DESCRIPTORS) / 2));
}
