/**
 * Finding 1: a function crashed the server through its own Runtime API. Error bodies had no size
 * limit (1.5 GB posted to `/error` came back as a 1.5 GB Invoke response; 4.4 GB made the server
 * exit in Buffer.concat). Now every body a function can send is bounded while it is read: over
 * the limit the invocation fails with Function.ResponseSizeTooLarge, the rest is dropped and the
 * connection cut, and the server's memory never holds more than the limit.
 *
 * Each attack runs from inside a real function against the environment's own Runtime API
 * (AWS_LAMBDA_RUNTIME_API), while a second function is invoked warm and the server's memory is
 * watched.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ListFunctionsCommand, type LambdaClient } from '@aws-sdk/client-lambda';
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
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';

/** Posts up to `total` bytes to the environment's own Runtime API; stops when answered or cut. */
const FLOOD = `
import http from 'node:http';
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
export function flood(path, total, { declared = false, method = 'POST', headers = {} } = {}) {
  return new Promise((resolve) => {
    const req = http.request({
      host, port, path, method,
      headers: { ...headers, ...(declared ? { 'Content-Length': String(total) } : { 'Transfer-Encoding': 'chunked' }) },
    });
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    let sent = 0;
    let done = false;
    const finish = (how) => { if (!done) { done = true; resolve({ sent, how }); } };
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => finish(res.statusCode + ' ' + body.slice(0, 300)));
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
`;

const GB = 1024 * 1024 * 1024;

