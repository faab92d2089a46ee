/** InboundTunnels: the platform's socket the jail connects out to, used once per connection. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InboundTunnels } from '../../src/runtime-api/inbound-tunnels.js';

/** What the jail's relay does: connect, read the port line, then echo what follows. */
function offer(path: string): Promise<{ port: string; socket: Socket }> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.on('error', () => undefined);
    let line = '';
    const onData = (chunk: Buffer) => {
      line += chunk.toString();
      const end = line.indexOf('\n');
      if (end < 0) return;
      socket.off('data', onData);
      const rest = line.slice(end + 1);
      if (rest !== '') socket.write(rest);
      socket.on('data', (more: Buffer) => socket.write(more));
      resolve({ port: line.slice(0, end), socket });
    };
    socket.on('data', onData);
  });
}

test('a delivery takes an offered connection, names its port, and talks through it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tunnels-'));
  const tunnels = new InboundTunnels({ perSocket: 8 });
  await tunnels.listen(join(dir, 'inbound.sock'));
  try {
    const jail = offer(join(dir, 'inbound.sock'));
    const socket = await tunnels.open(4242);
    const { port } = await jail;
    assert.equal(port, '4242');
    const echoed = new Promise<string>((resolve) =>
      socket.once('data', (d: Buffer) => resolve(d.toString())),
    );
    socket.write('hello');
    assert.equal(await echoed, 'hello');
    socket.destroy();
  } finally {
    await tunnels.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a delivery waits for the next offer; closing fails those still waiting', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tunnels-'));
  const tunnels = new InboundTunnels({ perSocket: 8 });
  await tunnels.listen(join(dir, 'inbound.sock'));
  const waiting = tunnels.open(1);
  const jail = offer(join(dir, 'inbound.sock'));
  const socket = await waiting;
  assert.equal((await jail).port, '1');
  socket.destroy();
  const abandoned = tunnels.open(2);
  await tunnels.close();
  await assert.rejects(abandoned, /closing/);
  rmSync(dir, { recursive: true, force: true });
});
