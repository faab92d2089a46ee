/**
 * Finding 3: a function exhausted the server's file descriptors. 25,000 connections to its
 * `runtime.sock`, held while the environment was frozen, took the server to its limit: cold starts
 * failed with EMFILE and API connections were dropped. Now every socket a jail can reach caps the
 * connections one environment holds (the rest are closed as they are accepted), all of them are
 * charged to a server-wide budget that leaves a reserve for the server's own work, and the server
 * survives failing to accept.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ListFunctionsCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  memoryReturns,
  prepareVictim,
  rssMiB,
  VICTIM_P99_LIMIT_MS,
  type Victim,
} from '../helpers/attack-harness.js';
import { deploy, invokeJson } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import { poll } from '../helpers/poll.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';

/** Opens `count` connections to a unix socket, keeping those that stay open (global: kept frozen). */
const HOLDER = `
import net from 'node:net';
globalThis.held ??= [];
function open(path) {
  return new Promise((resolve) => {
    const socket = net.connect(path);
    socket.once('connect', () => resolve(socket));
    socket.once('error', () => resolve(undefined));
  });
}
export const handler = async ({ count }) => {
  const report = {};
  for (const name of ['runtime.sock', 'api.sock', 'inbound.sock']) {
    let connected = 0;
    for (let i = 0; i < count; i += 1) {
      const socket = await open('/run/lamina/' + name);
      if (socket === undefined) continue;
      connected += 1;
      socket.on('error', () => undefined);
      globalThis.held.push(socket);
    }
    report[name] = connected;
  }
  report.stillOpen = globalThis.held.filter((s) => !s.destroyed).length;
  return report;
};
`;

function descriptors(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

describe('connections a jail holds are capped per environment and server-wide', () => {
  const dir = tempDir();
  let server: ServerProcess;
  let client: LambdaClient;
  let victim: Victim;
  let pid: number;

  before(async () => {
    server = await startServer({ dataDir: `${dir.path}/data` });
    pid = server.child.pid as number;
    client = lambdaClient(server.endpoint);
    await deploy(client, 'holder', { 'index.mjs': HOLDER }, { timeout: 120 });
    victim = await prepareVictim(client);
  });

  after(async () => {
    client.destroy();
    await server.stop();
    dir.remove();
  });

  test('25,000 connections to each socket leave the server a bounded number of descriptors', async () => {
    const baselineMiB = rssMiB(pid);
    const baselineFds = descriptors(pid);
    const { result, p99Ms } = await victim.during(() =>
      invokeJson(client, 'holder', { count: 25_000 }),
    );
    assert.ok(p99Ms < VICTIM_P99_LIMIT_MS, `victim p99 ${p99Ms.toFixed(1)} ms`);
    const report = result.body as Record<string, number>;
    assert.ok((report['runtime.sock'] ?? 0) > 0, JSON.stringify(report));
    // The environment is frozen now, holding what it kept. The server holds at most the caps
    // (32 runtime, 16 relayed API connections of 3 descriptors, 8 inbound) above where it was,
    // plus what refilling the pre-started pool takes (about a dozen per sandbox).
    const bound = baselineFds + 32 + 3 * 16 + 8 + 60;
    await poll(
      () => Promise.resolve(descriptors(pid)),
      (fds) => fds <= bound,
      20_000,
      `server descriptors (${baselineFds} before) back within ${bound}`,
    );

    // A cold start (a new function) and the API still work while the connections are held.
    await deploy(client, 'fresh', { 'index.mjs': 'export const handler = async () => "fresh";' });
    assert.equal((await invokeJson(client, 'fresh', {})).body, 'fresh');
    await client.send(new ListFunctionsCommand({}));
    const afterMiB = rssMiB(pid);
    const endMiB = await memoryReturns(pid, baselineMiB);
    console.log(
      `victim p99 ${p99Ms.toFixed(1)} ms; server RSS ${baselineMiB.toFixed(0)} MiB at start, ` +
        `${afterMiB.toFixed(0)} after the attack, ${endMiB.toFixed(0)} at the end`,
    );
  });
});
