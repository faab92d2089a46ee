/**
 * The states an execution environment goes through, and the only moves between them:
 *
 *   starting ──init ok──▶ ready ──invoke──▶ busy ──completed──▶ ready
 *       │                   │                 │
 *       └──────── failed, killed, retired, reaped ──────────▶ dead
 *
 * A move the table does not list is a bug in the caller and throws; listeners hear every move
 * (the pool ends a cold start when its environment leaves `starting`).
 */
export type EnvironmentState = 'starting' | 'ready' | 'busy' | 'dead';

const MOVES: Readonly<Record<EnvironmentState, readonly EnvironmentState[]>> = {
  starting: ['ready', 'dead'],
  ready: ['busy', 'dead'],
  busy: ['ready', 'dead'],
  dead: [],
};

export type LifecycleListener = (from: EnvironmentState, to: EnvironmentState) => void;

export class EnvironmentLifecycle {
  #state: EnvironmentState = 'starting';
  readonly #listeners: LifecycleListener[] = [];

  get state(): EnvironmentState {
    return this.#state;
  }

  /** Whether the table allows a move from the current state to `to`. */
  allows(to: EnvironmentState): boolean {
    return MOVES[this.#state].includes(to);
  }

  /** Moves to `to`; throws when the table has no such move. */
  move(to: EnvironmentState): void {
    const from = this.#state;
    if (!MOVES[from].includes(to))
      throw new Error(`an environment cannot go from ${from} to ${to}`);
    this.#state = to;
    for (const listener of this.#listeners) listener(from, to);
  }

  /** Hears every move from now on. */
  onMove(listener: LifecycleListener): void {
    this.#listeners.push(listener);
  }
}
