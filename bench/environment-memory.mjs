// Memory held by each live execution environment: its memory cgroup's usage and anonymous memory,
// and the summed Rss and Pss of its processes (Pss shares common pages, such as the node binary,
// among the processes mapping them).
import { join } from 'node:path';
import { cgroupPids, listEnvironmentCgroups, readText } from './environment-cgroups.mjs';

function counter(text, name) {
  const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(text ?? '');
  return match === null ? NaN : Number(match[1]);
}

/** A `Name:   123 kB` figure of /proc/<pid>/smaps_rollup, in bytes. */
function smapsBytes(text, name) {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(text ?? '');
  return match === null ? 0 : Number(match[1]) * 1024;
}

/** One entry per live environment of the server `serverPid`. */
export function environmentMemory(serverPid) {
  const { version, dirs } = listEnvironmentCgroups(serverPid);
  const environments = dirs.map((dir) => {
    const stat = readText(join(dir, 'memory.stat'));
    const usage = readText(
      join(dir, version === 'v1' ? 'memory.usage_in_bytes' : 'memory.current'),
    );
    const pids = cgroupPids(dir);
    const rollups = pids.map((pid) => readText(`/proc/${pid}/smaps_rollup`));
    return {
      usageBytes: Number(usage ?? NaN),
      anonBytes: counter(stat, version === 'v1' ? 'total_rss' : 'anon'),
      processes: pids.length,
      rssBytes: rollups.reduce((sum, text) => sum + smapsBytes(text, 'Rss'), 0),
      pssBytes: rollups.reduce((sum, text) => sum + smapsBytes(text, 'Pss'), 0),
    };
  });
  return { cgroup: version, environments };
}