describe('bodies a function sends to its Runtime API are bounded', () => {
  const dir = tempDir();
  let server: ServerProcess;
  let client: LambdaClient;
  let victim: Victim;
  let pid: number;
  let baselineMiB: number;

  before(async () => {
    server = await startServer({ dataDir: `${dir.path}/data` });
    pid = server.child.pid as number;
    client = lambdaClient(server.endpoint);
    await deploy(client, 'answer-flood', {
      'flood.mjs': FLOOD,
      'index.mjs': `
import { flood } from './flood.mjs';
export const handler = async (event, context) => {
  const path = '/2018-06-01/runtime/invocation/' + context.awsRequestId + '/' + event.kind;
  return flood(path, event.bytes, { declared: event.declared });
};`,
    });
    await deploy(client, 'init-flood', {
      'flood.mjs': FLOOD,
      'index.mjs': `
import { flood } from './flood.mjs';
await flood('/2018-06-01/runtime/init/error', ${1.5 * GB}, { headers: { 'Lambda-Runtime-Function-Error-Type': 'Big' } });
export const handler = async () => 'init survived';`,
    });
    await deploy(client, 'extension-flood', {
      'flood.mjs': FLOOD,
      'index.mjs': `
import { flood } from './flood.mjs';
const id = '00000000-0000-4000-8000-000000000000';
export const handler = async () => ({
  register: await flood('/2020-01-01/extension/register', ${GB}, { headers: { 'Lambda-Extension-Name': 'x' } }),
  telemetry: await flood('/2022-07-01/telemetry', ${GB}, { method: 'PUT', headers: { 'Lambda-Extension-Identifier': id } }),
  unknownPath: await flood('/nowhere', ${GB}),
});`,
    });
    await deploy(client, 'frame-flood', {
      'index.mjs': `
import net from 'node:net';
// The runtime channel, then a frame header that announces a body over the limit and stops.
export const handler = async () => new Promise((resolve) => {
  const socket = net.connect('/run/lamina/runtime.sock');
  socket.on('error', () => resolve('cut'));
  socket.on('connect', () => socket.write('GET /lamina/2026-11-01/runtime-channel HTTP/1.1\\r\\nHost: x\\r\\nConnection: Upgrade\\r\\nUpgrade: lamina-runtime-channel\\r\\n\\r\\n'));
  socket.once('data', (answer) => {
    socket.write(Buffer.from([0, 0x70, 0, 5, 2, 0, 0, 0, 0]), () => resolve(String(answer).split('\\r\\n')[0]));
  });
});`,
    });
    victim = await prepareVictim(client);
    baselineMiB = rssMiB(pid);
  });

  after(async () => {
    client.destroy();
    await server.stop();
    dir.remove();
  });

  /**
   * Runs an attack invoke, again and again until the victim has been timed 300 times while one
   * ran, and watches the memory; resolves with the first attack's result. Each round ends the
   * attacker's environment: the next is a cold start, and cold starts on two vCPUs delay a warm
   * neighbour now and then whatever the attack. Of 100 timings the 99th percentile is the second
   * slowest, two such delays decide it; of 300 it is the fourth, a percentile rather than the
   * worst luck.
   */
  async function attack(name: string, payload: unknown) {
    const { result, p99Ms, latenciesMs } = await victim.during(
      () => peakRssDuring(pid, () => invokeJson(client, name, payload)),
      300,
      { repeat: true },
    );
    console.log(
      `victim p99 ${p99Ms.toFixed(1)} ms (${latenciesMs.length} invokes) during ${name}; ` +
        `server RSS peak ${result.peakMiB.toFixed(0)} MiB (${baselineMiB.toFixed(0)} before)`,
    );
    assert.ok(p99Ms < VICTIM_P99_LIMIT_MS, `victim p99 ${p99Ms.toFixed(1)} ms during ${name}`);
    const grewMiB = result.peakMiB - baselineMiB;
    assert.ok(grewMiB < 150, `the server grew by ${grewMiB.toFixed(0)} MiB during ${name}`);
    return result.result;
  }

  const tooLarge = (invoked: Awaited<ReturnType<typeof invokeJson>>) => {
    assert.equal(invoked.output.FunctionError, 'Unhandled', invoked.text);
    assert.equal(
      (invoked.body as { errorType?: string }).errorType,
      'Function.ResponseSizeTooLarge',
    );
    assert.ok(invoked.text.length < 1000, `an answer of ${invoked.text.length} bytes`);
  };

  test('1.5 GB posted to /error, chunked, fails the invocation and is not relayed', async () => {
    tooLarge(await attack('answer-flood', { kind: 'error', bytes: 1.5 * GB }));
  });

  test('4.4 GB announced to /error is refused from its Content-Length; the server lives on', async () => {
    tooLarge(await attack('answer-flood', { kind: 'error', bytes: 4_400_000_000, declared: true }));
    await client.send(new ListFunctionsCommand({}));
  });

  test('1.5 GB posted to /response, chunked, fails the same way', async () => {
    tooLarge(await attack('answer-flood', { kind: 'response', bytes: 1.5 * GB }));
  });

  test('1.5 GB posted to /init/error fails init with the size error', async () => {
    const invoked = await attack('init-flood', {});
    assert.equal(invoked.output.FunctionError, 'Unhandled', invoked.text);
    assert.match(invoked.text, /Function\.ResponseSizeTooLarge/);
    assert.ok(invoked.text.length < 1000);
  });

  test('extension and telemetry requests of 1 GB, and any path, are cut off after their limit', async () => {
    const invoked = await attack('extension-flood', {});
    const report = invoked.body as Record<string, { sent: number; how: string }>;
    for (const [name, result] of Object.entries(report)) {
      // Refused (413/404) or cut once the server has dropped its margin: never read to the end.
      assert.ok(
        result.sent < 64 * 1024 * 1024,
        `${name}: ${result.sent} bytes sent (${result.how})`,
      );
    }
    assert.match(report['register']?.how ?? '', /^413 .*RequestEntityTooLarge|error|cut/);
  });

  test('a runtime channel frame announcing too large a body, then silence, changes nothing', async () => {
    const invoked = await attack('frame-flood', {});
    assert.equal(invoked.body, 'HTTP/1.1 101 Switching Protocols');
    await client.send(new ListFunctionsCommand({}));
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
