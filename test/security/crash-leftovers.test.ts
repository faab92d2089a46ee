/**
 * Finding 11: a server killed with SIGKILL left its frozen environments alive (a frozen task
 * cannot act on SIGKILL, so `--die-with-parent` does nothing for it) until another server started
 * and swept them. Now the server's watchdog ends them: no process, cgroup or run folder of the
 * killed server remains, and no new server is needed for that. Should the watchdog die with it
 * (a whole cgroup killed at once), the next server's start removes what they left.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { deploy, invokeJson } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import { mountsGone, poll } from '../helpers/poll.js';
import {
  alive,
  cgroupPids,
  environmentCgroupBases,
  environmentCgroups,
  serverCgroups,
} from '../helpers/server-cgroups.js';
import { startServer, tempDir } from '../helpers/server-process.js';

const dir = tempDir();
after(() => dir.remove());

test('a server killed with SIGKILL takes its warm, busy and pre-started environments with it', async () => {
  assert.equal(process.getuid?.(), 0, 'this test needs root (cgroups and the freezer)');
  const server = await startServer({ dataDir: join(dir.path, 'data') });
  const pid = server.child.pid as number;
  const client = lambdaClient(server.endpoint);
  try {
    for (const name of ['warm-a', 'warm-b']) {
      await deploy(client, name, { 'index.mjs': 'export const handler = async () => "ok";' });
      await invokeJson(client, name, {});
    }
    await deploy(client, 'busy', {
      'index.mjs':
        'export const handler = async () => { await new Promise((r) => setTimeout(r, 60000)); };',
    });
    // Busy until the server dies: the call is never awaited to its end.
    void client
      .send(new InvokeCommand({ FunctionName: 'busy', InvocationType: 'Event' }))
      .catch(() => undefined);
    const bases = environmentCgroupBases(pid);
    assert.ok(bases.length > 0, 'no cgroup bases found');
    // Two warm environments frozen, one busy, and the pre-started ones.
    const frozen = () =>
      environmentCgroups(bases, pid).filter((cgroup) => {
        const state = join(cgroup, 'freezer.state');
        return existsSync(state) && readFileSync(state, 'utf8').trim() === 'FROZEN';
      });
    if (!existsSync('/sys/fs/cgroup/cgroup.controllers'))
      await poll(
        () => Promise.resolve(frozen().length),
        (n) => n >= 2,
        10_000,
        'frozen envs',
      );
    const environments = await poll(
      () => Promise.resolve(new Set(environmentCgroups(bases, pid).map((c) => c.split('/').pop()))),
      (ids) => ids.size >= 5,
      20_000,
      'warm, busy and pre-started environments',
    );
    const pids = cgroupPids(environmentCgroups(bases, pid));
    assert.ok(pids.length >= 5 * 3, `only ${pids.length} processes in ${environments.size} envs`);
    const runDirs = readdirSync(tmpdir()).filter((name) => name.startsWith(`lamina-${pid}-`));
    assert.equal(runDirs.length, 1);

    await server.stop('SIGKILL');

    await poll(
      () => Promise.resolve(pids.filter(alive)),
      (left) => left.length === 0,
      15_000,
      'every process of the killed server gone',
    );
    await poll(
      () => Promise.resolve(serverCgroups(bases, pid)),
      (left) => left.length === 0,
      5_000,
      'every cgroup of the killed server removed (its frozen freezer pin too)',
    );
    await poll(
      () => Promise.resolve(existsSync(join(tmpdir(), runDirs[0] as string))),
      (exists) => !exists,
      5_000,
      'the run folder removed',
    );
    // Its ephemeral file systems (/tmp of each environment, and the ready-made ones) are gone.
    const storage = join(dir.path, 'data', 'ephemeral', `${pid}.`);
    await mountsGone(storage, 10_000, 'every ephemeral file system of the killed server unmounted');
    await poll(
      () =>
        Promise.resolve(
          readdirSync(join(dir.path, 'data', 'ephemeral')).filter((name) =>
            name.startsWith(`${pid}.`),
          ),
        ),
      (left) => left.length === 0,
      10_000,
      'the images and mount points of the killed server removed',
    );
  } finally {
    client.destroy();
    await server.stop('SIGKILL');
  }
});

/** The server's watchdog: its child shell named `lamina-watchdog`. */
function watchdogOf(serverPid: number): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (parent === serverPid && command.includes('lamina-watchdog')) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return assert.fail(`no watchdog among the children of ${serverPid}`);
}

test('a server killed with its watchdog: the next server on its data directory removes what they left', async () => {
  assert.equal(process.getuid?.(), 0, 'this test needs root (cgroups and the freezer)');
  const dataDir = join(dir.path, 'data-2');
  const first = await startServer({ dataDir });
  const pid = first.child.pid as number;
  const client = lambdaClient(first.endpoint);
  let second: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    await deploy(client, 'warm', { 'index.mjs': 'export const handler = async () => "ok";' });
    await invokeJson(client, 'warm', {});
    const bases = environmentCgroupBases(pid);
    await poll(
      () => Promise.resolve(environmentCgroups(bases, pid).length),
      (n) => n >= 2,
      20_000,
      'a warm and a pre-started environment',
    );
    const pids = cgroupPids(environmentCgroups(bases, pid));
    const runDir = readdirSync(tmpdir()).find((name) => name.startsWith(`lamina-${pid}-`));
    assert.ok(runDir !== undefined, 'no run folder');
    const watchdog = watchdogOf(pid);
    assert.ok(readlinkSync(`/proc/${watchdog}/exe`).endsWith('sh'));

    process.kill(watchdog, 'SIGKILL');
    await first.stop('SIGKILL');
    // Nobody cleans up after these two: the run folder (a mount of its own) stays.
    assert.ok(existsSync(join(tmpdir(), runDir)), 'the run folder is left behind');

    second = await startServer({ dataDir });
    assert.equal(existsSync(join(tmpdir(), runDir)), false, 'the run folder is removed at start');
    await mountsGone(join(tmpdir(), runDir), 5_000, 'nothing mounted under the old run folder');
    await poll(
      () => Promise.resolve(pids.filter(alive)),
      (left) => left.length === 0,
      15_000,
      'every process of the killed server gone',
    );
    assert.deepEqual(serverCgroups(bases, pid), [], 'every cgroup of the killed server removed');
    const storage = join(dataDir, 'ephemeral', `${pid}.`);
    await mountsGone(storage, 5_000, 'every ephemeral file system of the killed server unmounted');
    assert.deepEqual(
      readdirSync(join(dataDir, 'ephemeral')).filter((name) => name.startsWith(`${pid}.`)),
      [],
    );
    // And the new server works on the same data directory.
    const again = lambdaClient(second.endpoint);
    try {
      assert.equal((await invokeJson(again, 'warm', {})).text, '"ok"');
    } finally {
      again.destroy();
    }
  } finally {
    client.destroy();
    await first.stop('SIGKILL');
    await second?.stop();
  }
});
