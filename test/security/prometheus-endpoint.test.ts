/**
 * `/metrics` is the one path of the API port that is not SigV4-signed (Prometheus cannot sign),
 * and `--metrics-port` is a listener of its own: both are open to whoever reaches them. Without a
 * token only loopback peers are answered (a forwarding header or a Host header changes nothing),
 * with one a wrong or missing bearer token is 401 (loopback too), and hostile requests cost
 * nothing: a body (declared, gigabytes, or chunked) is refused before a byte of it is read and
 * its connection closed, oversized heads are refused, other methods and paths render nothing,
 * a head that trickles in is cut, and a bad token is refused at start.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { deploy, invokeJson } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';

const TOKEN = 'security-scrape-token-5e1b8c';

/** This host's own address on a non-loopback interface: a peer connecting to it is not loopback. */
function externalAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? [])
      if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  throw new Error('this host has no non-loopback IPv4 address: the test needs one');
}

/** The metrics URL from the server's banner. */
function metricsUrlOf(server: ServerProcess): URL {
  const match = /Prometheus metrics at (\S+)/.exec(server.output());
  assert.ok(match?.[1] !== undefined, server.output());
  return new URL(match[1]);
}

/**
 * Writes `head` (and `body`, if any) on a connection of its own; resolves with the status line
 * and whether the server closed the connection after answering, or 'closed' when it answered
 * nothing. `trickle` writes the head a byte every `trickle` ms instead.
 */
function raw(
  host: string,
  port: number,
  head: string,
  options: { body?: Buffer; trickle?: number } = {},
): Promise<{ status: string; closed: boolean; bytes: number; head: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    let answer = '';
    let timer: NodeJS.Timeout | undefined;
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
    });
    socket.on('close', () => {
      clearInterval(timer);
      resolve({
        status: answer === '' ? 'closed' : (answer.split('\r\n')[0] ?? ''),
        closed: true,
        bytes: answer.length,
        head: answer.split('\r\n\r\n')[0] ?? '',
      });
    });
    socket.on('connect', () => {
      if (options.trickle !== undefined) {
        let at = 0;
        timer = setInterval(() => {
          if (at < head.length) socket.write(head[at++] ?? '');
        }, options.trickle);
        return;
      }
      socket.write(head);
      if (options.body !== undefined) socket.write(options.body);
      // A keep-alive connection stays open after a 200: end our side once answered.
      socket.once('data', () => setTimeout(() => socket.end(), 200).unref());
    });
  });
}

describe('/metrics on the API port, no token: loopback only', () => {
  const dir = tempDir();
  let server: ServerProcess;
  let url: URL;
  const external = externalAddress();

  before(async () => {
    server = await startServer({ dataDir: dir.path, args: ['--host', '0.0.0.0'] });
    url = metricsUrlOf(server);
    assert.match(server.output(), /loopback clients only/);
  });
  after(async () => {
    await server?.stop();
    dir.remove();
  });

  const port = () => Number(url.port);

  test('a loopback peer is answered; the same request from a non-loopback address is 403', async () => {
    const local = await fetch(`http://127.0.0.1:${port()}/metrics`);
    assert.equal(local.status, 200);
    assert.match(await local.text(), /^# TYPE lamina_invocations_total counter$/m);
    for (const headers of [
      {},
      { 'x-forwarded-for': '127.0.0.1' },
      { 'x-real-ip': '127.0.0.1', forwarded: 'for=127.0.0.1' },
      { host: 'localhost' },
      { authorization: `Bearer ${TOKEN}` },
    ]) {
      const remote = await fetch(`http://${external}:${port()}/metrics`, { headers });
      assert.equal(remote.status, 403, JSON.stringify(headers));
      assert.doesNotMatch(await remote.text(), /lamina_/);
    }
    // A refused client keeps no connection.
    const refused = await raw(external, port(), 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(refused.status, /^HTTP\/1\.1 403 /);
    assert.match(refused.head, /^connection: close$/im);
  });

  test('a function cannot read /metrics through its Lamina API relay (loopback on the host)', async () => {
    const client = lambdaClient(server.endpoint);
    try {
      await deploy(client, 'peeker', {
        'index.js': `const http = require('node:http');
exports.handler = () => new Promise((resolve) => {
  http.get('http://127.0.0.1:9002/metrics', (res) => {
    let body = '';
    res.on('data', (c) => (body += c));
    res.on('end', () => resolve({ status: res.statusCode, leaked: body.includes('lamina_') }));
  }).on('error', (e) => resolve({ error: e.message }));
});`,
      });
      const { body } = await invokeJson(client, 'peeker', {});
      assert.deepEqual(body, { status: 403, leaked: false });
      // The host's own loopback clients are still answered.
      assert.equal((await fetch(`http://127.0.0.1:${port()}/metrics`)).status, 200);
    } finally {
      client.destroy();
    }
  });

  test('a body is refused before it is read, and its connection closed', async () => {
    const declared = await raw(
      '127.0.0.1',
      port(),
      'GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n',
      { body: Buffer.alloc(64 * 1024, 0x61) },
    );
    assert.match(declared.status, /^HTTP\/1\.1 400 /);
    assert.ok(declared.closed);
    const chunked = await raw(
      '127.0.0.1',
      port(),
      'GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n',
    );
    assert.match(chunked.status, /^HTTP\/1\.1 400 /);
    // Refused the same way from outside, with no word about the metrics.
    const remote = await raw(
      external,
      port(),
      'GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n',
    );
    assert.match(remote.status, /^HTTP\/1\.1 (400|403) /);
  });

  test('other methods on /metrics are the API’s (unsigned: refused); odd heads are refused', async () => {
    const post = await fetch(`http://127.0.0.1:${port()}/metrics`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 403);
    assert.doesNotMatch(await post.text(), /lamina_/);
    const head = await fetch(`http://127.0.0.1:${port()}/metrics`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    const huge = await raw(
      '127.0.0.1',
      port(),
      `GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(64 * 1024)}\r\n\r\n`,
    );
    assert.match(huge.status, /^HTTP\/1\.1 431 /);
    const garbage = await raw('127.0.0.1', port(), 'GET /metrics HTTP/9.9\r\n\x00\x01\r\n\r\n');
    assert.match(garbage.status, /^HTTP\/1\.1 (400|505) |^closed$/);
    // The server still answers.
    assert.equal((await fetch(`http://127.0.0.1:${port()}/metrics`)).status, 200);
  });

  test('many scrapes at once are all answered', async () => {
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => fetch(`http://127.0.0.1:${port()}/metrics`)),
    );
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      await answer.arrayBuffer();
    }
  });
});

