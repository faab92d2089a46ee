/**
 * Decides when the server's event loop and one environment share a CPU. An invocation crosses
 * between the server and its environment twice; when they run on different CPUs, each crossing
 * wakes the other CPU, which on a virtual machine can cost more than the rest of the invocation.
 * So while invocations come one at a time, the server's main thread and the environment serving
 * them are kept on one CPU; as soon as two run at once, both are let go again, so that concurrent
 * invocations (and the server under load) use every CPU.
 *
 * An environment is co-located only on its second lone invocation in a row (the platform's
 * previous invocation also ran alone, in the same environment), so that load that keeps dropping
 * to one invocation for a moment does not move environments back and forth.
 */

/**
 * Something that can be placed on the server's CPU (`true`) or on any CPU (`false`); answers
 * whether it is now where it was asked to be (an environment that cannot move answers `false`).
 */
export interface Colocatable {
  colocate(on: boolean): boolean;
}

export class ColocationPolicy {
  /** The server's main thread: placed on its CPU with the co-located environment. */
  readonly #server: Colocatable;
  readonly #busy = new Set<Colocatable>();
  #colocated: Colocatable | undefined;
  #lastLone: Colocatable | undefined;

  constructor(server: Colocatable) {
    this.#server = server;
  }

  /** An invocation starts in `target`. */
  begin(target: Colocatable): void {
    this.#busy.add(target);
    if (this.#busy.size > 1) {
      this.#lastLone = undefined;
      this.#release();
      return;
    }
    if (this.#lastLone === target && this.#colocated !== target) {
      this.#release();
      if (target.colocate(true) && this.#server.colocate(true)) this.#colocated = target;
      else target.colocate(false);
    }
    this.#lastLone = target;
  }

  /** The invocation in `target` has ended. */
  end(target: Colocatable): void {
    this.#busy.delete(target);
  }

  /** `target` is gone: it is forgotten without being moved. */
  forget(target: Colocatable): void {
    this.#busy.delete(target);
    if (this.#colocated === target) {
      this.#colocated = undefined;
      this.#server.colocate(false);
    }
    if (this.#lastLone === target) this.#lastLone = undefined;
  }

  /** The environment on the server's CPU, if any (for tests and diagnostics). */
  get colocated(): Colocatable | undefined {
    return this.#colocated;
  }

  #release(): void {
    if (this.#colocated === undefined) return;
    this.#colocated.colocate(false);
    this.#server.colocate(false);
    this.#colocated = undefined;
  }
}
