import assert from 'node:assert/strict';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { ConnectionBudget, jailDescriptorShare } from '../../src/core/connection-budget.js';
import { guardConnections } from '../../src/runtime-api/connection-guard.js';

test('the budget gives out descriptors up to its limit and takes them back', () => {
  const budget = new ConnectionBudget(5);
  assert.ok(budget.tryAcquire(3));
  assert.ok(!budget.tryAcquire(3));
  assert.equal(budget.used, 3);
  assert.ok(budget.tryAcquire(2));
  budget.release(3);
  assert.equal(budget.used, 2);
  budget.release(10);
  assert.equal(budget.used, 0);
});

test('the jails get half of what is left after the reserve, and a few hundred at least', () => {
  assert.equal(jailDescriptorShare(20_000), 9488);
  assert.equal(jailDescriptorShare(1024), 256);
  assert.equal(jailDescriptorShare(1_048_576), 523_776);
});

/** Opens `count` connections and resolves with how many the server kept open. */
async function openMany(port: number, count: number): Promise<Socket[]> {
  const sockets = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Socket>((resolve) => {
          const socket = connect(port, '127.0.0.1');
          socket.on('error', () => undefined);
          socket.once('connect', () => resolve(socket));
        }),
    ),
  );
  return sockets;
}

test('a guarded server keeps at most its cap open, and charges the shared budget', async () => {
  const budget = new ConnectionBudget(100);
  const server = createServer();
  guardConnections(server, { perSocket: 3, budget, descriptorsEach: 2 });
  const kept: Socket[] = [];
  let closedByServer = 0;
  let allSeen: () => void = () => undefined;
  const seen = new Promise<void>((resolve) => (allSeen = resolve));
  const counted = (): void => {
    if (kept.length + closedByServer === 10) allSeen();
  };
  server.on('connection', (socket) => {
    if (socket.destroyed) closedByServer += 1;
    else kept.push(socket);
    counted();
  });
  // Over the cap, the descriptor is closed before any Socket is built for it.
  server.on('drop', () => {
    closedByServer += 1;
    counted();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const clients = await openMany(port, 10);
  await seen;
  assert.equal(kept.length, 3);
  assert.equal(budget.used, 6);
  // Closing kept connections gives their room back.
  const closed = kept.map((socket) => new Promise((resolve) => socket.once('close', resolve)));
  for (const socket of kept) socket.destroy();
  await Promise.all(closed);
  assert.equal(budget.used, 0);
  for (const socket of clients) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
});

test('an exhausted budget refuses connections even under the per-socket cap', async () => {
  const budget = new ConnectionBudget(1);
  assert.ok(budget.tryAcquire());
  const server = createServer();
  guardConnections(server, { perSocket: 10, budget });
  let destroyed = 0;
  const seen = new Promise<void>((resolve) =>
    server.on('connection', (socket) => {
      if (socket.destroyed) destroyed += 1;
      resolve();
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const [client] = await openMany((server.address() as { port: number }).port, 1);
  await seen;
  assert.equal(destroyed, 1);
  client?.destroy();
  await new Promise((resolve) => server.close(resolve));
});

test('every connection that ends is reported: closed, refused by the budget, or dropped', async () => {
  const budget = new ConnectionBudget(2);
  const server = createServer();
  let ended = 0;
  let read = 0;
  let allEnded: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (allEnded = resolve));
  guardConnections(server, {
    perSocket: 3,
    budget,
    onEnded: (bytesRead) => {
      ended += 1;
      read += bytesRead;
      if (ended === 10) allEnded();
    },
  });
  // The two connections the budget keeps each read 5 bytes before the clients go.
  let arrived = 0;
  let bothArrived: () => void = () => undefined;
  const bothRead = new Promise<void>((resolve) => (bothArrived = resolve));
  server.on('connection', (socket) => {
    if (socket.destroyed) return;
    socket.once('data', () => {
      arrived += 1;
      if (arrived === 2) bothArrived();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // 3 accepted (1 of them refused by the budget of 2), 7 dropped over the cap; then all closed.
  const clients = await openMany((server.address() as { port: number }).port, 10);
  for (const socket of clients) if (!socket.destroyed) socket.write('hello');
  await bothRead;
  for (const socket of clients) socket.destroy();
  await done;
  assert.equal(ended, 10);
  // The kept connections' bytes are counted (a refused one may have read its bytes first).
  assert.ok(read >= 10 && read <= 50, `read ${read}`);
  assert.equal(budget.used, 0);
  await new Promise((resolve) => server.close(resolve));
});
