/**
 * The cgroups a server made for its environments, read from outside it (as root): one folder per
 * environment and controller, named `<server pid>.<environment id>`, under `lamina/` of the
 * server's own cgroup in each v1 controller, or under `/sys/fs/cgroup/lamina` on v2.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup';

/** The folders that hold environment cgroups, for a server's pid. */
export function environmentCgroupBases(serverPid: number): string[] {
  if (existsSync(join(ROOT, 'cgroup.controllers'))) return [join(ROOT, 'lamina')];
  const bases: string[] = [];
  for (const line of readFileSync(`/proc/${serverPid}/cgroup`, 'utf8').split('\n')) {
    const [, controllers, path] = line.split(':');
    if (controllers === undefined || path === undefined) continue;
    for (const controller of controllers.split(',')) {
      if (['memory', 'cpu', 'pids', 'freezer', 'cpuset'].includes(controller))
        bases.push(join(ROOT, controller, path, 'lamina'));
    }
  }
  return bases.filter((base) => existsSync(base));
}

/** Every cgroup of `serverPid` still present under `bases` (its environments' and its own). */
export function serverCgroups(bases: readonly string[], serverPid: number): string[] {
  return bases.flatMap((base) =>
    existsSync(base)
      ? readdirSync(base)
          .filter((name) => name.startsWith(`${serverPid}.`))
          .map((name) => join(base, name))
      : [],
  );
}

/**
 * The environment cgroups of `serverPid` still present under `bases`: all but the empty one the
 * server keeps frozen for itself (`<pid>.freezer-pin`, v1 only).
 */
export function environmentCgroups(bases: readonly string[], serverPid: number): string[] {
  return serverCgroups(bases, serverPid).filter(
    (dir) => !dir.endsWith(`/${serverPid}.freezer-pin`),
  );
}

/** The pids in cgroups (host pid namespace). */
export function cgroupPids(cgroups: readonly string[]): number[] {
  const pids = new Set<number>();
  for (const cgroup of cgroups) {
    try {
      for (const line of readFileSync(join(cgroup, 'cgroup.procs'), 'utf8').split('\n'))
        if (line !== '') pids.add(Number(line));
    } catch {
      // removed meanwhile
    }
  }
  return [...pids];
}

/** Whether a process exists (and is not a zombie). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}
