/**
 * Room held in the environment pool for one environment about to start (its memory, and for an
 * on-demand cold start a cold-start slot). Whoever starts the environment settles it once:
 * `commit` hands the room to the environment the moment it exists (the pool then keeps it, frees
 * the room when it dies, and ends the cold start when it leaves `starting`); `cancel` gives the
 * room back when no environment will be made (a no-op once committed, so it can run in `finally`).
 */
import type { ExecutionEnvironment } from './execution-environment.js';

export interface Reservation {
  readonly memoryMiB: number;
  commit(env: ExecutionEnvironment): void;
  cancel(): void;
}

/** Tells a reservation from an environment (what the pool's `acquire` gives). */
export function isReservation(taken: ExecutionEnvironment | Reservation): taken is Reservation {
  return 'commit' in taken;
}
