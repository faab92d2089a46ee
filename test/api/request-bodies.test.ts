/**
 * The HTTP edge's handling of request bodies, in-process on a real port (so connections can be cut
 * mid-body) with SigV4 on and a 100 MiB body budget: every way a body can end gives its bytes back
 * to the budget, chunked bodies are counted as they arrive and cut off past the read limit.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { inProcessApi, type InProcessApi } from '../helpers/in-process-api.js';
import { rawUpload } from '../helpers/raw-upload.js';
import { sha256Hex, signedHead } from '../helpers/signed-head.js';

const MiB = 1024 * 1024;
const CREATE_PATH = '/2015-03-31/functions';
const UPLOAD = 60 * MiB;

describe('request bodies and the body budget', () => {
  let api: InProcessApi;
  let endpoint = '';
  before(async () => {
    api = await inProcessApi(undefined, { auth: 'sigv4', requestBodyMemoryBytes: 100 * MiB });
    endpoint = await api.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => api.close());

  /** Every claim given back. */
  const drained = () => api.bodyBudget.until((bytes) => bytes === 0);

  async function signedUpload(signal?: AbortSignal, trickle = false) {
    const headers = await signedHead(endpoint, {
      path: CREATE_PATH,
      payloadSha256: sha256Hex(Buffer.alloc(UPLOAD, 'A')),
    });
    return rawUpload(endpoint, {
      path: CREATE_PATH,
      headers: { 'content-type': 'application/json', ...headers },
      contentLength: UPLOAD,
      trickle,
      ...(signal === undefined ? {} : { signal }),
    });
  }

  test('a body read to its end, refused or not, gives its claim back', async () => {
    const outcome = await signedUpload();
    // Not one JSON object: read (and hashed) to its end, then refused.
    assert.equal(outcome.status, 400, outcome.body);
    assert.equal(outcome.headers['x-amzn-errortype'], 'InvalidRequestContentException');
    await drained();
  });

  test('an upload the client gives up halfway gives its claim back', async () => {
    const giveUp = new AbortController();
    const upload = signedUpload(giveUp.signal, true).catch(() => 'given up');
    await api.bodyBudget.until((bytes) => bytes === UPLOAD);
    giveUp.abort();
    assert.equal(await upload, 'given up');
    await drained();
  });

  test('429 while the budget is held; 413 before reading past the read limit; both let go', async () => {
    const giveUp = new AbortController();
    const holder = signedUpload(giveUp.signal, true).catch(() => 'given up');
    await api.bodyBudget.until((bytes) => bytes === UPLOAD);
    const throttled = await signedUpload();
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers['retry-after'], '1');
    assert.equal(throttled.headers['connection'], 'close');
    assert.ok(!throttled.sentWholeBody);
    const huge = await rawUpload(endpoint, {
      path: CREATE_PATH,
      headers: await signedHead(endpoint, { path: CREATE_PATH, payloadSha256: sha256Hex('') }),
      contentLength: 200 * MiB,
      trickle: true,
    });
    assert.equal(huge.status, 413);
    assert.equal(huge.headers['x-amzn-errortype'], 'RequestEntityTooLargeException');
    giveUp.abort();
    await holder;
    await drained();
  });

  test('a chunked body is counted as it arrives and cut off past the read limit', async () => {
    const path = '/2015-03-31/functions/none/invocations';
    const headers = await signedHead(endpoint, { path, payloadSha256: sha256Hex('') });
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(endpoint);
      const req = request(
        { host: url.hostname, port: url.port, method: 'POST', path, headers },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      const chunk = Buffer.alloc(MiB, 'A');
      let sent = 0;
      const pump = () => {
        // 6 MB Invoke payloads: reading stops past 12 MB; the client does not know and goes on.
        while (sent < 20 && req.write(chunk)) sent += 1;
        if (sent < 20) req.once('drain', pump);
        else req.end();
      };
      pump();
    });
    assert.equal(status, 413);
    await drained();
  });
});
