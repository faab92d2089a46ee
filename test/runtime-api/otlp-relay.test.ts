/**
 * The in-environment OTLP endpoint and its forwarder, with real sockets: OtlpReceivers on unix
 * sockets (as environments have them) posting through one OtlpForwarder to a real HTTP collector
 * in the test, which can answer, refuse or hang.
 */
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, afterEach, before, describe, test } from 'node:test';
import { OtlpForwarder, type OtlpForwarderOptions } from '../../src/runtime-api/otlp-forwarder.js';
import { DROPPED_WARNING, OtlpReceiver } from '../../src/runtime-api/otlp-receiver.js';
import { OtlpCollector } from '../helpers/otlp-collector.js';
import { poll } from '../helpers/poll.js';
import { tempDir } from '../helpers/server-process.js';

interface Reply {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

/** One request to a receiver's socket (chunked when `body` is an array of chunks). */
function post(
  socketPath: string,
  path: string,
  body: Buffer | readonly Buffer[],
  headers: Record<string, string> = { 'Content-Type': 'application/json' },
  method = 'POST',
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    if (Buffer.isBuffer(body)) req.end(body);
    else {
      for (const chunk of body) req.write(chunk);
      req.end();
    }
  });
}

const SPANS = Buffer.from(JSON.stringify({ resourceSpans: [] }));

describe('the OTLP endpoint of an environment', () => {
  const dir = tempDir();
  const collector = new OtlpCollector();
  let base = '';
  let forwarder: OtlpForwarder;
  const receivers: OtlpReceiver[] = [];

  before(async () => {
    base = await collector.start();
  });
  after(async () => {
    await collector.stop();
    dir.remove();
  });
  afterEach(async () => {
    forwarder.close();
    for (const receiver of receivers.splice(0)) await receiver.close();
    collector.release();
    collector.requests.length = 0;
  });

  /** A forwarder to the test collector and a receiver for each environment id given. */
  async function open(
    ids: readonly string[],
    options: Partial<OtlpForwarderOptions> = {},
  ): Promise<string[]> {
    forwarder = new OtlpForwarder({ collector: base, ...options });
    const sockets: string[] = [];
    for (const id of ids) {
      const receiver = new OtlpReceiver({ environmentId: id, intake: forwarder });
      const socket = join(dir.path, `${id}-${receivers.length}-${Date.now()}.sock`);
      await receiver.listen(socket);
      receivers.push(receiver);
      sockets.push(socket);
    }
    return sockets;
  }

  const settled = (what: string, ready: (c: ReturnType<OtlpForwarder['counts']>) => boolean) =>
    poll(() => Promise.resolve(forwarder.counts()), ready, 10_000, what);

  test('a JSON export is answered at once and forwarded to the same signal', async () => {
    const [socket = ''] = await open(['env-a']);
    const reply = await post(socket, '/v1/traces', SPANS);
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(reply.body.toString()), {});
    await collector.until(() => collector.requests[0]);
    const [sent] = collector.requests;
    assert.equal(sent?.path, '/v1/traces');
    assert.equal(sent?.headers['content-type'], 'application/json');
    assert.deepEqual(sent?.body, SPANS);
    const counts = await settled('forwarded', (c) => c.forwarded === 1);
    assert.deepEqual(counts, {
      received: 1,
      forwarded: 1,
      dropped: { full: 0, tooLarge: 0, rejected: 0, failed: 0 },
      queuedBodies: 0,
      heldBytes: 0,
    });
  });

  test('protobuf, gzipped and chunked, for every signal; nothing of the request but the body and its type', async () => {
    const [socket = ''] = await open(['env-a']);
    const body = gzipSync(Buffer.from([0x0a, 0x00]));
    for (const signal of ['metrics', 'logs', 'traces']) {
      const reply = await post(socket, `/v1/${signal}`, [body.subarray(0, 5), body.subarray(5)], {
        'Content-Type': 'application/x-protobuf',
        'Content-Encoding': 'gzip',
        Authorization: 'Bearer stolen',
        'X-Forwarded-Host': 'elsewhere',
      });
      assert.equal(reply.status, 200);
      assert.equal(reply.headers['content-type'], 'application/x-protobuf');
      assert.equal(reply.body.length, 0);
    }
    await collector.until(() => collector.requests[2]);
    assert.deepEqual(collector.requests.map((r) => r.path).sort(), [
      '/v1/logs',
      '/v1/metrics',
      '/v1/traces',
    ]);
    for (const sent of collector.requests) {
      assert.deepEqual(sent.body, body);
      assert.equal(sent.headers['content-encoding'], 'gzip');
      assert.equal(sent.headers['authorization'], undefined);
      assert.equal(sent.headers['x-forwarded-host'], undefined);
      assert.equal(sent.headers['host'], base.slice('http://'.length));
    }
  });

  test('other paths, methods, media types and encodings are refused', async () => {
    const [socket = ''] = await open(['env-a']);
    const json = { 'Content-Type': 'application/json' };
    assert.equal((await post(socket, '/v1/traces', SPANS, json, 'PUT')).status, 405);
    for (const path of ['/', '/v1/profiles', '/v1/traces?x=1', '/v1/traces/', '/../v1/traces'])
      assert.equal((await post(socket, path, SPANS)).status, 404, path);
    assert.equal(
      (await post(socket, '/v1/traces', SPANS, { 'Content-Type': 'text/plain' })).status,
      415,
    );
    assert.equal(
      (await post(socket, '/v1/traces', SPANS, { ...json, 'Content-Encoding': 'br' })).status,
      415,
    );
    assert.equal(collector.requests.length, 0);
    assert.equal(forwarder.counts().received, 0);
  });

  test('bodies over 4 MiB are refused, declared or not, and nothing is held', async () => {
    const [socket = ''] = await open(['env-a']);
    const big = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
    assert.equal((await post(socket, '/v1/traces', big)).status, 413);
    const chunks = Array.from({ length: 5 }, () => Buffer.alloc(1024 * 1024, 0x20));
    assert.equal((await post(socket, '/v1/traces', chunks)).status, 413);
    const counts = forwarder.counts();
    assert.equal(counts.dropped.tooLarge, 2);
    assert.equal(counts.heldBytes, 0);
    assert.equal(collector.requests.length, 0);
  });

  test('a hanging collector: bodies past the queue are dropped, counted and answered at once', async () => {
    collector.behaviour = 'hang';
    const [socket = ''] = await open(['env-a'], {
      maxQueued: 2,
      concurrency: 1,
      timeoutMs: 60_000,
    });
    const replies: Reply[] = [];
    for (let i = 0; i < 5; i += 1) replies.push(await post(socket, '/v1/traces', SPANS));
    assert.deepEqual(
      replies.map((r) => r.status),
      [200, 200, 200, 200, 200],
    );
    const warnings = replies.map(
      (r) =>
        (JSON.parse(r.body.toString()) as { partialSuccess?: { errorMessage: string } })
          .partialSuccess?.errorMessage,
    );
    assert.deepEqual(warnings, [
      undefined,
      undefined,
      DROPPED_WARNING,
      DROPPED_WARNING,
      DROPPED_WARNING,
    ]);
    const counts = forwarder.counts();
    assert.equal(counts.received, 2);
    assert.equal(counts.dropped.full, 3);
    assert.equal(counts.queuedBodies, 2);
    assert.equal(counts.heldBytes, 2 * SPANS.length);
    // Stopping lets go of what waits.
    forwarder.close();
    assert.equal(forwarder.counts().heldBytes, 0);
    assert.equal(forwarder.counts().queuedBodies, 0);
  });

  test('a collector that does not answer in time: the body is dropped as failed', async () => {
    collector.behaviour = 'hang';
    const [socket = ''] = await open(['env-a'], { timeoutMs: 100 });
    assert.equal((await post(socket, '/v1/logs', SPANS)).status, 200);
    const counts = await settled('failed', (c) => c.dropped.failed === 1);
    assert.equal(counts.forwarded, 0);
    assert.equal(counts.heldBytes, 0);
  });

  test('refusals and failures of the collector are counted apart', async () => {
    const [socket = ''] = await open(['env-a']);
    collector.behaviour = { status: 400 };
    await post(socket, '/v1/traces', SPANS);
    await settled('rejected', (c) => c.dropped.rejected === 1);
    collector.behaviour = { status: 503 };
    await post(socket, '/v1/traces', SPANS);
    await settled('failed', (c) => c.dropped.failed === 1);
    collector.behaviour = { status: 429 };
    await post(socket, '/v1/traces', SPANS);
    const counts = await settled('failed twice', (c) => c.dropped.failed === 2);
    assert.equal(counts.forwarded, 0);
    assert.equal(counts.received, 3);
  });

  test('an unreachable collector is a failure, not an error', async () => {
    forwarder = new OtlpForwarder({ collector: 'http://127.0.0.1:1' });
    const receiver = new OtlpReceiver({ environmentId: 'env-a', intake: forwarder });
    const socket = join(dir.path, `unreachable-${Date.now()}.sock`);
    await receiver.listen(socket);
    receivers.push(receiver);
    assert.equal((await post(socket, '/v1/traces', SPANS)).status, 200);
    await settled('failed', (c) => c.dropped.failed === 1);
  });

  test('one environment’s room is its own: another is still served', async () => {
    collector.behaviour = 'hang';
    const [a = '', b = ''] = await open(['env-a', 'env-b'], {
      maxHeldBytesPerEnvironment: 3 * SPANS.length,
      timeoutMs: 60_000,
    });
    const fromA: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const reply = await post(a, '/v1/traces', SPANS);
      fromA.push(reply.body.toString());
    }
    assert.deepEqual(
      fromA.map((body) => body === '{}'),
      [true, true, true, false],
    );
    assert.equal((await post(b, '/v1/traces', SPANS)).body.toString(), '{}');
    assert.equal(forwarder.counts().dropped.full, 1);
  });

  test('a body cut off before its end is dropped and its room given back', async () => {
    const [socket = ''] = await open(['env-a']);
    await new Promise<void>((resolve) => {
      const req = request({
        socketPath: socket,
        path: '/v1/traces',
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Content-Length': '1000' },
        agent: false,
      });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(500, 0x20), () => {
        // What arrived is held while it is read (not what was declared)…
        void poll(
          () => Promise.resolve(forwarder.counts().heldBytes),
          (held) => held === 500,
          10_000,
          'held',
        ).then(() => req.destroy());
      });
    });
    await settled('given back', (c) => c.heldBytes === 0);
    assert.equal(forwarder.counts().received, 0);
    assert.equal(collector.requests.length, 0);
  });

  /** Opens a request declaring `declared` bytes and sends `first` of them; ends when it closes. */
  function hoard(socketPath: string, declared: number, first: Buffer) {
    let status: number | undefined;
    const req = request({
      socketPath,
      path: '/v1/traces',
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': String(declared) },
      agent: false,
    });
    const closed = new Promise<number | undefined>((resolve) => {
      req.on('response', (res) => {
        status = res.statusCode;
        res.resume();
      });
      req.on('error', () => undefined);
      req.on('close', () => resolve(status));
    });
    req.write(first);
    return { req, closed };
  }

  test('bodies announced and trickling hold only what arrived: other environments are served', async () => {
    collector.behaviour = 'hang';
    // Eight environments each announce two bodies of 4 MiB: together the server's 64 MiB.
    const ids = Array.from({ length: 9 }, (_, i) => `env-${i}`);
    const sockets = await open(ids, { timeoutMs: 60_000 });
    const hoarders = sockets
      .slice(0, 8)
      .flatMap((socket) => [0, 1].map(() => hoard(socket, 4 * 1024 * 1024, Buffer.from('{'))));
    try {
      await settled('each announced body read', (c) => c.heldBytes === hoarders.length);
      const reply = await post(sockets[8] ?? '', '/v1/traces', SPANS);
      assert.equal(reply.body.toString(), '{}');
      assert.equal(forwarder.counts().dropped.full, 0);
    } finally {
      for (const { req } of hoarders) req.destroy();
    }
  });

  test('a body still arriving at its deadline is answered 408 and its room given back', async () => {
    forwarder = new OtlpForwarder({ collector: base });
    const receiver = new OtlpReceiver({
      environmentId: 'env-a',
      intake: forwarder,
      bodyTimeoutMs: 200,
    });
    const socket = join(dir.path, `slow-${Date.now()}.sock`);
    await receiver.listen(socket);
    receivers.push(receiver);
    const { closed } = hoard(socket, 1000, Buffer.alloc(10, 0x20));
    assert.equal(await closed, 408);
    const counts = await settled('given back', (c) => c.heldBytes === 0);
    assert.equal(counts.received, 0);
    assert.equal(collector.requests.length, 0);
  });
});
