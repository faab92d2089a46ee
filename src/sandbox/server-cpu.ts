/**
 * The server's CPU: the one its main thread (the event loop) is moved to, together with the
 * environment of a lone invocation, by `ColocationPolicy`. Moving means restricting the thread's
 * own cpuset to that CPU; letting go gives it every CPU again. Only the main thread moves: the
 * thread pool and V8's helper threads keep running anywhere.
 */
import type { Colocatable } from '../environment/colocation-policy.js';
import type { CgroupManager } from './cgroups.js';
import { cpusetSwitch } from './cpuset-switch.js';

export interface ServerCpu extends Colocatable {
  /** The CPU, as a cpuset list of one. */
  readonly cpu: string;
  /** Gives the main thread back its original cpuset. */
  close(): Promise<void>;
}

/** The CPUs of a cpuset list (`0-2,6` → 0, 1, 2, 6). */
export function cpuListMembers(list: string): number[] {
  const cpus: number[] = [];
  for (const part of list.split(',')) {
    const match = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (match === null) continue;
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    for (let cpu = first; cpu <= last; cpu += 1) cpus.push(cpu);
  }
  return cpus;
}

/**
 * The server's CPU among `list`, picked by process id so that several servers on one machine
 * spread over its CPUs; undefined when the list names fewer than two CPUs.
 */
export function serverCpuOf(list: string, pid: number): string | undefined {
  const cpus = cpuListMembers(list);
  return cpus.length < 2 ? undefined : String(cpus[pid % cpus.length]);
}

/**
 * Sets up the server's CPU; undefined when environments cannot be placed on CPUs, there is only
 * one CPU, or the main thread cannot get a cpuset of its own (cgroup v2).
 */
export async function openServerCpu(cgroups: CgroupManager): Promise<ServerCpu | undefined> {
  const anyCpu = cgroups.cpus;
  const cpu = anyCpu === undefined ? undefined : serverCpuOf(anyCpu, process.pid);
  if (anyCpu === undefined || cpu === undefined) return undefined;
  const cpuset = await cgroups.mainThreadCpuset();
  if (cpuset === undefined) return undefined;
  return {
    cpu,
    ...cpusetSwitch((list) => cpuset.setCpus(list), cpu, anyCpu),
    close: () => cpuset.remove(),
  };
}
