/**
 * The function network's lifecycle: COLD_STARTS cold starts and teardowns leave the host with as many
 * namespaces, interfaces and rules as before, and what a server killed with SIGKILL left (its
 * namespaces and its table) is removed when the next server starts on its data directory. (An
 * unprivileged server's user-mode stacks: user-mode-network-lifecycle.test.ts; each file has
 * the runner's 300 s of its own.)
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, statSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { COLD_STARTS, coldStarts, EXITS, PRESTARTED } from '../helpers/cold-starts.js';
import { networkOf } from '../helpers/function-network.js';
import { deploy, invokeJson } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import { poll } from '../helpers/poll.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';

describe(`${COLD_STARTS} cold starts and teardowns`, () => {
  const dir = tempDir();
  let server: ServerProcess;
  let client: LambdaClient;

  before(async () => {
    server = await startServer({
      dataDir: dir.path,
      args: ['--prestart-pool-size', String(PRESTARTED)],
    });
    client = lambdaClient(server.endpoint);
    await deploy(client, 'exits', { 'index.js': EXITS }, { memorySize: 128 });
  });

  after(async () => {
    client.destroy();
    await server.stop();
    dir.remove();
  });

  test('leave as many namespaces, interfaces and rules as before', async () => {
    assert.equal((await invokeJson(client, 'exits', {})).body, 'warm');
    // At rest: the warm environment and a full pre-started pool, each with its namespace.
    const atRest = (state: ReturnType<typeof networkOf>) =>
      state.namespaces.length === 1 + PRESTARTED && state.links === 1 + PRESTARTED;
    const start = await poll(
      () => Promise.resolve(networkOf(dir.path)),
      atRest,
      60_000,
      'the network at rest before',
    );
    assert.notEqual(start.rules, '');
    await coldStarts(client, COLD_STARTS);
    assert.equal((await invokeJson(client, 'exits', {})).body, 'warm');
    const end = await poll(
      () => Promise.resolve(networkOf(dir.path)),
      atRest,
      60_000,
      'the network at rest after',
    );
    assert.equal(end.rules, start.rules);
  });
});

describe('a server killed with SIGKILL', () => {
  const dir = tempDir();
  let server: ServerProcess | undefined;

  after(async () => {
    await server?.stop();
    dir.remove();
  });

  test('leaves its network to the next start on its data directory, which removes it', async () => {
    const first = await startServer({ dataDir: dir.path });
    const client = lambdaClient(first.endpoint);
    await deploy(client, 'warm', { 'index.js': EXITS }, { memorySize: 128 });
    assert.equal((await invokeJson(client, 'warm', {})).body, 'warm');
    client.destroy();
    // A namespace is known by its inode: the next server may give a new one the same name.
    const inodes = (names: readonly string[]) =>
      names.map((name) => statSync(`/run/netns/${name}`).ino);
    const running = inodes(networkOf(dir.path).namespaces);
    assert.ok(running.length > 0);
    await first.stop('SIGKILL');
    // A pre-started sandbox may have been getting its namespace at the moment of the kill.
    const leftNames = networkOf(dir.path).namespaces;
    const left = inodes(leftNames);
    for (const inode of running) assert.ok(left.includes(inode), 'a killed server cannot clean up');
    // Held open, the namespaces left keep their inode numbers taken: the kernel reuses a freed
    // one for the next namespace, which the new server's own could otherwise get.
    const held = leftNames.map((name) => openSync(`/run/netns/${name}`, 'r'));
    try {
      server = await startServer({ dataDir: dir.path });
      const now = networkOf(dir.path);
      assert.deepEqual(
        inodes(now.namespaces).filter((inode) => left.includes(inode)),
        [],
        'what the killed server left is gone',
      );
    } finally {
      for (const fd of held) closeSync(fd);
    }
    const now = networkOf(dir.path);
    assert.notEqual(now.rules, '', 'the new server has its table');
    await server.stop();
    server = undefined;
    assert.deepEqual(networkOf(dir.path), { namespaces: [], links: 0, rules: '' });
  });
});
