/**
 * Finding 5: each environment had `pids.max` 1,024, but nothing capped the sum: about 32
 * environments could use every process id of a host whose `pid_max` is 32,768. Now the parent
 * cgroup of all environments has a cap (by default half the host's ids; `--environment-process-
 * limit` sets it), and a fork bomb meets it even below its own environment's 1,024.
 *
 * The server runs in a pids cgroup of this test's own, so its environments' parent is private to
 * it and a small cap disturbs no other server on the machine.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import {
  memoryReturns,
  prepareVictim,
  rssMiB,
  VICTIM_P99_LIMIT_MS,
} from '../helpers/attack-harness.js';
import { deploy, invokeJson } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import { poll } from '../helpers/poll.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { pidsCapFor } from '../../src/sandbox/host-pids.js';

const PIDS = '/sys/fs/cgroup/pids';
const LIMIT = 600;

const BOMB = `
const cp = require('child_process');
exports.handler = async () => {
  const children = [];
  let error = null;
  for (let i = 0; i < 1100 && error === null; i += 1) {
    try {
      const child = cp.spawn('/usr/bin/sleep', ['60'], { stdio: 'ignore' });
      await new Promise((resolve) => { child.once('spawn', resolve); child.once('error', (e) => { error = e.code; resolve(); }); });
      if (error === null) children.push(child);
    } catch (e) { error = e.code; }
  }
  const exited = children.map((child) => new Promise((resolve) => child.once('exit', resolve)));
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(exited);
  return { started: children.length, error };
};`;

/**
 * A pids cgroup of this test's own, removed (with what the server made in it) afterwards, once
 * the last of the server's processes has left it (its watchdog ends a moment after the server).
 */
function privatePidsCgroup(): { path: string; remove: () => Promise<void> } {
  const path = join(PIDS, `lamina-test-${process.pid}-${Date.now()}`);
  mkdirSync(path);
  const members = (dir: string) =>
    existsSync(dir) ? readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim() : '';
  return {
    path,
    remove: async () => {
      for (const dir of [join(path, 'lamina'), path]) {
        await poll(
          () => Promise.resolve(members(dir)),
          (procs) => procs === '',
          10_000,
          `${dir} empty`,
        );
        if (existsSync(dir)) rmdirSync(dir);
      }
    },
  };
}

describe('the processes of all environments together are capped', () => {
  assert.equal(process.getuid?.(), 0, 'this test needs root (cgroups)');
  assert.ok(existsSync(PIDS), 'this test needs the cgroup v1 pids hierarchy');
  const dir = tempDir();
  const cgroup = privatePidsCgroup();
  let server: ServerProcess;
  let client: LambdaClient;

  before(async () => {
    server = await startServer({
      dataDir: join(dir.path, 'data'),
      args: ['--environment-process-limit', String(LIMIT)],
      cgroup: cgroup.path,
    });
    client = lambdaClient(server.endpoint);
  });

  after(async () => {
    client.destroy();
    await server.stop();
    await cgroup.remove();
    dir.remove();
  });

  test('the parent cgroup carries the cap', () => {
    assert.equal(
      readFileSync(join(cgroup.path, 'lamina', 'pids.max'), 'utf8').trim(),
      String(LIMIT),
    );
  });

  test('a fork bomb stops at the host-wide cap, below its own 1,024, and others keep running', async () => {
    const pid = server.child.pid as number;
    await deploy(client, 'bomb', { 'index.js': BOMB }, { memorySize: 2048, timeout: 60 });
    const victim = await prepareVictim(client);
    const baselineMiB = rssMiB(pid);
    const { result, p99Ms } = await victim.during(() => invokeJson(client, 'bomb', {}));
    const report = result.body as { started: number; error: string | null };
    assert.equal(report.error, 'EAGAIN', JSON.stringify(report));
    assert.ok(report.started < LIMIT, JSON.stringify(report));
    assert.ok(p99Ms < VICTIM_P99_LIMIT_MS, `victim p99 ${p99Ms.toFixed(1)} ms`);
    await memoryReturns(pid, baselineMiB);
  });
});

describe('the default cap', () => {
  test('is half of the smaller of pid_max and threads-max, and never below one environment', () => {
    assert.equal(pidsCapFor(32_768, 192_735), 16_384);
    assert.equal(pidsCapFor(4_194_304, 96_000), 48_000);
    assert.equal(pidsCapFor(1_500, 100_000), 1_024);
  });

  test('is what a server writes without the option', async () => {
    const dir = tempDir();
    const cgroup = privatePidsCgroup();
    const server = await startServer({ dataDir: join(dir.path, 'data'), cgroup: cgroup.path });
    try {
      const kernel = (name: string) =>
        Number(readFileSync(join('/proc/sys/kernel', name), 'utf8').trim());
      assert.equal(
        Number(readFileSync(join(cgroup.path, 'lamina', 'pids.max'), 'utf8').trim()),
        pidsCapFor(kernel('pid_max'), kernel('threads-max')),
      );
    } finally {
      await server.stop();
      await cgroup.remove();
      dir.remove();
    }
  });
});
