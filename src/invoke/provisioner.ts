/**
 * Provisioned concurrency: keeps the requested number of initialised environments for a version
 * or alias, ahead of traffic. Environments are created one at a time (IN_PROGRESS), counted when
 * their init succeeds (READY once all are), re-created when they die, replaced when an alias moves
 * to another version, and never reaped for idleness. Invocations find them in the warm pool.
 */
import { randomUUID } from 'node:crypto';
import { LambdaError } from '../core/errors.js';
import type { EnvironmentPool } from './environment-pool.js';
import type { ExecutionEnvironment } from '../environment/execution-environment.js';
import { environmentKey, type CreatedEnvironment } from './invoke-service.js';
import type { ResolvedFunction } from '../environment/ports.js';
import type { FunctionResolver } from './ports.js';
import type { Reservation } from '../environment/reservation.js';

export type ProvisioningStatus = 'IN_PROGRESS' | 'READY' | 'FAILED';

/** What GetProvisionedConcurrencyConfig reports beyond the stored request. */
export interface ProvisioningState {
  readonly allocated: number;
  readonly available: number;
  readonly status: ProvisioningStatus;
  readonly reason: string | undefined;
}

export interface ProvisionerDeps {
  readonly resolver: FunctionResolver;
  /** Room for each environment, and the warm pool its invocations find it in. */
  readonly pool: Pick<EnvironmentPool, 'reserve' | 'release'>;
  /** Creates and initialises an environment in the room a reservation holds. */
  readonly create: (
    resolved: ResolvedFunction,
    type: 'provisioned-concurrency',
    requestId: string,
    reservation: Reservation,
  ) => Promise<CreatedEnvironment>;
  /** Told when a target's state changes (for waiting in tests and for logs). */
  readonly onChange?: (functionName: string, qualifier: string) => void;
}

interface Target {
  readonly functionName: string;
  readonly qualifier: string;
  requested: number;
  readonly envs: Set<ExecutionEnvironment>;
  status: ProvisioningStatus;
  reason: string | undefined;
  /** The reconcile loop is running; `again` asks it for one more pass. */
  running: boolean;
  again: boolean;
  removed: boolean;
}

export class Provisioner {
  readonly #d: ProvisionerDeps;
  readonly #targets = new Map<string, Target>();
  #stopped = false;

  constructor(deps: ProvisionerDeps) {
    this.#d = deps;
  }

  /** Sets how many environments a version or alias keeps, and starts working towards it. */
  apply(functionName: string, qualifier: string, requested: number): void {
    const id = targetId(functionName, qualifier);
    let target = this.#targets.get(id);
    if (target === undefined) {
      target = {
        functionName,
        qualifier,
        requested,
        envs: new Set(),
        status: 'IN_PROGRESS',
        reason: undefined,
        running: false,
        again: false,
        removed: false,
      };
      this.#targets.set(id, target);
    }
    target.requested = requested;
    target.status = 'IN_PROGRESS';
    target.reason = undefined;
    this.#reconcile(target);
  }

  /** Re-checks every target of a function (an alias moved, a version or the function changed). */
  refresh(functionName: string): void {
    for (const target of this.#targets.values()) {
      if (target.functionName === functionName && target.status !== 'FAILED')
        this.#reconcile(target);
    }
  }

  /**
   * Stops keeping environments for a version or alias and ends them: idle ones at once, busy ones
   * once their invocation has completed.
   */
  async remove(functionName: string, qualifier: string): Promise<void> {
    const id = targetId(functionName, qualifier);
    const target = this.#targets.get(id);
    if (target === undefined) return;
    this.#targets.delete(id);
    target.removed = true;
    await Promise.all([...target.envs].map((env) => env.retire()));
  }

