/** Source of the current time, injected everywhere so tests can drive time. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /**
   * Clocks that can jump (the controllable clocks of tests) call `listener` after every jump, so
   * that timers armed for a clock time can be recomputed. The wall clock never jumps and omits it.
   */
  subscribe?(listener: () => void): void;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };
