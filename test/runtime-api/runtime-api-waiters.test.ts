/**
 * Who waits for the next invocation: a waiter whose connection went away must not take an
 * invocation meant for the runtime waiting behind it (found by fuzzing: two stale waiters made a
 * fresh function's second invoke time out), and a pre-started runtime may do nothing but wait for
 * its assignment until it is given one.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, test } from 'node:test';
import {
  CHANNEL_PATH,
  CHANNEL_PROTOCOL,
  encodeFrame,
  FrameType,
} from '../../src/runtime-api/channel-frames.js';
import { ASSIGNMENT_PATH, RuntimeApiServer } from '../../src/runtime-api/runtime-api-server.js';
import { invocationEvent } from '../helpers/invocation-events.js';

let api: RuntimeApiServer;
let address: string;

interface Reply {
  readonly status: number;
  readonly body: string;
}

function call(method: string, path: string, body?: string): Promise<Reply> {
  const [host = '', port = ''] = address.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), method, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const NEXT = '/2018-06-01/runtime/invocation/next';
const nextRequest = `GET ${NEXT} HTTP/1.1\r\nHost: x\r\n\r\n`;

/** A raw connection: what it received, and when the server has closed it. */
async function raw(): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  const [host = '', port = ''] = address.split(':');
  const socket = connect(Number(port), host);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, received: () => text, closed };
}

/** A connection upgraded to the runtime channel (the 101 already read). */
async function channel(): Promise<Awaited<ReturnType<typeof raw>>> {
  const side = await raw();
  side.socket.write(
    `GET ${CHANNEL_PATH} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: ${CHANNEL_PROTOCOL}\r\n\r\n`,
  );
  await new Promise<void>((resolve) => {
    const check = () => {
      if (!side.received().includes('\r\n\r\n')) return;
      side.socket.off('data', check);
      resolve();
    };
    side.socket.on('data', check);
  });
  assert.match(side.received(), /^HTTP\/1\.1 101 /);
  return side;
}

/**
 * Ends a connection and waits until the server has closed its side: the server answers the end
 * with its own only once it has taken the connection down.
 */
async function hangUp(side: Awaited<ReturnType<typeof raw>>): Promise<void> {
  side.socket.end();
  await side.closed;
}

/**
 * A runtime that asks for work on a connection of its own; `delivered` resolves with the request
 * id it is handed. Once this resolves, the server has taken its request (a later request, on
 * another connection, has been answered).
 */
async function waitingRuntime(): Promise<{ delivered: Promise<string> }> {
  const side = await raw();
  side.socket.write(nextRequest);
  const delivered = new Promise<string>((resolve) => {
    side.socket.on('data', () => {
      const id = /lambda-runtime-aws-request-id: (\S+)/i.exec(side.received())?.[1];
      if (id !== undefined) resolve(id);
    });
  });
  // A barrier: answered on a connection opened after the runtime's request was sent.
  assert.equal(
    (await call('POST', '/2018-06-01/runtime/invocation/none/response', '{}')).status,
    400,
  );
  return { delivered };
}

describe('waiting for the next invocation', () => {
  beforeEach(async () => {
    api = new RuntimeApiServer();
    address = await api.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(async () => api.close());

  test(
    'a /next pipelined behind another on a closed connection takes nothing',
    { timeout: 10_000 },
    async () => {
      const stale = await raw();
      stale.socket.write(nextRequest + nextRequest);
      await api.runtimeWaiting();
      await hangUp(stale);
      const { delivered } = await waitingRuntime();
      void api.invoke(invocationEvent('to-the-live-runtime'));
      assert.equal(await delivered, 'to-the-live-runtime');
    },
  );

  test(
    'a NEXT repeated on a channel that then closes takes nothing',
    { timeout: 10_000 },
    async () => {
      const stale = await channel();
      const next = encodeFrame(FrameType.next, undefined);
      stale.socket.write(Buffer.concat([next, next]));
      await api.runtimeWaiting();
      await hangUp(stale);
      const { delivered } = await waitingRuntime();
      void api.invoke(invocationEvent('to-the-live-runtime'));
      assert.equal(await delivered, 'to-the-live-runtime');
    },
  );
});

describe('a pre-started runtime before its assignment', () => {
  beforeEach(async () => {
    api = new RuntimeApiServer();
    address = await api.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(async () => api.close());

  test('may only wait for its assignment; once assigned, it works as any runtime', async () => {
    api.expectAssignment();
    let asked = false;
    api.onFirstNext(() => (asked = true));
    const next = await call('GET', NEXT);
    assert.equal(next.status, 403);
    assert.match(next.body, /InvalidStateTransition/);
    assert.match(next.body, /not been assigned/);
    const initError = await call('POST', '/2018-06-01/runtime/init/error', '{}');
    assert.equal(initError.status, 403);
    // The channel opens (Lamina's runtimes open it first), but a NEXT on it breaks it.
    const early = await channel();
    early.socket.write(encodeFrame(FrameType.next, undefined));
    await early.closed;
    assert.equal(asked, false, 'nothing before the assignment counts as the end of init');

    const booted = new Promise<void>((resolve) => api.onAssignmentWait(resolve));
    const assignment = call('GET', ASSIGNMENT_PATH);
    await booted;
    assert.equal((await call('GET', ASSIGNMENT_PATH)).status, 403, 'one runtime waits, once');
    assert.equal(api.assign({ F: '1' }), true);
    assert.deepEqual(JSON.parse((await assignment).body), { environment: { F: '1' } });

    const answered = api.invoke(invocationEvent('first'));
    const work = await call('GET', NEXT);
    assert.equal(work.status, 200);
    assert.equal(asked, true);
    await call('POST', '/2018-06-01/runtime/invocation/first/response', '"ok"');
    const answer = await answered;
    assert.equal(answer.kind, 'response');
  });

  test('a runtime that was not pre-started cannot wait for an assignment', async () => {
    const refused = await call('GET', ASSIGNMENT_PATH);
    assert.equal(refused.status, 403);
    assert.match(refused.body, /not pre-started/);
    assert.equal(api.assign({}), false);
  });
});
