/**
 * Lamina's runtime channel, driven with raw frames as a runtime would: the upgrade, NEXT → INVOKE,
 * RESPONSE and ERROR settling the invocation (shared state with the HTTP transport), answers that
 * are refused, oversized and malformed frames, and closing.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { RuntimeAnswer } from '../../src/core/runtime-protocol.js';
import {
  CHANNEL_PATH,
  CHANNEL_PROTOCOL,
  encodeFrame,
  FrameReader,
  FrameType,
  type Frame,
} from '../../src/runtime-api/channel-frames.js';
import { RuntimeApiServer } from '../../src/runtime-api/runtime-api-server.js';
import { invocationEvent } from '../helpers/invocation-events.js';

let api: RuntimeApiServer;
let address: string;

const event = invocationEvent;

/** One runtime's side of a channel: frames in, frames out. */
class RuntimeSide {
  readonly frames: Frame[] = [];
  readonly closed: Promise<void>;
  readonly #socket: Socket;
  #waiters: Array<() => void> = [];

  constructor(socket: Socket, head: Buffer) {
    this.#socket = socket;
    const reader = new FrameReader(
      {
        frame: (frame) => {
          this.frames.push(frame);
          for (const wake of this.#waiters.splice(0)) wake();
        },
        oversized: () => assert.fail('the platform sent an oversized frame'),
        malformed: (reason) => assert.fail(reason),
      },
      64 * 1024 * 1024,
    );
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    if (head.length > 0) reader.push(head);
  }

  static open(path = CHANNEL_PATH, protocol = CHANNEL_PROTOCOL): Promise<RuntimeSide | number> {
    const [host = '', port = ''] = address.split(':');
    return new Promise((resolve, reject) => {
      const req = request({
        host,
        port: Number(port),
        path,
        headers: { Connection: 'Upgrade', Upgrade: protocol },
      });
      req.on('upgrade', (_res, socket: Socket, head: Buffer) =>
        resolve(new RuntimeSide(socket, head)),
      );
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
  }

  send(bytes: Buffer): void {
    this.#socket.write(bytes);
  }

  /** Resolves with the `count`th frame received (1-based). */
  async frame(count: number): Promise<Frame> {
    while (this.frames.length < count) await new Promise<void>((r) => this.#waiters.push(r));
    return this.frames[count - 1] as Frame;
  }
}

async function channel(): Promise<RuntimeSide> {
  const side = await RuntimeSide.open();
  if (typeof side === 'number') assert.fail(`the upgrade was refused with ${side}`);
  return side;
}

const next = () => encodeFrame(FrameType.next, undefined);
const response = (id: string, body: string, contentType?: string) =>
  encodeFrame(FrameType.response, { id, contentType }, Buffer.from(body));
const error = (id: string, body: string, errorType?: string) =>
  encodeFrame(FrameType.error, { id, errorType }, Buffer.from(body));

function text(answer: RuntimeAnswer): string {
  if (answer.kind !== 'response' && answer.kind !== 'error') assert.fail(answer.kind);
  return answer.body.toString();
}

describe('runtime channel', () => {
  beforeEach(async () => {
    api = new RuntimeApiServer({ maxResponseBytes: 1000 });
    address = await api.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(async () => api.close());

  test('NEXT receives the invocation as INVOKE with /next header values; RESPONSE answers it', async () => {
    const runtime = await channel();
    let firstNext = false;
    api.onFirstNext(() => (firstNext = true));
    assert.equal(api.openChannels, 1);
    runtime.send(next());
    await api.runtimeWaiting();
    assert.equal(firstNext, true);

    const answered = api.invoke(event('req-1', '{"k":"é"}'));
    const invoke = await runtime.frame(1);
    assert.equal(invoke.type, FrameType.invoke);
    assert.equal(invoke.body.toString(), '{"k":"é"}');
    assert.deepEqual(invoke.meta, {
      id: 'req-1',
      deadline: 1_800_000_000_000,
      arn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
      trace: 'Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0',
      // As the header carries it: the UTF-8 bytes, one character each.
      clientContext: Buffer.from('{"custom":{"name":"日本"}}').toString('latin1'),
    });

    // The answer and the next NEXT in one write, as the runtime client sends them.
    runtime.send(Buffer.concat([response('req-1', '"ok"'), next()]));
    const answer = await answered;
    assert.deepEqual(answer, {
      kind: 'response',
      body: Buffer.from('"ok"'),
      contentType: 'application/json',
    });
    await api.runtimeWaiting();
  });

  test('ERROR answers with the error document, or one built from the type when it is empty', async () => {
    const runtime = await channel();
    runtime.send(next());
    const first = api.invoke(event('req-1'));
    await runtime.frame(1);
    runtime.send(Buffer.concat([error('req-1', '{"errorType":"E","errorMessage":"m"}'), next()]));
    assert.equal(text(await first), '{"errorType":"E","errorMessage":"m"}');

    const second = api.invoke(event('req-2'));
    await runtime.frame(2);
    runtime.send(error('req-2', '', 'Runtime.Custom'));
    const answer = await second;
    assert.equal(answer.kind, 'error');
    assert.deepEqual(JSON.parse(text(answer)), {
      errorMessage: 'Unhandled Runtime.Custom',
      errorType: 'Runtime.Custom',
    });
  });

  test('answers for another id, or a second answer, are dropped; the right one still counts', async () => {
    const runtime = await channel();
    runtime.send(next());
    const answered = api.invoke(event('req-1'));
    await runtime.frame(1);
    runtime.send(response('someone-else', '"wrong"'));
    runtime.send(response('req-1', '"right"'));
    runtime.send(response('req-1', '"again"'));
    assert.equal(text(await answered), '"right"');
  });

  test('NEXT while the invocation is unanswered delivers it again', async () => {
    const runtime = await channel();
    runtime.send(next());
    const answered = api.invoke(event('req-1'));
    await runtime.frame(1);
    runtime.send(next());
    const again = await runtime.frame(2);
    assert.equal(again.meta['id'], 'req-1');
    runtime.send(response('req-1', 'null'));
    assert.equal(text(await answered), 'null');
  });

  test('a response over the limit settles as too large without being kept; the channel goes on', async () => {
    const runtime = await channel();
    runtime.send(next());
    const answered = api.invoke(event('req-1'));
    await runtime.frame(1);
    const big = response('req-1', 'x'.repeat(5000));
    // Split mid-body: the reader skips the rest as it arrives.
    runtime.send(big.subarray(0, 100));
    runtime.send(Buffer.concat([big.subarray(100), next()]));
    assert.deepEqual(await answered, { kind: 'too-large', bytes: 5000 });
    await api.runtimeWaiting();
    const second = api.invoke(event('req-2'));
    await runtime.frame(2);
    runtime.send(response('req-2', '"small"'));
    assert.equal(text(await second), '"small"');
  });

  test('broken framing closes the channel; a NEXT waiting on it no longer waits', async () => {
    const runtime = await channel();
    runtime.send(next());
    await api.runtimeWaiting();
    const bad = Buffer.alloc(9);
    bad.writeUInt32BE(5, 0);
    bad.writeUInt8(FrameType.next, 4);
    bad.writeUInt32BE(100, 5); // meta longer than the frame
    runtime.send(bad);
    await runtime.closed;
    assert.equal(api.openChannels, 0);
    // The invocation waits for a runtime that asks again (here over a new channel).
    const answered = api.invoke(event('req-1'));
    const fresh = await channel();
    fresh.send(next());
    await fresh.frame(1);
    fresh.send(response('req-1', '1'));
    assert.equal(text(await answered), '1');
  });

  test('unknown frame types and meta that is not a JSON object close the channel', async () => {
    const unknown = await channel();
    unknown.send(encodeFrame(99, undefined));
    await unknown.closed;
    const notObject = await channel();
    const frame = encodeFrame(FrameType.next, undefined);
    const meta = Buffer.from('[1]');
    const withArray = Buffer.concat([frame.subarray(0, 9), meta]);
    withArray.writeUInt32BE(5 + meta.length, 0);
    withArray.writeUInt32BE(meta.length, 5);
    notObject.send(withArray);
    await notObject.closed;
    assert.equal(api.openChannels, 0);
  });

  test('other upgrades are refused with 400', async () => {
    assert.equal(await RuntimeSide.open('/2018-06-01/runtime/invocation/next'), 400);
    assert.equal(await RuntimeSide.open(CHANNEL_PATH, 'websocket'), 400);
  });

  test('close() ends open channels', async () => {
    const runtime = await channel();
    runtime.send(next());
    await api.runtimeWaiting();
    await api.close();
    await runtime.closed;
  });
});

describe('FrameReader', () => {
  function read(chunks: readonly Buffer[], maxBody = 100) {
    const seen: string[] = [];
    const reader = new FrameReader(
      {
        frame: (f) => seen.push(`frame ${f.type} ${JSON.stringify(f.meta)} ${f.body.toString()}`),
        oversized: (type, meta, bytes) =>
          seen.push(`oversized ${type} ${JSON.stringify(meta)} ${bytes}`),
        malformed: (reason) => seen.push(`malformed ${reason}`),
      },
      maxBody,
    );
    for (const chunk of chunks) reader.push(chunk);
    return seen;
  }

  test('frames split anywhere, or several in one chunk, come out whole and in order', () => {
    const bytes = Buffer.concat([
      encodeFrame(FrameType.response, { id: 'a' }, Buffer.from('one')),
      encodeFrame(FrameType.next, undefined),
      encodeFrame(FrameType.error, { id: 'b' }, Buffer.from('two')),
    ]);
    const expected = ['frame 2 {"id":"a"} one', 'frame 1 {} ', 'frame 3 {"id":"b"} two'];
    assert.deepEqual(read([bytes]), expected);
    for (let at = 1; at < bytes.length; at += 1) {
      assert.deepEqual(
        read([bytes.subarray(0, at), bytes.subarray(at)]),
        expected,
        `split at ${at}`,
      );
    }
    assert.deepEqual(
      read([...bytes].map((byte) => Buffer.from([byte]))),
      expected,
      'one byte at a time',
    );
  });

  test('an oversized body is reported once and skipped, across chunks; framing resumes after it', () => {
    const big = encodeFrame(FrameType.response, { id: 'a' }, Buffer.alloc(250, 0x61));
    const after = encodeFrame(FrameType.next, undefined);
    assert.deepEqual(
      read([big.subarray(0, 30), big.subarray(30, 200), Buffer.concat([big.subarray(200), after])]),
      ['oversized 2 {"id":"a"} 250', 'frame 1 {} '],
    );
  });

  test('an oversized frame whose header arrives alone does not break the reader (found by fuzzing)', () => {
    // 9 bytes announcing a body over the limit, then nothing: the body is still to be skipped.
    const head = Buffer.from([0, 0x70, 0, 5, FrameType.response, 0, 0, 0, 0]);
    assert.deepEqual(read([head]), [`oversized 2 {} ${0x700005 - 5}`]);
    const big = encodeFrame(FrameType.response, { id: 'x' }, Buffer.alloc(150, 0x62));
    const metaEnd = big.length - 150;
    assert.deepEqual(
      read([
        big.subarray(0, metaEnd),
        big.subarray(metaEnd),
        encodeFrame(FrameType.next, undefined),
      ]),
      ['oversized 2 {"id":"x"} 150', 'frame 1 {} '],
    );
  });

  test('a header whose lengths do not add up is malformed, and nothing is read after it', () => {
    const bad = Buffer.from([0, 0, 0, 2, 1, 0, 0, 0, 0]);
    assert.deepEqual(read([bad, encodeFrame(FrameType.next, undefined)]), [
      'malformed bad frame header (length 2, meta 0)',
    ]);
  });
});