describe('--metrics-port with a token', () => {
  const dir = tempDir();
  let server: ServerProcess;
  let url: URL;
  const external = externalAddress();

  before(async () => {
    server = await startServer({
      dataDir: dir.path,
      args: ['--host', '0.0.0.0', '--metrics-port', '0'],
      env: { LAMINA_METRICS_TOKEN: TOKEN },
    });
    url = metricsUrlOf(server);
    assert.match(server.output(), /\(bearer token\)/);
    assert.notEqual(url.port, new URL(server.endpoint).port);
  });
  after(async () => {
    await server?.stop();
    dir.remove();
  });

  const port = () => Number(url.port);
  const at = (host: string, path = '/metrics') => `http://${host}:${port()}${path}`;

  test('the right token is answered from anywhere; none or a wrong one is 401, loopback too', async () => {
    const right = await fetch(at(external), { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(right.status, 200);
    assert.match(await right.text(), /^# TYPE lamina_environments gauge$/m);
    const refusals: Array<[string, Record<string, string>]> = [
      ['127.0.0.1', {}],
      [external, {}],
      [external, { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
      [external, { authorization: `Bearer ${TOKEN}0` }],
      [external, { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }],
      [external, { authorization: TOKEN }],
      [external, { authorization: `Bearer ${'z'.repeat(4000)}` }],
    ];
    for (const [host, headers] of refusals) {
      const answer = await fetch(at(host), { headers });
      assert.equal(answer.status, 401, `${host} ${JSON.stringify(headers).slice(0, 80)}`);
      assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer /);
      assert.doesNotMatch(await answer.text(), /lamina_/);
    }
    // A refused client keeps no connection (nor one of the port's few connection slots).
    const refused = await raw(external, port(), 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(refused.status, /^HTTP\/1\.1 401 /);
    assert.match(refused.head, /^connection: close$/im);
  });

  test('only GET and HEAD /metrics; other paths 404; the API port has no /metrics', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const post = await fetch(at('127.0.0.1'), { method: 'POST', headers: auth });
    assert.equal(post.status, 405);
    const head = await fetch(at('127.0.0.1'), { method: 'HEAD', headers: auth });
    assert.equal(head.status, 200);
    for (const path of ['/', '/metrics/x', '/2015-03-31/functions', '/metricsx']) {
      const answer = await fetch(at('127.0.0.1', path), { headers: auth });
      assert.equal(answer.status, 404, path);
      await answer.arrayBuffer();
    }
    const api = await fetch(`${server.endpoint}/metrics`, { headers: auth });
    assert.equal(api.status, 404);
  });

  test('bodies, oversized heads and slow heads are cut without being read', async () => {
    const body = await raw(
      external,
      port(),
      `GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 1073741824\r\n\r\n`,
      { body: Buffer.alloc(64 * 1024, 0x61) },
    );
    assert.match(body.status, /^HTTP\/1\.1 400 /);
    assert.ok(body.closed);
    const huge = await raw(
      external,
      port(),
      `GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    assert.match(huge.status, /^HTTP\/1\.1 431 /);
    // A head that never completes is cut by the head timeout (10 s), checked every second.
    const started = Date.now();
    const slow = await raw(
      external,
      port(),
      'GET /metrics HTTP/1.1\r\nX-Slow: ' + 'a'.repeat(500),
      {
        trickle: 200,
      },
    );
    assert.ok(slow.closed);
    assert.match(slow.status, /^HTTP\/1\.1 408 |^closed$/);
    assert.ok(Date.now() - started < 30_000);
  });
});

test('a metrics token that is too short or not visible ASCII stops the server at start', async () => {
  for (const token of ['short', 'has spaces in the token']) {
    const dir = tempDir();
    try {
      await assert.rejects(
        startServer({ dataDir: dir.path, env: { LAMINA_METRICS_TOKEN: token }, testRoles: false }),
        /LAMINA_METRICS_TOKEN must be/,
      );
    } finally {
      dir.remove();
    }
  }
});
