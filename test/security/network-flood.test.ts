/**
 * A function that floods the network (UDP datagrams to a test host as fast as it can send, and
 * connection attempts to refused addresses) does not slow the server or other functions: a warm
 * victim's p99 stays under the attack tests' limit while it runs. Twice: through a root server's
 * namespaces and through an unprivileged server's user-mode network stack.
 */
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { after, before, describe, test } from 'node:test';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { prepareVictim, VICTIM_P99_LIMIT_MS, type Victim } from '../helpers/attack-harness.js';
import { deploy, invokeJson } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import {
  startServer,
  tempDir,
  UNPRIVILEGED_USER,
  type ServerProcess,
} from '../helpers/server-process.js';
import { startTestInternet, type TestInternet } from '../helpers/test-internet.js';

/** For `seconds`, sends 1,400-byte datagrams to `target` and opens connections to `refused`. */
const FLOOD = `
const dgram = require('node:dgram');
const net = require('node:net');
exports.handler = async ({ target, refused, seconds }) => {
  const socket = dgram.createSocket('udp4');
  const payload = Buffer.alloc(1400, 7);
  const end = Date.now() + seconds * 1000;
  let sent = 0;
  let attempts = 0;
  const attempt = () => new Promise((resolve) => {
    const c = net.connect({ host: refused, port: 22 });
    c.once('error', resolve);
    c.once('connect', () => { c.destroy(); resolve(); });
  });
  while (Date.now() < end) {
    await new Promise((resolve) => { let n = 64; for (let i = 0; i < 64; i += 1) socket.send(payload, 9, target, () => { sent += 1; if (--n === 0) resolve(); }); });
    await Promise.all(Array.from({ length: 4 }, attempt));
    attempts += 4;
  }
  socket.close();
  return { sent, attempts };
};`;

for (const [title, user] of [
  ['a function flooding the network', undefined],
  ["a function flooding an unprivileged server's user-mode network", UNPRIVILEGED_USER],
] as const)
  describe(title, () => {
    floodSuite(user);
  });

function floodSuite(user: typeof UNPRIVILEGED_USER | undefined): void {
  const dir = tempDir();
  let internet: TestInternet;
  let server: ServerProcess;
  let client: LambdaClient;
  let victim: Victim;

  before(async () => {
    internet = await startTestInternet();
    server = await startServer({ dataDir: dir.path, ...(user === undefined ? {} : { user }) });
    client = lambdaClient(server.endpoint);
    await deploy(client, 'net-flood', { 'index.js': FLOOD }, { timeout: 60, memorySize: 1769 });
    victim = await prepareVictim(client);
  });

  after(async () => {
    client.destroy();
    await server.stop();
    internet.stop();
    dir.remove();
  });

  test("does not slow the server or another function's invokes", async () => {
    const refused = Object.values(networkInterfaces())
      .flat()
      .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
    assert.ok(refused !== undefined);
    const { result, p99Ms } = await victim.during(() =>
      invokeJson(client, 'net-flood', { target: internet.address, refused, seconds: 5 }),
    );
    const body = result.body as { sent: number; attempts: number };
    assert.ok(body.sent > 10_000, `sent ${body.sent} datagrams`);
    assert.ok(body.attempts > 100, `${body.attempts} refused connections`);
    assert.ok(p99Ms < VICTIM_P99_LIMIT_MS, `victim p99 ${p99Ms.toFixed(1)} ms`);
  });
}
