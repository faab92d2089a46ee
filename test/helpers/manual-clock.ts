/**
 * A controllable clock: real time plus an offset the test moves forward. Each jump notifies the
 * subscribers (the queue's timers), so retries, event age and retention are driven without waiting.
 */
import type { Clock } from '../../src/core/clock.js';

export class ManualClock implements Clock {
  #offsetMs = 0;
  readonly #listeners: Array<() => void> = [];

  now(): number {
    return Date.now() + this.#offsetMs;
  }

  subscribe(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    this.#offsetMs += ms;
    for (const listener of this.#listeners) listener();
  }
}
