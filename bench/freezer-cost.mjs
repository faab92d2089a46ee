// What one freeze/thaw costs: `node bench/freezer-cost.mjs` (root, cgroup v1 freezer or v2).
// Makes two throwaway freezer cgroups, each holding one idle process, and times writing the
// freeze and thaw states: with a synchronous write, and with fs/promises.writeFile as Lamina's
// cgroups.ts does (open, write and close each go through the libuv thread pool); each both while
// no other cgroup is frozen and while the second one is. Prints one JSON document.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { summarize } from './stats.mjs';

const ROUNDS = process.argv.includes('--quick') ? 100 : 500;
const V2 = existsSync('/sys/fs/cgroup/cgroup.controllers');

/** The folder to create test cgroups in: this process's own freezer cgroup. */
function freezerBase() {
  if (V2) {
    const line = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'));
    return join('/sys/fs/cgroup', line?.slice(3) ?? '/');
  }
  const line = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((l) => l.split(':')[1]?.split(',').includes('freezer'));
  if (line === undefined) throw new Error('no cgroup v1 freezer hierarchy');
  return join('/sys/fs/cgroup/freezer', line.split(':')[2] ?? '/');
}

async function makeFrozenable(base, name) {
  const dir = join(base, `lamina-bench-${process.pid}-${name}`);
  mkdirSync(dir);
  const child = spawn('sleep', ['infinity'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  writeFileSync(join(dir, 'cgroup.procs'), String(child.pid));
  const state = join(dir, V2 ? 'cgroup.freeze' : 'freezer.state');
  return {
    state,
    frozen: V2 ? '1' : 'FROZEN',
    thawed: V2 ? '0' : 'THAWED',
    remove: async () => {
      writeFileSync(state, V2 ? '0' : 'THAWED');
      child.kill('SIGKILL');
      await exited;
      rmdirSync(dir);
    },
  };
}

async function cycles(group, write) {
  const freeze = [];
  const thaw = [];
  for (let i = 0; i < ROUNDS; i += 1) {
    let started = performance.now();
    await write(group.state, group.frozen);
    freeze.push(performance.now() - started);
    started = performance.now();
    await write(group.state, group.thawed);
    thaw.push(performance.now() - started);
  }
  return { freeze: summarize(freeze), thaw: summarize(thaw) };
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('run as root: it creates cgroups');
  const base = freezerBase();
  const groups = [];
  try {
    groups.push(await makeFrozenable(base, 'a'), await makeFrozenable(base, 'b'));
    const [a, b] = groups;
    const sync = (file, value) => writeFileSync(file, value);
    const result = { cgroup: V2 ? 'v2' : 'v1', rounds: ROUNDS, alone: {}, another_frozen: {} };
    result.alone.sync_write = await cycles(a, sync);
    result.alone.fs_promises_write_file = await cycles(a, writeFile);
    sync(b.state, b.frozen);
    result.another_frozen.sync_write = await cycles(a, sync);
    result.another_frozen.fs_promises_write_file = await cycles(a, writeFile);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    for (const group of groups) await group.remove();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`[freezer-cost] FAILED: ${error?.message ?? String(error)}\n`);
    process.exit(1);
  },
);
