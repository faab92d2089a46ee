/**
 * CPU co-location on cgroup v1 (as root): invocations that come one at a time run with the
 * server's event loop on one CPU; a second invocation at once gives both every CPU back. The
 * function reports the CPUs it may run on; the server's main thread is read from /proc.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { deploy, invokeJson } from '../helpers/functions.js';
import { useServer } from '../helpers/server-suite.js';

const CPUSET = '/sys/fs/cgroup/cpuset/cpuset.effective_cpus';
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

function mainThreadCpus(pid: number | undefined): string {
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
  return /Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1] ?? '';
}

describe('CPU co-location', { skip }, () => {
  const suite = useServer();

  test('lone invocations share the server CPU; concurrent ones get every CPU back', async () => {
    const { client } = suite;
    const pid = suite.server.child.pid;
    await deploy(client, 'cpus', REPORTER, { memorySize: 128 });
    const cpus = async (event: unknown = {}) =>
      (await invokeJson(client, 'cpus', event)).body as string;
    assert.equal(await cpus(), allCpus, 'the first lone invocation runs anywhere');
    const shared = await cpus();
    assert.match(shared, /^\d+$/, 'the second in a row runs on one CPU');
    assert.equal(mainThreadCpus(pid), shared, "with the server's event loop");
    assert.equal(await cpus(), shared);

    // The first waits (on its own CPU) until a second invocation at once lets it go.
    const waiting = cpus({ waitWhile: shared });
    const other = cpus();
    assert.equal(await waiting, allCpus);
    assert.equal(await other, allCpus);
    assert.equal(mainThreadCpus(pid), allCpus, 'the event loop is let go too');
  });

  test('an environment with more than one CPU share is never confined to one CPU', async () => {
    const { client } = suite;
    await deploy(client, 'cpus-large', REPORTER, { memorySize: 3600 });
    for (let i = 0; i < 3; i += 1)
      assert.equal((await invokeJson(client, 'cpus-large', {})).body, allCpus);
    assert.equal(mainThreadCpus(suite.server.child.pid), allCpus);
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
