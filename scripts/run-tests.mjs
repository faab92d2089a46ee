// Runs every compiled test file (dist/test/**/*.test.js) with Node's test runner.
// Arguments narrow the run: `npm test -- sigv4` runs the files whose path contains "sigv4".
// The security suite (dist/test/security) runs last and one file at a time: its attack tests
// time a victim function while an attack runs, which another test's load would distort.
// Each security file starts once the machine is quiet (at least 80 % idle over a second, from
// /proc/stat; at most a minute), so that what the files before it left running (servers stopping,
// file systems being written back) is not measured as the attack's cost.
// `--timeout MS` changes the per-file limit (300 s; `npm run soak` gives its long files more).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { join } from 'node:path';

function collect(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return collect(path);
    return entry.name.endsWith('.test.js') ? [path] : [];
  });
}

const args = process.argv.slice(2);
const timeoutAt = args.indexOf('--timeout');
const timeoutMs = timeoutAt < 0 ? 300_000 : Number(args[timeoutAt + 1]);
if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
  console.error('usage: node scripts/run-tests.mjs [--timeout MS] [path filters…]');
  process.exit(2);
}
const filters =
  timeoutAt < 0 ? args : args.filter((_, i) => i !== timeoutAt && i !== timeoutAt + 1);
const files = collect('dist/test')
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();
if (files.length === 0) {
  console.error('No test files matched.');
  process.exit(1);
}
const isSecurity = (file) => file.startsWith(join('dist', 'test', 'security'));

/** Runs files with the given concurrency; answers the runner's exit status. */
function run(group, concurrency) {
  if (group.length === 0) return 0;
  const result = spawnSync(
    process.execPath,
    // A test that hangs fails after 5 minutes instead of holding CI until its time limit.
    [
      '--test',
      '--test-reporter=spec',
      `--test-concurrency=${concurrency}`,
      `--test-timeout=${timeoutMs}`,
      ...group,
    ],
    { stdio: 'inherit' },
  );
  return result.status ?? 1;
}

/** The CPU times of the machine (user, nice, system, idle, iowait, …) from /proc/stat. */
function cpuTimes() {
  return readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
}

/** Resolves once the machine was at least 80 % idle over one second, or after a minute. */
async function quiet() {
  for (let second = 0; second < 60; second += 1) {
    const before = cpuTimes();
    await delay(1_000);
    const spent = cpuTimes().map((time, i) => time - (before[i] ?? 0));
    const total = spent.reduce((sum, time) => sum + time, 0);
    const idle = (spent[3] ?? 0) + (spent[4] ?? 0);
    if (total === 0 || idle / total >= 0.8) return;
  }
  console.log('# the machine stayed busy for a minute; the security file runs anyway');
}

const others = run(
  files.filter((file) => !isSecurity(file)),
  2,
);
let security = 0;
for (const file of files.filter(isSecurity)) {
  await quiet();
  const status = run([file], 1);
  if (security === 0) security = status;
}
process.exit(others !== 0 ? others : security);
