/**
 * The host-wide cap on processes of all environments together, written to `pids.max` of the
 * `lamina` cgroup that holds every environment's cgroup. Each environment may have 1,024 (as on
 * Lambda), but on a host whose kernel allows 32,768 ids that is 32 environments' worth: without a
 * cap on the sum, functions could take every id and leave none for the host (sshd, the server's
 * own spawns). Half of what the kernel allows stays for everything else.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Share of the host's process ids the environments may hold together. */
export const ENVIRONMENT_PIDS_SHARE = 0.5;

/**
 * The cap for a kernel's limits: half of the smaller of `kernel.pid_max` and
 * `kernel.threads-max` (threads take ids too), at least one environment's 1,024.
 */
export function pidsCapFor(pidMax: number, threadsMax: number): number {
  return Math.max(1024, Math.floor(Math.min(pidMax, threadsMax) * ENVIRONMENT_PIDS_SHARE));
}

/** The cap for this host (from /proc/sys/kernel). */
export function hostPidsCap(kernelDir = '/proc/sys/kernel'): number {
  const read = (name: string) => Number(readFileSync(join(kernelDir, name), 'utf8').trim());
  return pidsCapFor(read('pid_max'), read('threads-max'));
}
