/**
 * A connection that never sends a request is not idle to Node, so it held a stopping server open
 * (found while testing finding 3: a frozen function's relayed API connections kept `lamina
 * server` from stopping). Silent connections, from outside or from a function, are closed when
 * the server stops.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { deploy, invokeJson } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import { startServer, tempDir } from '../helpers/server-process.js';

test('silent connections do not hold a stopping server', async () => {
  const dir = tempDir();
  const server = await startServer({ dataDir: `${dir.path}/data` });
  const client = lambdaClient(server.endpoint);
  const outside: Socket[] = [];
  try {
    // From inside: a function opens relayed API connections, says nothing, and is frozen.
    await deploy(client, 'silent', {
      'index.mjs': `
import net from 'node:net';
globalThis.kept = [];
export const handler = async () => {
  for (let i = 0; i < 8; i += 1) {
    const socket = net.connect('/run/lamina/api.sock');
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    globalThis.kept.push(socket);
  }
  return globalThis.kept.length;
};`,
    });
    assert.equal((await invokeJson(client, 'silent', {})).body, 8);
    // From outside: connections to the API port that never send a byte.
    const { hostname, port } = new URL(server.endpoint);
    for (let i = 0; i < 20; i += 1) {
      const socket = connect(Number(port), hostname);
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('connect', resolve));
      outside.push(socket);
    }
    client.destroy();
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      server.stop('SIGTERM'),
      new Promise((resolve) => (timer = setTimeout(() => resolve('still running'), 30_000))),
    ]);
    clearTimeout(timer);
    assert.equal(stopped, 0, 'the server stopped cleanly');
  } finally {
    for (const socket of outside) socket.destroy();
    await server.stop('SIGKILL');
    dir.remove();
  }
});
