/**
 * Warm environments and the memory budget they share. An invoke takes an idle environment of the
 * same function version and configuration, else starts one if the budget allows (evicting idle
 * environments of other functions first), else waits in line for a short while and is throttled.
 */
import { LambdaError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { ExecutionEnvironment } from '../environment/execution-environment.js';
import type { Reservation } from '../environment/reservation.js';

/** Budget and timing of the pool. */
export interface PoolOptions {
  /** Sum of MemorySize of all live environments may not pass this (MiB). */
  readonly capacityMiB: number;
  /** How long an invoke may wait for room before it gets 429 (ms). */
  readonly queueTimeoutMs: number;
  /**
   * Most cold starts running at once (default: unbounded). A burst of first calls then queues for
   * the environments already starting instead of starting one process each.
   */
  readonly maxColdStarts?: number;
  /** How long an invoke may wait for a cold-start slot or an environment to free up (ms). */
  readonly burstTimeoutMs?: number;
}

interface Waiter {
  readonly resolve: () => void;
}

/**
 * The environments of one function version: a new configuration of the version (its code or
 * settings changed) replaces their idle ones; other versions of the function keep theirs.
 */
export function lineageOf(settings: { readonly functionName: string; readonly version: string }) {
  return `${settings.functionName}\u0000${settings.version}`;
}

function throttled(): LambdaError {
  return new LambdaError(
    'TooManyRequestsException',
    'Rate Exceeded. The host has no memory left for another execution environment.',
    { reason: 'ConcurrentInvocationLimitExceeded', retryAfterSeconds: 1 },
  );
}

export class EnvironmentPool {
  readonly #options: PoolOptions;
  readonly #clock: Clock;
  readonly #idle = new Map<string, ExecutionEnvironment[]>();
  readonly #live = new Set<ExecutionEnvironment>();
  readonly #waiters: Waiter[] = [];
  #reservedMiB = 0;
  #coldStarts = 0;
  /** Reservations not yet settled, and the functions retired while any were (see `retire`). */
  #unsettled = 0;
  #retiredMeanwhile: Array<{ readonly functionName: string; readonly version?: string }> = [];

  constructor(options: PoolOptions, clock: Clock) {
    this.#options = options;
    this.#clock = clock;
  }

  /** MiB currently held by live or starting environments. */
  get usedMiB(): number {
    return this.#reservedMiB;
  }

  /** Takes an idle environment for `key`, if there is one (provisioned ones first). */
  takeIdle(key: string): ExecutionEnvironment | undefined {
    const list = this.#idle.get(key);
    if (list === undefined) return undefined;
    for (let i = list.length - 1; i >= 0; i -= 1) {
      const env = list[i];
      if (env?.settings.provisioned === true && env.state === 'ready') {
        list.splice(i, 1);
        return env;
      }
    }
    while (list.length > 0) {
      const env = list.pop();
      if (env !== undefined && env.state === 'ready') return env;
    }
    return undefined;
  }

  /**
   * Reserves room for an environment created ahead of traffic (provisioned concurrency), evicting
   * idle on-demand environments when needed. Undefined when the host has no room.
   */
  reserve(memoryMiB: number): Reservation | undefined {
    for (;;) {
      if (this.#fits(memoryMiB)) return this.#reservation(memoryMiB, false);
      if (!this.#evictOne()) return undefined;
    }
  }

  /**
   * An idle environment for `key`, or a reservation of room for a new one of `memoryMiB` (which
   * also counts as a cold start until its environment has initialised): idle environments of
   * other functions are evicted when needed, and the call waits up to the queue timeout for room
   * before it throws 429 TooManyRequestsException.
   */
  async acquire(
    key: string,
    lineage: string,
    memoryMiB: number,
  ): Promise<ExecutionEnvironment | Reservation> {
    const deadline = this.#clock.now() + this.#options.queueTimeoutMs;
    const burstDeadline = this.#clock.now() + (this.#options.burstTimeoutMs ?? 60_000);
    for (;;) {
      const idle = this.takeIdle(key);
      if (idle !== undefined) return idle;
      if (this.#coldStarts >= (this.#options.maxColdStarts ?? Infinity)) {
        // Wait for a running cold start to finish or an environment to come back.
        const remaining = burstDeadline - this.#clock.now();
        if (remaining <= 0 || !(await this.#wait(remaining))) throw throttled();
        continue;
      }
      this.#evictStale(key, lineage);
      if (this.#fits(memoryMiB)) return this.#reservation(memoryMiB, true);
      if (this.#evictOne()) continue;
      const remaining = deadline - this.#clock.now();
      if (remaining <= 0 || !(await this.#wait(remaining))) throw throttled();
    }
  }

  /** Returns an environment after an invoke: ready ones become idle, others are forgotten. */
  release(env: ExecutionEnvironment): void {
    if (env.state !== 'ready') return;
    const list = this.#idle.get(env.settings.key) ?? [];
    list.push(env);
    this.#idle.set(env.settings.key, list);
    this.#wake();
  }

  /** Called when an environment died (killed, crashed, reaped): frees its memory. */
  forget(env: ExecutionEnvironment): void {
    if (!this.#live.delete(env)) return;
    this.#reservedMiB -= env.settings.memoryMiB;
    const list = this.#idle.get(env.settings.key);
    if (list !== undefined) {
      const at = list.indexOf(env);
      if (at >= 0) list.splice(at, 1);
    }
    this.#wake();
  }

  /**
   * The function (or one version of it) is gone: its idle environments are destroyed now, busy
   * and starting ones once their invocation ends. Returns how many environments it retired.
   */
  async retire(functionName: string, version?: string): Promise<number> {
    // An environment being made now is not live yet: its commit retires it (see #reservation).
    if (this.#unsettled > 0)
      this.#retiredMeanwhile.push(
        version === undefined ? { functionName } : { functionName, version },
      );
    const doomed = [...this.#live].filter(
      (env) =>
        env.settings.functionName === functionName &&
        (version === undefined || env.settings.version === version),
    );
    await Promise.all(doomed.map((env) => env.retire()));
    return doomed.length;
  }

  /**
   * A version no alias routes to any more: its idle environments end now (provisioned ones are
   * the Provisioner's). It can still be invoked by number, and then starts anew. Returns how many.
   */
  retireIdle(functionName: string, version: string): Promise<number> {
    return this.#destroyIdle(
      (env) => env.settings.functionName === functionName && env.settings.version === version,
    );
  }

  /** Destroys environments idle for longer than `idleMs`. Returns how many. */
  reapIdle(idleMs: number): Promise<number> {
    const cutoff = this.#clock.now() - idleMs;
    return this.#destroyIdle((env) => env.lastUsedMs <= cutoff);
  }

  /**
   * Retires environments made `maxAgeMs` or longer ago (provisioned ones too: their provisioner
   * makes new ones): idle ones end now, busy ones once their invocation ends. Returns how many.
   */
  async retireAged(maxAgeMs: number): Promise<number> {
    const cutoff = this.#clock.now() - maxAgeMs;
    const doomed = [...this.#live].filter((env) => env.startedMs <= cutoff);
    await Promise.all(doomed.map((env) => env.retire()));
    return doomed.length;
  }

  /** Destroys the idle on-demand environments `which` picks (provisioned ones stay). */
  async #destroyIdle(which: (env: ExecutionEnvironment) => boolean): Promise<number> {
    const doomed = [...this.#idle.values()]
      .flat()
      .filter((env) => env.settings.provisioned !== true && which(env));
    await Promise.all(doomed.map((env) => env.destroy()));
    return doomed.length;
  }

  /** Destroys every environment. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#live].map((env) => env.destroy()));
  }

  /** Idle and busy counts, for metrics and tests. */
  counts(): { live: number; idle: number } {
    return {
      live: this.#live.size,
      idle: [...this.#idle.values()].reduce((n, l) => n + l.length, 0),
    };
  }

  /** Live environments by state, the memory they reserve and the capacity, for metrics. */
  status(): {
    starting: number;
    idle: number;
    busy: number;
    reservedMiB: number;
    capacityMiB: number;
  } {
    let starting = 0;
    let idle = 0;
    let busy = 0;
    for (const env of this.#live) {
      if (env.state === 'starting') starting += 1;
      else if (env.state === 'ready') idle += 1;
      else if (env.state === 'busy') busy += 1;
    }
    return {
      starting,
      idle,
      busy,
      reservedMiB: this.#reservedMiB,
      capacityMiB: this.#options.capacityMiB,
    };
  }

  /**
   * Holds `memoryMiB` (and a cold-start slot) until settled: committed, the room belongs to the
   * environment until it dies and the slot ends once it leaves `starting`; cancelled, both go back.
   */
  #reservation(memoryMiB: number, coldStart: boolean): Reservation {
    this.#reservedMiB += memoryMiB;
    if (coldStart) this.#coldStarts += 1;
    this.#unsettled += 1;
    const retiredBefore = this.#retiredMeanwhile.length;
    let settled = false;
    const settle = () => {
      settled = true;
      this.#unsettled -= 1;
      if (this.#unsettled === 0) this.#retiredMeanwhile = [];
    };
    let starting = coldStart;
    const endColdStart = () => {
      if (!starting) return;
      starting = false;
      this.#coldStarts -= 1;
      this.#wake();
    };
    return {
      memoryMiB,
      commit: (env) => {
        if (settled) throw new Error('a reservation is settled once');
        const retired = this.#retiredMeanwhile
          .slice(retiredBefore)
          .some(
            (gone) =>
              gone.functionName === env.settings.functionName &&
              (gone.version === undefined || gone.version === env.settings.version),
          );
        settle();
        this.#live.add(env);
        env.onMove((from, to) => {
          if (from === 'starting') endColdStart();
          if (to === 'dead') this.forget(env);
        });
        if (env.state !== 'starting') endColdStart();
        if (env.state === 'dead') this.forget(env);
        // Its function (or version) was deleted while it was being made: it ends after the
        // invocation it was made for, as a busy one would.
        if (retired) void env.retire();
      },
      cancel: () => {
        if (settled) return;
        settle();
        this.#reservedMiB -= memoryMiB;
        endColdStart();
        this.#wake();
      },
    };
  }

  #fits(memoryMiB: number): boolean {
    return this.#reservedMiB + memoryMiB <= this.#options.capacityMiB;
  }

  /** Idle environments of the same version with another configuration will never serve again. */
  #evictStale(key: string, lineage: string): void {
    for (const [otherKey, list] of this.#idle) {
      if (otherKey === key) continue;
      const stale = list.filter(
        (env) => lineageOf(env.settings) === lineage && env.settings.provisioned !== true,
      );
      for (const env of stale) {
        this.forget(env);
        void env.destroy();
      }
    }
  }

  #evictOne(): boolean {
    let oldest: ExecutionEnvironment | undefined;
    for (const list of this.#idle.values()) {
      for (const env of list) {
        if (env.settings.provisioned === true) continue;
        if (oldest === undefined || env.lastUsedMs < oldest.lastUsedMs) oldest = env;
      }
    }
    if (oldest === undefined) return false;
    const victim = oldest;
    this.forget(victim);
    void victim.destroy();
    return true;
  }

  #wait(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        const at = this.#waiters.indexOf(waiter);
        if (at >= 0) this.#waiters.splice(at, 1);
        resolve(false);
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter.resolve();
  }
}
