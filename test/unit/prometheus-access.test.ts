/**
 * Who may read /metrics (a bearer token, compared in constant time, or loopback clients when no
 * token is set), which tokens may be configured, and the answer to each kind of request: a body
 * is refused with its connection closed, a refusal costs no rendering, only GET and HEAD render.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isLoopback, metricsAccess, metricsTokenProblem } from '../../src/api/prometheus-access.js';
import {
  answerMetricsRequest,
  type MetricsEndpoint,
  type MetricsRequestHead,
} from '../../src/api/prometheus-endpoint.js';

const TOKEN = 'scrape-token-0123456789';

describe('isLoopback', () => {
  const cases: Array<[string | undefined, boolean]> = [
    ['127.0.0.1', true],
    ['127.255.3.4', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['::FFFF:127.9.9.9', true],
    ['192.0.2.2', false],
    ['10.0.0.1', false],
    ['::ffff:192.0.2.2', false],
    ['fd00::2', false],
    ['0:0:0:0:0:0:0:2', false],
    ['128.0.0.1', false],
    ['127.0.0.1.evil', false],
    ['', false],
    [undefined, false],
  ];
  for (const [address, expected] of cases)
    test(`${String(address)} → ${expected}`, () => assert.equal(isLoopback(address), expected));
});

describe('metricsAccess', () => {
  const cases: Array<[string | undefined, string | undefined, string | undefined, string]> = [
    // token, Authorization, peer → decision
    [undefined, undefined, '127.0.0.1', 'allowed'],
    [undefined, undefined, '::1', 'allowed'],
    [undefined, `Bearer ${TOKEN}`, '192.0.2.2', 'forbidden'],
    [undefined, undefined, '192.0.2.2', 'forbidden'],
    [undefined, undefined, undefined, 'forbidden'],
    [TOKEN, `Bearer ${TOKEN}`, '192.0.2.2', 'allowed'],
    [TOKEN, `bearer ${TOKEN}`, '192.0.2.2', 'allowed'],
    [TOKEN, `Bearer  ${TOKEN} `, '192.0.2.2', 'allowed'],
    // With a token set, loopback is no exception.
    [TOKEN, undefined, '127.0.0.1', 'unauthorized'],
    [TOKEN, `Bearer ${TOKEN}x`, '127.0.0.1', 'unauthorized'],
    [TOKEN, `Bearer ${TOKEN.slice(1)}`, '192.0.2.2', 'unauthorized'],
    [TOKEN, `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`, '192.0.2.2', 'unauthorized'],
    [TOKEN, TOKEN, '192.0.2.2', 'unauthorized'],
    [TOKEN, 'Bearer', '192.0.2.2', 'unauthorized'],
    [TOKEN, `Bearer ${TOKEN} extra`, '192.0.2.2', 'unauthorized'],
    [TOKEN, `Bearer ${'a'.repeat(5000)}`, '192.0.2.2', 'unauthorized'],
    [TOKEN, '', '192.0.2.2', 'unauthorized'],
  ];
  cases.forEach(([token, authorization, peer, expected], i) => {
    test(`case ${i}: token ${token === undefined ? 'unset' : 'set'}, ${String(authorization).slice(0, 30)}, ${String(peer)} → ${expected}`, () =>
      assert.equal(metricsAccess(token, authorization, peer), expected));
  });
});

test('a connection relayed from inside an environment is no loopback client', () => {
  assert.equal(metricsAccess(undefined, undefined, '127.0.0.1', true), 'forbidden');
  assert.equal(metricsAccess(undefined, undefined, '127.0.0.1', false), 'allowed');
  // With a token, the token decides wherever the request comes from.
  assert.equal(metricsAccess(TOKEN, `Bearer ${TOKEN}`, '127.0.0.1', true), 'allowed');
});

describe('metricsTokenProblem', () => {
  test('16 to 512 visible ASCII characters', () => {
    assert.equal(metricsTokenProblem(TOKEN), undefined);
    assert.equal(metricsTokenProblem('x'.repeat(512)), undefined);
    assert.match(metricsTokenProblem('short') ?? '', /16 to 512/);
    assert.match(metricsTokenProblem('x'.repeat(513)) ?? '', /16 to 512/);
    assert.match(metricsTokenProblem('has a space in it!!') ?? '', /visible ASCII/);
    assert.match(metricsTokenProblem('line\nbreak-0123456789') ?? '', /visible ASCII/);
    assert.match(metricsTokenProblem('ünicode-0123456789') ?? '', /visible ASCII/);
  });
});

describe('answerMetricsRequest', () => {
  function endpoint(token: string | undefined): MetricsEndpoint & { renders: number } {
    const state = {
      token,
      renders: 0,
      errors: [] as unknown[],
      render: () => {
        state.renders += 1;
        return Promise.resolve({ contentType: 'text/plain; version=0.0.4', body: 'm 1\n' });
      },
      onError: (error: unknown) => state.errors.push(error),
    };
    return state;
  }
  const head = (overrides: Partial<MetricsRequestHead> = {}): MetricsRequestHead => ({
    method: 'GET',
    headers: {},
    remoteAddress: '127.0.0.1',
    ...overrides,
  });

  test('GET renders; HEAD renders without a body', async () => {
    const e = endpoint(undefined);
    const get = await answerMetricsRequest(e, head());
    assert.equal(get.status, 200);
    assert.equal(get.body, 'm 1\n');
    assert.equal(get.headers['content-type'], 'text/plain; version=0.0.4');
    const headAnswer = await answerMetricsRequest(e, head({ method: 'HEAD' }));
    assert.equal(headAnswer.status, 200);
    assert.equal(headAnswer.body, '');
  });

  test('refusals render nothing: body 400 (closing), 401 with a challenge, 403, 405', async () => {
    const open = endpoint(undefined);
    const body = await answerMetricsRequest(open, head({ headers: { 'content-length': '5' } }));
    assert.equal(body.status, 400);
    assert.equal(body.headers['connection'], 'close');
    const chunked = await answerMetricsRequest(
      open,
      head({ headers: { 'transfer-encoding': 'chunked' } }),
    );
    assert.equal(chunked.status, 400);
    const remote = await answerMetricsRequest(open, head({ remoteAddress: '192.0.2.2' }));
    assert.equal(remote.status, 403);
    const post = await answerMetricsRequest(open, head({ method: 'POST' }));
    assert.equal(post.status, 405);
    assert.equal(post.headers['allow'], 'GET, HEAD');
    const guarded = endpoint(TOKEN);
    const none = await answerMetricsRequest(guarded, head());
    assert.equal(none.status, 401);
    assert.match(none.headers['www-authenticate'] ?? '', /^Bearer /);
    const wrongPost = await answerMetricsRequest(
      guarded,
      head({ method: 'POST', headers: { authorization: 'Bearer wrong-token-000000000' } }),
    );
    assert.equal(wrongPost.status, 401);
    // Duplicated Authorization headers (an array) are not taken.
    const doubled = await answerMetricsRequest(
      guarded,
      head({ headers: { authorization: [`Bearer ${TOKEN}`, `Bearer ${TOKEN}`] } }),
    );
    assert.equal(doubled.status, 401);
    assert.equal(open.renders + guarded.renders, 0);
    const right = await answerMetricsRequest(
      guarded,
      head({ remoteAddress: '192.0.2.2', headers: { authorization: `Bearer ${TOKEN}` } }),
    );
    assert.equal(right.status, 200);
  });

  test('a rendering that fails is a 500, reported', async () => {
    const errors: unknown[] = [];
    const answer = await answerMetricsRequest(
      {
        token: undefined,
        render: () => Promise.reject(new Error('boom')),
        onError: (error) => errors.push(error),
      },
      head(),
    );
    assert.equal(answer.status, 500);
    assert.equal(errors.length, 1);
  });
});
