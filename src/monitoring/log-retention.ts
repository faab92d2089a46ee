/**
 * Retention of function logs: the day counts CloudWatch Logs allows (`PutRetentionPolicy`), the
 * oldest event time a group with a retention still shows, and LogRetentionSweeper, which deletes
 * expired streams when the server starts and then every SWEEP_EVERY_MS of the injected clock
 * (a test's clock jump runs a pass at once). Reads never return expired events, swept or not.
 */
import type { Clock } from '../core/clock.js';
import { DueTimer } from '../core/due-timer.js';
import type { LogArchive, SweepResult } from './log-archive.js';

/** The values `retentionInDays` may take (the Logs model's `Days`). */
export const RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
];

export const DAY_MS = 86_400_000;

/** How often expired streams are looked for (AWS takes up to 72 hours; an hour is plenty). */
export const SWEEP_EVERY_MS = 3_600_000;

/** The oldest event time a group keeps at `nowMs` (0 without a retention). */
export function retentionStartMs(retentionInDays: number | undefined, nowMs: number): number {
  return retentionInDays === undefined ? 0 : Math.max(0, nowMs - retentionInDays * DAY_MS);
}

/** Runs the archive's sweep periodically on the clock, one pass at a time. */
export class LogRetentionSweeper {
  readonly #archive: LogArchive;
  readonly #clock: Clock;
  readonly #onError: (error: unknown) => void;
  readonly #timer: DueTimer;
  readonly #listeners = new Set<(result: SweepResult, startedMs: number) => void>();
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(archive: LogArchive, clock: Clock, onError: (error: unknown) => void) {
    this.#archive = archive;
    this.#clock = clock;
    this.#onError = onError;
    this.#timer = new DueTimer(clock, () => void this.#pass());
  }

  /** Sweeps now, then every SWEEP_EVERY_MS. */
  start(): void {
    if (this.#stopped) return;
    void this.#pass();
  }

  /** No pass starts after this; resolves once a pass under way has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer.cancel();
    await this.#running;
  }

  /**
   * Calls `listener` after every pass with what it did and the clock time it started at (tests
   * wait for a pass that started after their clock jump); returns what removes it.
   */
  onPass(listener: (result: SweepResult, startedMs: number) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** One pass now (after the one under way, if any). */
  async sweep(): Promise<SweepResult> {
    await this.#running;
    const startedMs = this.#clock.now();
    const result = await this.#archive.sweep(startedMs);
    for (const listener of [...this.#listeners]) listener(result, startedMs);
    return result;
  }

  async #pass(): Promise<void> {
    if (this.#stopped || this.#running !== undefined) return;
    // From when this pass started: a clock jump during the pass is not lost.
    const started = this.#clock.now();
    const running = this.sweep().then(
      () => undefined,
      (error: unknown) => this.#onError(error),
    );
    this.#running = running;
    await running;
    this.#running = undefined;
    if (!this.#stopped) this.#timer.at(started + SWEEP_EVERY_MS);
  }
}
