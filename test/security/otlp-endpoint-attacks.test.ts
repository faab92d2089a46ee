/**
 * A function attacks its environment's OTLP endpoint (`--otlp-endpoint`; 127.0.0.1:9003 in its
 * jail) from inside: gigabyte bodies, declared or streamed; bodies and headers that trickle for
 * ever; many connections at once; other paths, methods, absolute URLs, CONNECT and smuggling
 * attempts; and a flood of exports while the collector hangs. Each is bounded: the function gets
 * its answer (or its connection is cut) without waiting on the collector, nothing but the three
 * signal paths ever reaches the collector, a second function is invoked warm meanwhile, and the
 * server's memory stays bounded and comes back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import {
  memoryReturns,
  peakRssDuring,
  prepareVictim,
  rssMiB,
  VICTIM_P99_LIMIT_MS,
  type Victim,
} from '../helpers/attack-harness.js';
import { deploy, invokeJson } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import { OtlpCollector } from '../helpers/otlp-collector.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';

const ATTACKS = `
import http from 'node:http';
import net from 'node:net';
const { hostname: host, port } = new URL(process.env.OTEL_EXPORTER_OTLP_ENDPOINT);
const JSON_TYPE = { 'Content-Type': 'application/json' };

/** Posts up to \`total\` bytes to \`path\`; resolves with the answer or how it was cut, and what was sent. */
function flood(path, total, declared) {
  return new Promise((resolve) => {
    const req = http.request({
      host, port, path, method: 'POST', agent: false,
      headers: { ...JSON_TYPE, ...(declared ? { 'Content-Length': String(total) } : { 'Transfer-Encoding': 'chunked' }) },
    });
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    let done = false;
    const finish = (how) => { if (!done) { done = true; req.destroy(); resolve({ sent, how }); } };
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => finish(res.statusCode + ' ' + body.slice(0, 200)));
      res.on('error', () => finish(res.statusCode + ' (cut)'));
    });
    req.on('error', (e) => finish('error ' + e.code));
    const pump = () => {
      while (!done && sent < total) {
        sent += chunk.length;
        if (!req.write(chunk)) { req.once('drain', pump); return; }
      }
      if (!done) req.end();
    };
    pump();
  });
}

/** Writes \`first\`, then \`drip\` every 250 ms until the server answers or cuts; resolves with its first line or 'cut'. */
function trickle(first, drip) {
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), host);
    let answer = '';
    const timer = setInterval(() => socket.write(drip), 250);
    socket.on('error', () => undefined);
    socket.on('data', (d) => { answer += d; });
    socket.on('close', () => { clearInterval(timer); resolve(answer.split('\\r\\n')[0] || 'cut'); });
    socket.write(first);
  });
}

/** One raw request on its own connection; resolves with the status line, or 'closed'. */
function raw(text) {
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), host);
    let answer = '';
    socket.on('error', () => undefined);
    socket.on('data', (d) => {
      answer += d;
      if (answer.includes('\\r\\n')) socket.destroy();
    });
    socket.on('close', () => resolve(answer.split('\\r\\n')[0] || 'closed'));
    socket.write(text);
  });
}

