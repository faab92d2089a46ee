/**
 * A one-shot timer armed for a clock time rather than a delay. It is re-armed whenever the clock
 * jumps (controllable test clocks), so waiting for "the next due event" follows the injected clock
 * without polling.
 */
import type { Clock } from './clock.js';

/** setTimeout's largest delay (about 24.8 days). */
const MAX_DELAY_MS = 2 ** 31 - 1;

export class DueTimer {
  readonly #clock: Clock;
  readonly #fire: () => void;
  #dueMs: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #cancelled = false;

  constructor(clock: Clock, fire: () => void) {
    this.#clock = clock;
    this.#fire = fire;
    clock.subscribe?.(() => this.#arm());
  }

  /** Fires once at `dueMs` (clock time); replaces any earlier setting; undefined disarms. */
  at(dueMs: number | undefined): void {
    if (this.#cancelled) return;
    this.#dueMs = dueMs;
    this.#arm();
  }

  /** Disarms for good. */
  cancel(): void {
    this.#cancelled = true;
    this.#dueMs = undefined;
    clearTimeout(this.#timer);
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const due = this.#dueMs;
    if (due === undefined || this.#cancelled) return;
    const delay = Math.min(Math.max(0, due - this.#clock.now()), MAX_DELAY_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#clock.now() < due) return this.#arm();
      this.#dueMs = undefined;
      this.#fire();
    }, delay);
    // Background work never keeps a process alive by itself.
    this.#timer.unref();
  }
}
