// Finds the cgroups of Lamina's live execution environments: the server keeps each one in
// `<its own memory cgroup>/lamina/<id>` on cgroup v1, or `/sys/fs/cgroup/lamina/<id>` on v2.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup';

/** A file's text, or undefined when it cannot be read (the environment may just have gone). */
export function readText(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The parent pid of `pid`, or undefined when it is gone. */
function parentPid(pid) {
  const stat = readText(`/proc/${pid}/stat`);
  return stat === undefined ? undefined : stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
}

/**
 * { version, dirs }: one memory-cgroup folder per live environment of the server `serverPid`.
 * Other Lamina servers on the host may share the `lamina` folder, so only cgroups holding a
 * child of `serverPid` (the environment's bubblewrap process) count.
 */
export function listEnvironmentCgroups(serverPid) {
  let version = 'none';
  let base;
  if (existsSync(join(ROOT, 'cgroup.controllers'))) {
    version = 'v2';
    base = join(ROOT, 'lamina');
  } else {
    for (const line of (readText(`/proc/${serverPid}/cgroup`) ?? '').split('\n')) {
      const [, controllers, path] = line.split(':');
      if (controllers?.split(',').includes('memory') && path !== undefined) {
        version = 'v1';
        base = join(ROOT, 'memory', path, 'lamina');
      }
    }
  }
  if (base === undefined || !existsSync(base)) return { version, dirs: [] };
  const dirs = readdirSync(base, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(base, entry.name))
    .filter((dir) => cgroupPids(dir).some((pid) => parentPid(pid) === String(serverPid)));
  return { version, dirs };
}

/** Host pids of the processes in a cgroup folder. */
export function cgroupPids(dir) {
  return (readText(join(dir, 'cgroup.procs')) ?? '').split('\n').filter((pid) => pid !== '');
}