/** A normal small export on a fresh connection: the status and body, or the error. */
function exportOnce(path = '/v1/traces', body = '{"resourceSpans":[]}', agent = false) {
  return new Promise((resolve) => {
    const req = http.request({ host, port, path, method: 'POST', agent, headers: JSON_TYPE }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    req.on('error', (e) => resolve({ error: e.code }));
    req.end(body);
  });
}

/** Opens \`count\` connections to the endpoint's socket and holds them; resolves once all but \`kept\` were closed by the other side (or after 20 s). */
function connections(count, kept) {
  return new Promise((resolve) => {
    const sockets = [];
    let closed = 0;
    const done = () => { clearTimeout(timer); resolve({ sockets, closed }); };
    const timer = setTimeout(done, 20000);
    for (let i = 0; i < count; i += 1) {
      // Straight to the endpoint's socket, as the cheapest attacker would (the relay on 9003 leads there).
      const socket = net.connect('/run/lamina/otlp.sock');
      socket.on('error', () => undefined);
      socket.on('close', () => { closed += 1; if (closed >= count - kept) done(); });
      sockets.push(socket);
    }
  });
}

export const handler = async (event) => {
  switch (event.kind) {
    case 'flood':
      return flood('/v1/traces', event.bytes, event.declared);
    case 'slow': {
      // A body within the limit, one byte at a time; headers that never end.
      const [body, headers] = await Promise.all([
        trickle('POST /v1/traces HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\nContent-Length: 1000000\\r\\n\\r\\n', 'a'),
        trickle('POST /v1/traces HTTP/1.1\\r\\nHost: x\\r\\n', 'X-Slow: y\\r\\n'),
      ]);
      return { body, headers };
    }
    case 'hoard': {
      // Bodies announced at the 4 MiB limit, one byte sent now and then; normal exports meanwhile.
      const head = 'POST /v1/traces HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\nContent-Length: 4194304\\r\\n\\r\\n{';
      const hoarders = Array.from({ length: event.count }, () => trickle(head, ' '));
      const exports = [];
      for (let i = 0; i < 8; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        const answer = await exportOnce();
        exports.push(answer.body ?? answer.error);
      }
      return { exports, hoarders: await Promise.all(hoarders) };
    }
    case 'connections': {
      const { sockets, closed } = await connections(event.count, event.kept);
      const stillOpen = sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
      const whileHeld = await exportOnce();
      for (const socket of sockets) socket.destroy();
      // Once they are gone, a new connection is served again (the cap frees as they close).
      let after = await exportOnce();
      for (let i = 0; i < 50 && after.status !== 200; i += 1) after = await exportOnce();
      return { closed, stillOpen, whileHeld, after };
    }
    case 'paths': {
      const statuses = {};
      for (const [name, text] of Object.entries(event.requests)) statuses[name] = await raw(text);
      return statuses;
    }
    case 'burst': {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
      const answers = await Promise.all(
        Array.from({ length: event.count }, () => exportOnce('/v1/traces', '{"resourceSpans":[]}', agent)),
      );
      agent.destroy();
      return {
        statuses: [...new Set(answers.map((a) => a.status ?? a.error))],
        dropped: answers.filter((a) => String(a.body).includes('partialSuccess')).length,
      };
    }
  }
  throw new Error('unknown attack ' + event.kind);
};
`;

const GB = 1024 * 1024 * 1024;
/** The per-environment cap on OTLP connections (CONNECTIONS_PER_ENVIRONMENT.otlp). */
const OTLP_CONNECTIONS = 8;

describe('a function attacking its OTLP endpoint', () => {
  const dir = tempDir();
  const collector = new OtlpCollector();
  let collectorBase = '';
  let server: ServerProcess;
  let client: LambdaClient;
  let victim: Victim;
  let pid: number;
  let baselineMiB: number;

  before(async () => {
    collectorBase = await collector.start();
    server = await startServer({
      dataDir: `${dir.path}/data`,
      args: ['--otlp-endpoint', collectorBase],
    });
    pid = server.child.pid as number;
    client = lambdaClient(server.endpoint);
    await deploy(client, 'otlp-attacker', { 'index.mjs': ATTACKS }, { timeout: 120 });
    victim = await prepareVictim(client);
    baselineMiB = rssMiB(pid);
  });

  after(async () => {
    client.destroy();
    await server.stop();
    await collector.stop();
    dir.remove();
  });

  /** Runs an attack while the victim is invoked warm; checks the victim and the server's memory. */
  async function attack(payload: Record<string, unknown>, minInvokes = 50, repeat = false) {
    const { result, p99Ms, latenciesMs } = await victim.during(
      () => peakRssDuring(pid, () => invokeJson(client, 'otlp-attacker', payload)),
      minInvokes,
      { repeat },
    );
    const name = String(payload['kind']);
    console.log(
      `victim p99 ${p99Ms.toFixed(1)} ms (${latenciesMs.length} invokes) during ${name}; ` +
        `server RSS peak ${result.peakMiB.toFixed(0)} MiB (${baselineMiB.toFixed(0)} before)`,
    );
    assert.ok(p99Ms < VICTIM_P99_LIMIT_MS, `victim p99 ${p99Ms.toFixed(1)} ms during ${name}`);
    const grewMiB = result.peakMiB - baselineMiB;
    assert.ok(grewMiB < 150, `the server grew by ${grewMiB.toFixed(0)} MiB during ${name}`);
    const invoked = result.result;
    assert.equal(invoked.output.FunctionError, undefined, invoked.text);
    return invoked.body as Record<string, unknown>;
  }

  test('1 GB announced is refused from its Content-Length; 1 GB streamed is cut after the limit', async () => {
    const declared = await attack({ kind: 'flood', bytes: GB, declared: true }, 100, true);
    assert.match(String(declared['how']), /^413 |^error/);
    const streamed = await attack({ kind: 'flood', bytes: GB, declared: false }, 100, true);
    assert.match(String(streamed['how']), /^413 |^error|cut/);
    assert.ok(
      Number(streamed['sent']) < 64 * 1024 * 1024,
      `${String(streamed['sent'])} bytes sent`,
    );
    assert.ok(
      collector.requests.every((r) => r.bytes <= 4 * 1024 * 1024),
      'nothing over the limit reached the collector',
    );
  });

  test('a body or headers trickling for ever are cut off', async () => {
    const report = await attack({ kind: 'slow' });
    // The server gives up on them (408, or the connection closed): the function is not held.
    assert.match(String(report['body']), /^HTTP\/1\.1 408|^cut$/);
    assert.match(String(report['headers']), /^HTTP\/1\.1 408|^cut$/);
  });

  test('bodies announced at the limit and trickling hold no room: exports meanwhile are queued', async () => {
    // Four bodies announcing 4 MiB each would be twice the environment's room if held as declared.
    const report = await attack({ kind: 'hoard', count: 4 });
    assert.deepEqual(report['exports'], Array(8).fill('{}'), JSON.stringify(report));
    // Each is given up at its body deadline.
    for (const hoarder of report['hoarders'] as string[])
      assert.match(hoarder, /^HTTP\/1\.1 408|^cut$/);
  });

  test('many connections: all but the cap are closed at once; the cap frees as they go', async () => {
    const report = await attack({ kind: 'connections', count: 100, kept: OTLP_CONNECTIONS });
    assert.ok(Number(report['closed']) >= 100 - OTLP_CONNECTIONS, JSON.stringify(report));
    assert.ok(Number(report['stillOpen']) <= OTLP_CONNECTIONS, JSON.stringify(report));
    // While the cap is held, one more connection is closed rather than served.
    assert.notEqual((report['whileHeld'] as { status?: number }).status, 200);
    assert.deepEqual(report['after'], { status: 200, body: '{}' });
  });

  test('only the three signal paths reach the collector, and only the collector', async () => {
    const before = collector.requests.length;
    const json = 'Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}';
    const report = await attack({
      kind: 'paths',
      requests: {
        root: `POST / HTTP/1.1\r\nHost: x\r\n${json}`,
        traversal: `POST /v1/traces/../../admin HTTP/1.1\r\nHost: x\r\n${json}`,
        encoded: `POST /v1/%74races HTTP/1.1\r\nHost: x\r\n${json}`,
        absolute: `POST http://169.254.169.254/latest/meta-data HTTP/1.1\r\nHost: 169.254.169.254\r\n${json}`,
        absoluteSignal: `POST http://127.0.0.1:9000/v1/traces HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n${json}`,
        get: 'GET /v1/traces HTTP/1.1\r\nHost: x\r\n\r\n',
        connect: 'CONNECT 127.0.0.1:9000 HTTP/1.1\r\nHost: 127.0.0.1:9000\r\n\r\n',
        upgrade:
          'GET /v1/traces HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
        smuggled: `POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n`,
        otherHost: `POST /v1/logs HTTP/1.1\r\nHost: evil.example:4318\r\n${json}`,
      },
    });
    assert.match(String(report['root']), / 404 /);
    assert.match(String(report['traversal']), / 404 /);
    assert.match(String(report['encoded']), / 404 /);
    assert.match(String(report['absolute']), / 404 /);
    assert.match(String(report['absoluteSignal']), / 404 /);
    assert.match(String(report['get']), / 405 /);
    assert.doesNotMatch(String(report['connect']), / 2\d\d /);
    assert.doesNotMatch(String(report['upgrade']), / 101 /);
    assert.match(String(report['smuggled']), / 400 |closed/);
    assert.match(String(report['otherHost']), / 200 /);
    // Only the last one was forwarded, to the collector's own address and path.
    const forwarded = await collector.until(() =>
      collector.requests.length > before ? collector.requests.slice(before) : undefined,
    );
    assert.deepEqual(
      forwarded.map((r) => [r.path, r.headers['host']]),
      [['/v1/logs', collectorBase.slice('http://'.length)]],
    );
  });

  test('a hanging collector: every export is answered, those past the queue dropped, the server serves on', async () => {
    collector.behaviour = 'hang';
    try {
      const report = await attack({ kind: 'burst', count: 200 });
      assert.deepEqual(report['statuses'], [200]);
      // One environment may have 32 bodies waiting; the rest are dropped and say so.
      assert.ok(Number(report['dropped']) >= 200 - 32, JSON.stringify(report));
    } finally {
      collector.release();
    }
    // Once the collector answers again, exports go through again.
    const before = collector.requests.length;
    const again = await invokeJson(client, 'otlp-attacker', {
      kind: 'paths',
      requests: {
        fresh:
          'POST /v1/metrics HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
      },
    });
    assert.match(String((again.body as Record<string, unknown>)['fresh']), / 200 /);
    await collector.until(() =>
      collector.requests.slice(before).find((r) => r.path === '/v1/metrics'),
    );
  });

  test('once the attacks are over, the server gives its memory back', async () => {
    const endMiB = await memoryReturns(pid, baselineMiB);
    console.log(
      `server RSS ${baselineMiB.toFixed(0)} MiB before the attacks, ${endMiB.toFixed(0)} after`,
    );
    const again = await invokeJson(client, victim.name, { n: 7 });
    assert.deepEqual(again.body, { ok: true, n: 7 });
  });
});
