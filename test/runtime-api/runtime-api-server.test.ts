/** Runtime API state rules, driven with raw HTTP as a runtime would. */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { RuntimeAnswer } from '../../src/core/runtime-protocol.js';
import { RuntimeApiServer } from '../../src/runtime-api/runtime-api-server.js';
import { invocationEvent } from '../helpers/invocation-events.js';

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

let api: RuntimeApiServer;
let address: string;

function call(
  method: string,
  path: string,
  body?: Buffer | string,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const [host = '', port = ''] = address.split(':');
  return new Promise((resolve, reject) => {
    const req = request(
      { host, port: Number(port), method, path: `/2018-06-01/runtime/${path}`, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const event = invocationEvent;

describe('RuntimeApiServer', () => {
  beforeEach(async () => {
    api = new RuntimeApiServer({ maxResponseBytes: 1000 });
    address = await api.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(async () => api.close());

  test('/next delivers the event byte for byte with its headers; /response answers the invoke', async () => {
    const answer = api.invoke(event('r1', '{ "spaced" :  true }'));
    const next = await call('GET', 'invocation/next');
    assert.equal(next.status, 200);
    assert.equal(next.body, '{ "spaced" :  true }');
    assert.equal(next.headers['lambda-runtime-aws-request-id'], 'r1');
    assert.equal(next.headers['lambda-runtime-deadline-ms'], '1800000000000');
    assert.equal(
      next.headers['lambda-runtime-invoked-function-arn'],
      'arn:aws:lambda:us-east-1:000000000000:function:f',
    );
    assert.match(String(next.headers['lambda-runtime-trace-id']), /^Root=1-/);
    assert.equal(
      Buffer.from(String(next.headers['lambda-runtime-client-context']), 'latin1').toString('utf8'),
      '{"custom":{"name":"日本"}}',
    );
    const posted = await call('POST', 'invocation/r1/response', '{"ok":1}', {
      'content-type': 'application/json',
    });
    assert.equal(posted.status, 202);
    assert.equal(posted.body, '{"status":"OK"}');
    const result: RuntimeAnswer = await answer;
    assert.equal(result.kind, 'response');
    assert.equal(result.kind === 'response' ? result.body.toString() : '', '{"ok":1}');
  });

  test('asking /next again before answering re-delivers the same event', async () => {
    void api.invoke(event('r2'));
    const first = await call('GET', 'invocation/next');
    const again = await call('GET', 'invocation/next');
    assert.equal(
      again.headers['lambda-runtime-aws-request-id'],
      first.headers['lambda-runtime-aws-request-id'],
    );
    assert.equal(again.body, first.body);
  });

  test('unknown ids are 400 InvalidRequestID, a second answer is 403 InvalidStateTransition', async () => {
    void api.invoke(event('r3'));
    await call('GET', 'invocation/next');
    const unknown = await call('POST', 'invocation/nope/response', '{}');
    assert.equal(unknown.status, 400);
    assert.equal((JSON.parse(unknown.body) as { errorType: string }).errorType, 'InvalidRequestID');
    const malformed = await call('POST', 'invocation/%E0%A4%A/response', '{}');
    assert.equal(malformed.status, 400);
    assert.equal((await call('POST', 'invocation/r3/response', '{}')).status, 202);
    const twice = await call('POST', 'invocation/r3/error', '{}');
    assert.equal(twice.status, 403);
    assert.equal(
      (JSON.parse(twice.body) as { errorType: string }).errorType,
      'InvalidStateTransition',
    );
    // Once the next invocation is current, the old id is stale: 400.
    void api.invoke(event('r4'));
    await call('GET', 'invocation/next');
    assert.equal((await call('POST', 'invocation/r3/response', '{}')).status, 400);
  });

  test('errors carry the runtime body and the error-type header; an empty body is built from it', async () => {
    const withBody = api.invoke(event('r5'));
    await call('GET', 'invocation/next');
    await call(
      'POST',
      'invocation/r5/error',
      '{"errorType":"TypeError","errorMessage":"x","trace":[]}',
      { 'lambda-runtime-function-error-type': 'Runtime.Whatever' },
    );
    const answer = await withBody;
    assert.deepEqual(
      answer.kind === 'error' ? [answer.errorType, JSON.parse(answer.body.toString())] : [],
      ['Runtime.Whatever', { errorType: 'TypeError', errorMessage: 'x', trace: [] }],
    );
    const empty = api.invoke(event('r6'));
    await call('GET', 'invocation/next');
    await call('POST', 'invocation/r6/error', '', {
      'lambda-runtime-function-error-type': 'Function.Oops',
    });
    const built = await empty;
    assert.equal(
      built.kind === 'error'
        ? (JSON.parse(built.body.toString()) as { errorType: string }).errorType
        : '',
      'Function.Oops',
    );
  });

  test('an oversized response is 413 and the invoke learns it was too large', async () => {
    const answer = api.invoke(event('r7'));
    await call('GET', 'invocation/next');
    const posted = await call('POST', 'invocation/r7/response', 'x'.repeat(1001));
    assert.equal(posted.status, 413);
    assert.equal(
      (JSON.parse(posted.body) as { errorMessage: string }).errorMessage,
      'Exceeded maximum allowed payload size (1000 bytes).',
    );
    assert.deepEqual(await answer, { kind: 'too-large', bytes: 1001 });
  });

  test('oversized error and init error bodies are refused too (found reading the limits)', async () => {
    const answer = api.invoke(event('r10'));
    await call('GET', 'invocation/next');
    const posted = await call('POST', 'invocation/r10/error', 'x'.repeat(1001));
    assert.equal(posted.status, 413);
    assert.deepEqual(await answer, { kind: 'too-large', bytes: 1001 });
  });

  test('an answer whose body ends after another answered the invocation gets 403 (fuzzing)', async () => {
    const answer = api.invoke(event('r11'));
    await call('GET', 'invocation/next');
    const [host = '', port = ''] = address.split(':');
    // A first /response that sends half its body and waits.
    const slow = request({
      host,
      port: Number(port),
      method: 'POST',
      path: '/2018-06-01/runtime/invocation/r11/response',
      headers: { 'Content-Length': '10' },
    });
    const slowReply = new Promise<number>((resolve, reject) => {
      slow.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      slow.on('error', reject);
    });
    slow.write('12345');
    // A second, whole /response for the same id answers the invocation.
    assert.equal((await call('POST', 'invocation/r11/response', '"second"')).status, 202);
    assert.deepEqual((await answer).kind, 'response');
    slow.end('67890');
    assert.equal(await slowReply, 403);
  });

  test('init errors are accepted before the first /next and refused after it', async () => {
    const reported = new Promise<string>((resolve) =>
      api.onInitError((failure) => resolve(failure.errorType ?? '')),
    );
    const accepted = await call(
      'POST',
      'init/error',
      '{"errorType":"Runtime.ImportModuleError","errorMessage":"no"}',
      { 'lambda-runtime-function-error-type': 'Runtime.ImportModuleError' },
    );
    assert.equal(accepted.status, 202);
    assert.equal(await reported, 'Runtime.ImportModuleError');
    void api.invoke(event('r8'));
    await call('GET', 'invocation/next');
    assert.equal((await call('POST', 'init/error', '{}')).status, 403);
  });

  test('a bad response mode is 400 InvalidResponseModeHeader; unknown paths are 404', async () => {
    void api.invoke(event('r9'));
    await call('GET', 'invocation/next');
    const mode = await call('POST', 'invocation/r9/response', '{}', {
      'lambda-runtime-function-response-mode': 'sideways',
    });
    assert.equal(mode.status, 400);
    assert.equal(
      (JSON.parse(mode.body) as { errorType: string }).errorType,
      'InvalidResponseModeHeader',
    );
    assert.equal((await call('GET', 'nothing')).status, 404);
  });
});
