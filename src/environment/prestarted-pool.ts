/**
 * Pre-started generic sandboxes, per runtime family: each has its runtime booted and waiting to be
 * bound to a function. A cold start takes one (specialisation) instead of booting a process; the
 * pool refills in the background, one boot at a time per family, and backs off when boots fail.
 */
import type { BootedSandbox } from './environment-factory.js';
import type { RuntimeLaunch } from './ports.js';

/** What the pool needs to boot and stop sandboxes. */
export interface PrestartedPoolDeps {
  readonly boot: (launch: RuntimeLaunch) => Promise<BootedSandbox>;
  readonly discard: (booted: BootedSandbox) => Promise<void>;
  /** Called when a boot fails (the pool retries after `retryDelayMs`). */
  readonly onBootFailure?: (family: string, error: unknown) => void;
  /** Wait after a failed boot before the next attempt (ms, default 5 s). */
  readonly retryDelayMs?: number;
}

interface Family {
  readonly launch: RuntimeLaunch;
  readonly ready: BootedSandbox[];
  booting: boolean;
  /** Specialisations served from this family, for status. */
  taken: number;
  lastError: string | undefined;
  retryTimer: NodeJS.Timeout | undefined;
}

/** The state of one family, for Lamina's status API and tests. */
export interface PrestartedFamilyStatus {
  readonly family: string;
  readonly size: number;
  readonly ready: number;
  readonly booting: boolean;
  readonly taken: number;
  readonly lastError: string | undefined;
}

export class PrestartedPool {
  readonly #size: number;
  readonly #d: PrestartedPoolDeps;
  readonly #families = new Map<string, Family>();
  readonly #listeners = new Set<() => void>();
  #started = false;
  #stopped = false;
  /** Boots under way (a stop waits for them: one that finishes after it is discarded). */
  readonly #booting = new Set<Promise<void>>();

  constructor(size: number, deps: PrestartedPoolDeps) {
    this.#size = size;
    this.#d = deps;
  }

  get size(): number {
    return this.#size;
  }

  /** Starts booting the families registered so far; later ones boot as they are registered. */
  start(): void {
    this.#started = true;
    for (const family of this.#families.keys()) this.#fill(family);
  }

  /**
   * Keeps `size` booted sandboxes of this family once the pool has started (a no-op when the
   * size is 0).
   */
  register(family: string, launch: RuntimeLaunch): void {
    if (this.#size === 0 || this.#families.has(family)) return;
    this.#families.set(family, {
      launch,
      ready: [],
      booting: false,
      taken: 0,
      lastError: undefined,
      retryTimer: undefined,
    });
    this.#fill(family);
  }

  /** A booted sandbox of the family, if one is ready; the pool refills behind it. */
  take(family: string): BootedSandbox | undefined {
    const state = this.#families.get(family);
    const booted = state?.ready.shift();
    if (state !== undefined && booted !== undefined) {
      state.taken += 1;
      this.#fill(family);
    }
    return booted;
  }

  status(): PrestartedFamilyStatus[] {
    return [...this.#families].map(([family, state]) => ({
      family,
      size: this.#size,
      ready: state.ready.length,
      booting: state.booting,
      taken: state.taken,
      lastError: state.lastError,
    }));
  }

  /** Calls `listener` whenever the pool changes (a boot finished or a sandbox left). */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops every booted sandbox and boots no more. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const all: BootedSandbox[] = [];
    for (const state of this.#families.values()) {
      clearTimeout(state.retryTimer);
      all.push(...state.ready.splice(0));
    }
    await Promise.all([...all.map((booted) => this.#d.discard(booted)), ...this.#booting]);
  }

  #fill(family: string): void {
    const state = this.#families.get(family);
    if (state === undefined || !this.#started || this.#stopped || state.booting) return;
    if (state.ready.length >= this.#size || state.retryTimer !== undefined) return;
    state.booting = true;
    const boot = this.#d.boot(state.launch).then(
      async (booted) => {
        state.booting = false;
        state.lastError = undefined;
        if (this.#stopped) {
          await this.#d.discard(booted).catch(() => undefined);
          return;
        }
        state.ready.push(booted);
        void booted.sandbox.exited.then(() => this.#left(family, booted));
        this.#changed();
        this.#fill(family);
      },
      (error: unknown) => {
        state.booting = false;
        state.lastError = error instanceof Error ? error.message : String(error);
        this.#d.onBootFailure?.(family, error);
        state.retryTimer = setTimeout(() => {
          state.retryTimer = undefined;
          this.#fill(family);
        }, this.#d.retryDelayMs ?? 5000);
        state.retryTimer.unref();
        this.#changed();
      },
    );
    this.#booting.add(boot);
    void boot.finally(() => this.#booting.delete(boot));
  }

  /** A booted sandbox exited while waiting: forget it and boot another. */
  #left(family: string, booted: BootedSandbox): void {
    const state = this.#families.get(family);
    if (state === undefined) return;
    const at = state.ready.indexOf(booted);
    if (at < 0) return;
    state.ready.splice(at, 1);
    void this.#d.discard(booted);
    this.#changed();
    this.#fill(family);
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }
}
