/**
 * An unprivileged server's user-mode network stacks (one slirp4netns per environment): as many
 * after COLD_STARTS cold starts as before, and none left once the server is killed.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { processAlive, userModeStacks } from '../helpers/function-network.js';
import { COLD_STARTS, coldStarts, EXITS, PRESTARTED } from '../helpers/cold-starts.js';
import { deploy, invokeJson } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import { poll } from '../helpers/poll.js';
import {
  startServer,
  tempDir,
  UNPRIVILEGED_USER,
  type ServerProcess,
} from '../helpers/server-process.js';

describe('an unprivileged server (user-mode networking)', () => {
  const dir = tempDir();
  let server: ServerProcess | undefined;

  after(async () => {
    await server?.stop();
    dir.remove();
  });

  test(`runs one network stack per environment, through ${COLD_STARTS} cold starts and a SIGKILL`, async () => {
    server = await startServer({
      dataDir: dir.path,
      user: UNPRIVILEGED_USER,
      args: ['--prestart-pool-size', String(PRESTARTED)],
    });
    const client = lambdaClient(server.endpoint);
    await deploy(client, 'exits', { 'index.js': EXITS }, { memorySize: 128 });
    assert.equal((await invokeJson(client, 'exits', {})).body, 'warm');
    const pid = server.child.pid;
    const atRest = (stacks: readonly number[]) => stacks.length === 1 + PRESTARTED;
    await poll(() => Promise.resolve(userModeStacks(pid)), atRest, 60_000, 'stacks before');
    await coldStarts(client, COLD_STARTS);
    assert.equal((await invokeJson(client, 'exits', {})).body, 'warm');
    const stacks = await poll(
      () => Promise.resolve(userModeStacks(pid)),
      atRest,
      60_000,
      'stacks after',
    );
    client.destroy();
    // Their exit descriptor closes with the server: nothing is left to the next start.
    await server.stop('SIGKILL');
    server = undefined;
    await poll(
      () => Promise.resolve(stacks.filter(processAlive)),
      (alive) => alive.length === 0,
      10_000,
      "a killed server's stacks ending",
    );
  });
});
