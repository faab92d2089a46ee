/**
 * CPU co-location on cgroup v1 (as root): invocations that come one at a time run with the
 * server's event loop on one CPU; one that runs long gives both every CPU back (as a second
 * invocation at once does: see the policy's unit tests, which can order invocations exactly). The
 * function reports the CPUs it may run on; the server's main thread is read from /proc.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cpuQuotaFor } from '../../src/sandbox/cgroups.js';
import { deploy, invokeJson } from '../helpers/functions.js';
import { useServer } from '../helpers/server-suite.js';

/** This process's cgroup folder of a v1 controller (the server, its child, shares it). */
function ownCgroup(controller: string): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((entry) => entry.split(':')[1]?.split(',').includes(controller));
  return join('/sys/fs/cgroup', controller, line?.split(':')[2] ?? '/');
}

const CPUSET = join(ownCgroup('cpuset'), 'cpuset.effective_cpus');
const allCpus = existsSync(CPUSET) ? readFileSync(CPUSET, 'utf8').trim() : '';
const skip =
  process.getuid?.() !== 0
    ? 'needs root (cgroups)'
    : allCpus === '' || !/[-,]/.test(allCpus)
      ? 'needs a cgroup v1 cpuset hierarchy with at least two CPUs'
      : false;

/** Answers the CPUs it may run on; with `waitWhile`, first waits until they are no longer those. */
const REPORTER = {
  'index.js': `
const { readFileSync } = require('node:fs');
const allowed = () => /Cpus_allowed_list:\\s*(\\S+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1];
exports.handler = async (event) => {
  while (event.waitWhile !== undefined && allowed() === event.waitWhile)
    await new Promise((resolve) => setImmediate(resolve));
  return allowed();
};
`,
};

/** The CPU quotas of the server's environments (µs per 100 ms). */
function environmentQuotas(pid: number | undefined): number[] {
  const base = join(ownCgroup('cpu'), 'lamina');
  return readdirSync(base)
    .filter((name) => name.startsWith(`${pid}.`))
    .map((name) => Number(readFileSync(join(base, name, 'cpu.cfs_quota_us'), 'utf8')));
}

function mainThreadCpus(pid: number | undefined): string {
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
  return /Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1] ?? '';
}

describe('CPU co-location', { skip }, () => {
  // An invocation is let go after 20 ms by default; on a loaded machine even a short one can run
  // that long, so the test lets go only one that is still running after 2 s (the waiting one).
  const suite = useServer({ args: ['--cpu-colocation-release', '2000'] });

  const cpus = async (name: string, event: unknown = {}) =>
    (await invokeJson(suite.client, name, event)).body as string;

  test('lone invocations share the server CPU; a long one is let go', async () => {
    const pid = suite.server.child.pid;
    await deploy(suite.client, 'cpus', REPORTER, { memorySize: 128 });
    assert.equal(await cpus('cpus'), allCpus, 'the first lone invocation runs anywhere');
    const shared = await cpus('cpus');
    assert.match(shared, /^\d+$/, 'the second in a row runs on one CPU');
    assert.equal(mainThreadCpus(pid), shared, "with the server's event loop");
    assert.equal(await cpus('cpus'), shared);

    // It waits, alone, until it no longer runs on the shared CPU.
    assert.equal(await cpus('cpus', { waitWhile: shared }), allCpus);
    assert.equal(mainThreadCpus(pid), allCpus, 'the event loop is let go too');
    assert.equal(await cpus('cpus'), allCpus, 'back only after two lone invocations in a row');
    assert.equal(await cpus('cpus'), shared);
  });

  test('an environment with more than one CPU share is never confined to one CPU', async () => {
    const pid = suite.server.child.pid;
    await cpus('cpus');
    assert.match(await cpus('cpus'), /^\d+$/, 'the event loop is on one CPU');
    assert.match(mainThreadCpus(pid), /^\d+$/);
    // Started while the event loop is confined: its quota still counts every CPU.
    await deploy(suite.client, 'cpus-large', REPORTER, { memorySize: 3600 });
    for (let i = 0; i < 3; i += 1) assert.equal(await cpus('cpus-large'), allCpus);
    assert.equal(mainThreadCpus(pid), allCpus);
    const large = cpuQuotaFor(3600, availableParallelism());
    assert.ok(large > 100_000);
    assert.ok(environmentQuotas(pid).includes(large), `a quota of ${large} µs`);
  });
});

describe('CPU co-location turned off', { skip }, () => {
  const suite = useServer({ args: ['--cpu-colocation', 'off'] });

  test('every invocation runs anywhere and the event loop is not moved', async () => {
    const { client } = suite;
    await deploy(client, 'cpus-off', REPORTER, { memorySize: 128 });
    for (let i = 0; i < 3; i += 1)
      assert.equal((await invokeJson(client, 'cpus-off', {})).body, allCpus);
    assert.equal(mainThreadCpus(suite.server.child.pid), allCpus);
  });
});
