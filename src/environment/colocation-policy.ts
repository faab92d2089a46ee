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
 * to one invocation for a moment does not move environments back and forth. A co-located
 * invocation that runs long is let go too: the crossings it saves no longer matter against its
 * own time, and the event loop should not share a CPU with a busy function. An environment's
 * init counts as a second invocation: nothing stays co-located while one runs.
 */

/**
 * Something that can be placed on the server's CPU (`true`) or on any CPU (`false`); answers
 * whether it is now where it was asked to be (an environment that cannot move answers `false`).
 */
export interface Colocatable {
  colocate(on: boolean): boolean;
}

/** A timer that calls back once, `arm`ed again for each co-located invocation. */
export interface ReleaseTimer {
  arm(): void;
  disarm(): void;
}

/** Makes the timer that lets a long co-located invocation go. */
export type ReleaseTimerFactory = (onExpiry: () => void) => ReleaseTimer;

/** How long a co-located invocation may run before it is let go (ms). */
export const LONG_RUN_MS = 20;

/**
 * The release timer on Node.js timers: one `Timeout`, refreshed for each invocation and never
 * cleared (a cleared `Timeout` cannot be refreshed); disarming makes its next expiry do nothing.
 */
export function nodeReleaseTimer(ms: number): ReleaseTimerFactory {
  return (onExpiry) => {
    let armed = false;
    let timer: NodeJS.Timeout | undefined;
    return {
      arm: () => {
        armed = true;
        if (timer === undefined) {
          timer = setTimeout(() => {
            if (armed) onExpiry();
          }, ms);
          timer.unref();
        } else timer.refresh();
      },
      disarm: () => {
        armed = false;
      },
    };
  };
}

export class ColocationPolicy {
  /** The server's main thread: placed on its CPU with the co-located environment. */
  readonly #server: Colocatable;
  readonly #longRun: ReleaseTimer;
  readonly #busy = new Set<Colocatable>();
  #colocated: Colocatable | undefined;
  #lastLone: Colocatable | undefined;

  constructor(server: Colocatable, releaseTimer: ReleaseTimerFactory) {
    this.#server = server;
    this.#longRun = releaseTimer(() => {
      if (this.#colocated === undefined || !this.#busy.has(this.#colocated)) return;
      this.#lastLone = undefined;
      this.#release();
    });
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
    if (this.#colocated === target) this.#longRun.arm();
  }

  /**
   * `target` initialises (a cold start): while it does, invocations elsewhere are not lone, and
   * whatever is co-located is let go, so that neither the server nor an environment at work is
   * held to one CPU while an init competes for it. `end` says when it is over.
   */
  beginInit(target: Colocatable): void {
    this.#busy.add(target);
    this.#lastLone = undefined;
    this.#release();
  }

  /** The invocation (or init) in `target` has ended. */
  end(target: Colocatable): void {
    this.#busy.delete(target);
    if (this.#colocated === target) this.#longRun.disarm();
  }

  /** `target` is going away: it is let go (its processes may take a while to end) and forgotten. */
  forget(target: Colocatable): void {
    this.#busy.delete(target);
    if (this.#colocated === target) this.#release();
    if (this.#lastLone === target) this.#lastLone = undefined;
  }

  /** The environment on the server's CPU, if any (for tests and diagnostics). */
  get colocated(): Colocatable | undefined {
    return this.#colocated;
  }

  #release(): void {
    if (this.#colocated === undefined) return;
    this.#longRun.disarm();
    this.#colocated.colocate(false);
    this.#server.colocate(false);
    this.#colocated = undefined;
  }
}
