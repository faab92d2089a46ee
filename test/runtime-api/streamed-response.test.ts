/**
 * Streamed responses on the Runtime API, driven with raw chunked HTTP as a runtime sends them
 * (`Lambda-Runtime-Function-Response-Mode: streaming`, `Transfer-Encoding: chunked`, errors in
 * trailers): handed over chunk by chunk to a `streaming` invoke, collected for a `buffered` one.
 */
import assert from 'node:assert/strict';
import { request, type ClientRequest } from 'node:http';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { RuntimeAnswer } from '../../src/core/runtime-protocol.js';
import { RuntimeApiServer } from '../../src/runtime-api/runtime-api-server.js';

let api: RuntimeApiServer;
let address: string;

const event = (requestId: string) => ({
  requestId,
  payload: Buffer.from('{}'),
  deadlineMs: 1_800_000_000_000,
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
  traceId: 'Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0',
});

function endpoint(): { host: string; port: number } {
  const [host = '', port = ''] = address.split(':');
  return { host, port: Number(port) };
}

/** Takes the next invocation as a runtime would. */
function next(): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(
      { ...endpoint(), method: 'GET', path: '/2018-06-01/runtime/invocation/next' },
      (res) => {
        res.resume();
        res.on('end', resolve);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Opens a streamed response; `answered` resolves with the Runtime API's status and body. */
function openStream(
  requestId: string,
  contentType = 'text/plain',
): { req: ClientRequest; answered: Promise<{ status: number; body: string }> } {
  let req!: ClientRequest;
  const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req = request(
      {
        ...endpoint(),
        method: 'POST',
        path: `/2018-06-01/runtime/invocation/${requestId}/response`,
        headers: {
          'Lambda-Runtime-Function-Response-Mode': 'streaming',
          'Transfer-Encoding': 'chunked',
          Trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
          'Content-Type': contentType,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on('error', reject);
  });
  return { req, answered };
}

function asStream(answer: RuntimeAnswer): Extract<RuntimeAnswer, { kind: 'stream' }> {
  if (answer.kind !== 'stream') assert.fail(`expected a stream, got ${answer.kind}`);
  return answer;
}

describe('RuntimeApiServer: streamed responses', () => {
  beforeEach(async () => {
    api = new RuntimeApiServer({ maxResponseBytes: 1000, maxStreamedResponseBytes: 64 * 1024 });
    address = await api.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(async () => api.close());

  test('a streaming invoke gets each chunk before the runtime sends the next; the runtime gets 202 at the end', async () => {
    const answer = api.invoke(event('s1'), 'streaming');
    await next();
    const { req, answered } = openStream('s1');
    req.write('one');
    const stream = asStream(await answer);
    assert.equal(stream.contentType, 'text/plain');
    const chunks = stream.body[Symbol.asyncIterator]();
    assert.equal(String((await chunks.next()).value), 'one');
    req.write('two');
    assert.equal(String((await chunks.next()).value), 'two');
    req.end();
    assert.equal((await chunks.next()).done, true);
    assert.deepEqual(await stream.ended, { kind: 'complete', bytes: 6 });
    assert.deepEqual(await answered, { status: 202, body: '{"status":"OK"}' });
  });

  test('error trailers end the stream with the decoded error body', async () => {
    const answer = api.invoke(event('s2'), 'streaming');
    await next();
    const { req, answered } = openStream('s2');
    req.write('partial');
    const stream = asStream(await answer);
    const error = { errorType: 'RangeError', errorMessage: 'broke', trace: [] };
    req.addTrailers({
      'Lambda-Runtime-Function-Error-Type': 'RangeError',
      'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(error)).toString('base64'),
    });
    req.end();
    let text = '';
    for await (const chunk of stream.body) text += chunk.toString();
    assert.equal(text, 'partial');
    const ended = await stream.ended;
    if (ended.kind !== 'error') assert.fail(`expected an error end, got ${ended.kind}`);
    assert.equal(ended.errorType, 'RangeError');
    assert.deepEqual(JSON.parse(ended.body.toString()), error);
    assert.equal((await answered).status, 202);
    // The invocation is answered: a second answer is refused.
    const again = openStream('s2');
    again.req.end();
    assert.equal((await again.answered).status, 403);
  });

  test('a stream over the streaming limit is cut off: 413 to the runtime, too-large to the invoke', async () => {
    const answer = api.invoke(event('s3'), 'streaming');
    await next();
    const { req, answered } = openStream('s3');
    req.write(Buffer.alloc(1024));
    const stream = asStream(await answer);
    let received = 0;
    const reading = (async () => {
      for await (const chunk of stream.body) received += chunk.length;
    })();
    req.end(Buffer.alloc(64 * 1024));
    await reading;
    const ended = await stream.ended;
    assert.equal(ended.kind, 'too-large');
    assert.ok(received <= 64 * 1024, `passed on ${received} bytes`);
    const reply = await answered;
    assert.equal(reply.status, 413);
    assert.equal(
      (JSON.parse(reply.body) as { errorMessage: string }).errorMessage,
      'Exceeded maximum allowed payload size (65536 bytes).',
    );
  });

  test('a runtime that closes the connection mid-stream truncates it', async () => {
    const answer = api.invoke(event('s4'), 'streaming');
    await next();
    const { req, answered } = openStream('s4');
    answered.catch(() => undefined); // the connection is torn down: no answer
    req.write('half');
    const stream = asStream(await answer);
    const chunks = stream.body[Symbol.asyncIterator]();
    assert.equal(String((await chunks.next()).value), 'half');
    req.destroy();
    assert.equal((await chunks.next()).done, true);
    assert.deepEqual(await stream.ended, { kind: 'truncated', bytes: 4 });
  });

  test('a buffered invoke collects the stream into one response, within the buffered limit', async () => {
    const answer = api.invoke(event('s5'));
    await next();
    const { req, answered } = openStream('s5');
    req.write('a');
    req.write('b');
    req.end('c');
    const result = await answer;
    if (result.kind !== 'response') assert.fail(`expected a response, got ${result.kind}`);
    assert.equal(result.body.toString(), 'abc');
    assert.equal(result.contentType, 'text/plain');
    assert.equal((await answered).status, 202);

    const big = api.invoke(event('s6'));
    await next();
    const over = openStream('s6');
    over.req.on('error', () => undefined);
    over.req.end(Buffer.alloc(1001));
    assert.deepEqual(await big, { kind: 'too-large', bytes: 1001 });
  });
});

describe('RuntimeApiServer: back-pressure of streamed responses', () => {
  beforeEach(async () => {
    api = new RuntimeApiServer();
    address = await api.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(async () => api.close());

  test('a slow reader holds the runtime back instead of the server buffering its output', async () => {
    const total = 64 * 1024 * 1024;
    const piece = Buffer.alloc(256 * 1024, 7);
    const answer = api.invoke(event('bp'), 'streaming');
    await next();
    const { req, answered } = openStream('bp', 'application/octet-stream');
    let written = 0;
    const writing = (async () => {
      while (written < total) {
        written += piece.length;
        if (!req.write(piece)) await new Promise((resolve) => req.once('drain', resolve));
      }
      req.end();
    })();
    const stream = asStream(await answer);
    let read = 0;
    let widestGap = 0;
    for await (const chunk of stream.body) {
      read += chunk.length;
      widestGap = Math.max(widestGap, written - read);
      // A slow reader: let everything else run before taking the next chunk.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await writing;
    assert.equal(read, total);
    assert.deepEqual(await stream.ended, { kind: 'complete', bytes: total });
    assert.equal((await answered).status, 202);
    // Without back-pressure the writer would run ahead by tens of MB; with it, by the socket and
    // stream buffers only.
    assert.ok(widestGap < 16 * 1024 * 1024, `the writer ran ${widestGap} bytes ahead`);
  });
});