  /** Stops keeping environments for any qualifier of the function. */
  async removeFunction(functionName: string): Promise<void> {
    const targets = [...this.#targets.values()].filter((t) => t.functionName === functionName);
    await Promise.all(targets.map((t) => this.remove(t.functionName, t.qualifier)));
  }

  state(functionName: string, qualifier: string): ProvisioningState | undefined {
    const target = this.#targets.get(targetId(functionName, qualifier));
    if (target === undefined) return undefined;
    const allocated = [...target.envs].filter((env) => env.state !== 'dead').length;
    return { allocated, available: allocated, status: target.status, reason: target.reason };
  }

  /** Whether a version or alias has provisioned concurrency configured (a quick lookup). */
  has(functionName: string, qualifier: string): boolean {
    return this.#targets.has(targetId(functionName, qualifier));
  }

  /** Every version or alias kept: requested, allocated and busy environments, for metrics. */
  status(): Array<{
    functionName: string;
    qualifier: string;
    requested: number;
    allocated: number;
    busy: number;
  }> {
    return [...this.#targets.values()].map((target) => {
      let allocated = 0;
      let busy = 0;
      for (const env of target.envs) {
        if (env.state === 'dead') continue;
        allocated += 1;
        if (env.state === 'busy') busy += 1;
      }
      const { functionName, qualifier, requested } = target;
      return { functionName, qualifier, requested, allocated, busy };
    });
  }

  /** Stops every provisioned environment (the server is stopping). */
  async stop(): Promise<void> {
    this.#stopped = true;
    const all = [...this.#targets.values()];
    this.#targets.clear();
    for (const target of all) target.removed = true;
    await Promise.all(all.flatMap((t) => [...t.envs].map((env) => env.destroy())));
  }

  #reconcile(target: Target): void {
    if (target.running) {
      target.again = true;
      return;
    }
    target.running = true;
    void this.#work(target).finally(() => {
      target.running = false;
      if (target.again && !target.removed && !this.#stopped) {
        target.again = false;
        this.#reconcile(target);
      }
    });
  }

  async #work(target: Target): Promise<void> {
    let resolved: ResolvedFunction;
    try {
      resolved = await this.#d.resolver.resolve(target.functionName, target.qualifier);
    } catch (error) {
      this.#fail(target, error instanceof LambdaError ? error.message : String(error));
      return;
    }
    const key = environmentKey(resolved);
    // Environments of another version or configuration (the alias moved) are replaced.
    for (const env of target.envs) {
      if (env.state === 'dead') target.envs.delete(env);
      else if (env.settings.key !== key && env.state === 'ready') {
        target.envs.delete(env);
        void env.destroy();
      }
    }
    const current = () => [...target.envs].filter((env) => env.settings.key === key).length;
    while (!target.removed && !this.#stopped && current() < target.requested) {
      const memoryMiB = resolved.version.settings.memoryMiB;
      const reservation = this.#d.pool.reserve(memoryMiB);
      if (reservation === undefined) {
        this.#fail(
          target,
          `The host has no memory left for another ${memoryMiB} MB execution environment.`,
        );
        return;
      }
      let created: CreatedEnvironment;
      try {
        created = await this.#d.create(
          resolved,
          'provisioned-concurrency',
          randomUUID(),
          reservation,
        );
      } catch (error) {
        this.#fail(target, error instanceof Error ? error.message : String(error));
        return;
      }
      if (!created.ok) {
        this.#fail(target, `Function initialization failed: ${initError(created.outcome.payload)}`);
        return;
      }
      const env = created.env;
      if (target.removed || this.#stopped) {
        await env.destroy();
        return;
      }
      target.envs.add(env);
      this.#d.pool.release(env);
      void env.ended.then(() => {
        target.envs.delete(env);
        // A provisioned environment that died (crash, timeout) is re-created.
        if (!target.removed && !this.#stopped) this.#reconcile(target);
        this.#changed(target);
      });
      this.#changed(target);
    }
    // Fewer requested than running: end the idle extras.
    for (const env of [...target.envs]) {
      if (current() <= target.requested) break;
      if (env.state === 'ready') {
        target.envs.delete(env);
        await env.destroy();
      }
    }
    if (!target.removed) {
      target.status = current() >= target.requested ? 'READY' : 'IN_PROGRESS';
      target.reason = undefined;
      this.#changed(target);
    }
  }

  #fail(target: Target, reason: string): void {
    target.status = 'FAILED';
    target.reason = reason;
    this.#changed(target);
  }

  #changed(target: Target): void {
    this.#d.onChange?.(target.functionName, target.qualifier);
  }
}

function targetId(functionName: string, qualifier: string): string {
  return `${functionName}\u0000${qualifier}`;
}

function initError(payload: Buffer): string {
  try {
    const parsed = JSON.parse(payload.toString('utf8')) as {
      errorType?: unknown;
      errorMessage?: unknown;
    };
    return `${String(parsed.errorType)}: ${String(parsed.errorMessage)}`;
  } catch {
    return payload.toString('utf8').slice(0, 500);
  }
}
