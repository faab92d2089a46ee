/**
 * The v1 freezer's static key (Linux 6.1 and later): freezing the first cgroup turns it on, thawing
 * the last turns it off, and each switch patches kernel code (1 to 5 ms, all CPUs stopped). A
 * server keeps one empty freezer cgroup frozen while it runs, so that an environment frozen after
 * each invoke never pays that, and removes it when it stops. cgroup v2 has no such key: no pin.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { deploy, invokeJson } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import { environmentCgroupBases, serverCgroups } from '../helpers/server-cgroups.js';
import { startServer, tempDir } from '../helpers/server-process.js';

const V2 = existsSync('/sys/fs/cgroup/cgroup.controllers');

test('the server keeps an empty freezer cgroup frozen while it runs, and removes it on stop', async () => {
  assert.equal(process.getuid?.(), 0, 'this test needs root (cgroups)');
  const dir = tempDir();
  const server = await startServer({ dataDir: join(dir.path, 'data') });
  const client = lambdaClient(server.endpoint);
  const pid = server.child.pid as number;
  try {
    await deploy(client, 'frozen-between', {
      'index.mjs': 'export const handler = async () => "ok";',
    });
    assert.equal((await invokeJson(client, 'frozen-between', {})).body, 'ok');
    const bases = environmentCgroupBases(pid);
    const pins = serverCgroups(bases, pid).filter((cgroup) => cgroup.endsWith('.freezer-pin'));
    if (V2) {
      assert.deepEqual(pins, []);
    } else {
      assert.equal(pins.length, 1, `cgroups: ${serverCgroups(bases, pid).join(', ')}`);
      const pin = pins[0] as string;
      assert.equal(readFileSync(join(pin, 'freezer.state'), 'utf8').trim(), 'FROZEN');
      assert.equal(readFileSync(join(pin, 'cgroup.procs'), 'utf8'), '');
    }
    client.destroy();
    assert.equal(await server.stop(), 0);
    assert.deepEqual(serverCgroups(bases, pid), []);
  } finally {
    client.destroy();
    await server.stop();
    dir.remove();
  }
});
