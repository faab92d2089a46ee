// CPU time (user + system) of processes, from /proc/<pid>/stat, in milliseconds.
import { execFileSync } from 'node:child_process';
import { cgroupPids, listEnvironmentCgroups, readText } from './environment-cgroups.mjs';

let ticksPerSecond;

function clockTicks() {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of one process (all its threads), or 0 if it is gone. */
export function processCpuMs(pid) {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === undefined) return 0;
  // Fields after the command name (which may hold spaces) start at field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks();
}

/** Summed CPU time of every process in the server's live execution environments. */
export function environmentsCpuMs(serverPid) {
  let total = 0;
  for (const dir of listEnvironmentCgroups(serverPid).dirs)
    for (const pid of cgroupPids(dir)) total += processCpuMs(pid);
  return total;
}
