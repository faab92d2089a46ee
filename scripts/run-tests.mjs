// Runs every compiled test file (dist/test/**/*.test.js) with Node's test runner.
// Arguments narrow the run: `npm test -- sigv4` runs the files whose path contains "sigv4".
// The security suite (dist/test/security) runs last and one file at a time: its attack tests
// time a victim function while an attack runs, which another test's load would distort.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function collect(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return collect(path);
    return entry.name.endsWith('.test.js') ? [path] : [];
  });
}

const filters = process.argv.slice(2);
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
      '--test-timeout=300000',
      ...group,
    ],
    { stdio: 'inherit' },
  );
  return result.status ?? 1;
}

const others = run(
  files.filter((file) => !isSecurity(file)),
  2,
);
const security = run(files.filter(isSecurity), 1);
process.exit(others !== 0 ? others : security);
