/** Splitting the HTTP-integration prelude (JSON, 8 NULs) off a streamed body, however it is cut. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  parsePrelude,
  splitHttpIntegrationResponse,
} from '../../src/environment/http-integration-response.js';

async function* pieces(...parts: (string | Buffer)[]): AsyncGenerator<Buffer> {
  for (const part of parts) {
    await Promise.resolve();
    yield Buffer.isBuffer(part) ? part : Buffer.from(part);
  }
}

async function text(body: AsyncIterable<Buffer>): Promise<string> {
  let out = '';
  for await (const chunk of body) out += chunk.toString();
  return out;
}

const NULS = Buffer.alloc(8);

describe('splitHttpIntegrationResponse', () => {
  test('prelude and delimiter cut across chunks; the body streams on', async () => {
    const prelude = JSON.stringify({
      statusCode: 201,
      headers: { 'x-a': 'b', n: 3 },
      cookies: ['c=1; Secure'],
    });
    const joined = Buffer.concat([Buffer.from(prelude), NULS, Buffer.from('<h1>hi')]);
    const split = await splitHttpIntegrationResponse(
      pieces(
        joined.subarray(0, 10),
        joined.subarray(10, prelude.length + 3),
        joined.subarray(prelude.length + 3),
        '</h1>',
      ),
    );
    assert.deepEqual(split.prelude, {
      statusCode: 201,
      headers: { 'x-a': 'b', n: '3' },
      cookies: ['c=1; Secure'],
    });
    assert.equal(await text(split.body), '<h1>hi</h1>');
  });

  test('only as much is read as the prelude needs', async () => {
    let pulled = 0;
    async function* counted(): AsyncGenerator<Buffer> {
      for (const part of ['{"statusCode":404}', NULS, 'body-1', 'body-2']) {
        pulled += 1;
        await Promise.resolve();
        yield Buffer.isBuffer(part) ? part : Buffer.from(part);
      }
    }
    const split = await splitHttpIntegrationResponse(counted());
    assert.equal(pulled, 2);
    assert.equal(split.prelude?.statusCode, 404);
    assert.deepEqual(split.prelude?.headers, {});
    assert.equal(await text(split.body), 'body-1body-2');
  });

  test('no delimiter within the limit, or no JSON object before it: no prelude, the bytes are the body', async () => {
    const none = await splitHttpIntegrationResponse(pieces('plain ', 'text'), 4);
    assert.equal(none.prelude, undefined);
    assert.equal(await text(none.body), 'plain text');
    const ended = await splitHttpIntegrationResponse(pieces('short'));
    assert.equal(ended.prelude, undefined);
    assert.equal(await text(ended.body), 'short');
    const notJson = await splitHttpIntegrationResponse(
      pieces(Buffer.concat([Buffer.from('[1]'), NULS]), 'x'),
    );
    assert.equal(notJson.prelude, undefined);
    assert.equal((await text(notJson.body)).length, 3 + 8 + 1);
  });

  test('parsePrelude defaults the status to 200 and keeps only string-able headers', () => {
    assert.deepEqual(parsePrelude(Buffer.from('{"headers":{"a":null,"b":true}}')), {
      statusCode: 200,
      headers: { b: 'true' },
      cookies: [],
    });
    assert.equal(parsePrelude(Buffer.from('nope')), undefined);
  });
});
