// Describes the machine a benchmark ran on.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';

function osName() {
  try {
    const match = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    return match?.[1] ?? null;
  } catch {
    return null;
  }
}

function cgroupVersion() {
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return 'v2';
  if (existsSync('/sys/fs/cgroup/memory')) return 'v1';
  return 'none';
}

function git(repoRoot, args) {
  try {
    return execFileSync('git', args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

function gitDirty(repoRoot) {
  const status = git(repoRoot, ['status', '--porcelain', '--', 'src', 'runtimes', 'bin']);
  return status === null ? null : status !== '';
}

/** The 1-minute load average: other work on the machine skews every figure. */
export function loadAverage() {
  return Math.round(loadavg()[0] * 100) / 100;
}

export function machineInfo(repoRoot) {
  return {
    cores: availableParallelism(),
    cpu_model: cpus()[0]?.model ?? null,
    memory_gib: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    kernel: release(),
    os: osName(),
    cgroup: cgroupVersion(),
    git_commit: git(repoRoot, ['rev-parse', '--short', 'HEAD']),
    // Uncommitted changes to what runs (src/ is compiled into the dist/ being measured).
    git_dirty: gitDirty(repoRoot),
    date: new Date().toISOString(),
    load_average_1m_at_start: loadAverage(),
  };
}

/** The machine's CPU time counters (all CPUs, in clock ticks) from /proc/stat, or null. */
export function cpuCounters() {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n', 1)[0]
      .trim()
      .split(/\s+/)
      .slice(1);
    const [user, nice, system, idle, iowait, irq, softirq, steal = 0] = fields.map(Number);
    return { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal };
  } catch {
    return null;
  }
}

/**
 * How the machine's CPU time was spent between two `cpuCounters()` snapshots, in percent: busy,
 * idle, and stolen (a virtual machine's vCPUs waiting for the host). Steal time is time the
 * benchmark wanted and did not get: figures taken with a high share of it are not comparable.
 */
export function cpuShares(before, after) {
  if (before === null || after === null) return null;
  const delta = (key) => after[key] - before[key];
  const total = delta('busy') + delta('idle') + delta('steal');
  const percent = (key) => (total === 0 ? 0 : Math.round((delta(key) / total) * 1000) / 10);
  return {
    busy_percent: percent('busy'),
    idle_percent: percent('idle'),
    steal_percent: percent('steal'),
  };
}
