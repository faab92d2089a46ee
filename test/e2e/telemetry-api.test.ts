/**
 * The Extensions and Telemetry APIs end to end, from inside a real sandbox: an internal extension
 * (loaded into the Node.js runtime process with NODE_OPTIONS=--import) registers for INVOKE,
 * subscribes to the Telemetry API with an HTTP listener on sandbox.localdomain (a second one over
 * TCP), and keeps what it receives; the function returns it, so the test sees exactly what the
 * extensions got.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deploy, invokeJson } from '../helpers/functions.js';
import { poll } from '../helpers/poll.js';
import { useServer } from '../helpers/server-suite.js';

/** The internal extension: plain Node.js, top-level await so it registers before the handler loads. */
const EXTENSION = `
import http from 'node:http';
import net from 'node:net';
const api = process.env.AWS_LAMBDA_RUNTIME_API;
const state = (globalThis.__ext = { events: [], telemetry: [], tcp: [], register: null, subscribe: null });
function call(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const [host, port] = api.split(':');
    const req = http.request({ host, port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
state.call = call;
const listener = http.createServer((req, res) => {
  let text = '';
  req.on('data', (c) => (text += c));
  req.on('end', () => {
    state.telemetry.push({ path: req.url, contentType: req.headers['content-type'], batch: JSON.parse(text) });
    res.end();
  });
});
await new Promise((resolve) => listener.listen(4243, 'sandbox.localdomain', resolve));
listener.unref();
const reg = await call('POST', '/2020-01-01/extension/register',
  { 'Lambda-Extension-Name': 'probe', 'Lambda-Extension-Accept-Feature': 'accountId' },
  JSON.stringify({ events: ['INVOKE'] }));
state.register = { status: reg.status, id: reg.headers['lambda-extension-identifier'], body: JSON.parse(reg.text) };
const id = state.register.id;
const sub = await call('PUT', '/2022-07-01/telemetry', { 'Lambda-Extension-Identifier': id },
  JSON.stringify({ schemaVersion: '2022-12-13', types: ['platform', 'function'],
    buffering: { maxItems: 1000, maxBytes: 262144, timeoutMs: 25 },
    destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:4243/telemetry' } }));
state.subscribe = { status: sub.status, text: sub.text };
// A second extension takes the events as NDJSON over TCP.
const tcp = net.createServer((socket) => {
  let rest = '';
  socket.on('data', (chunk) => {
    const lines = (rest + chunk).split('\\n');
    rest = lines.pop();
    for (const line of lines) state.tcp.push(JSON.parse(line));
  });
});
await new Promise((resolve) => tcp.listen(4245, '127.0.0.1', resolve));
tcp.unref();
const tcpReg = await call('POST', '/2020-01-01/extension/register', { 'Lambda-Extension-Name': 'tcp-probe' }, '{"events":[]}');
const tcpId = tcpReg.headers['lambda-extension-identifier'];
const tcpSub = await call('PUT', '/2022-07-01/telemetry', { 'Lambda-Extension-Identifier': tcpId },
  JSON.stringify({ schemaVersion: '2022-12-13', types: ['platform'], buffering: { timeoutMs: 25 },
    destination: { protocol: 'TCP', port: 4245 } }));
state.tcpSubscribe = tcpSub.status;
void call('GET', '/2020-01-01/extension/event/next', { 'Lambda-Extension-Identifier': tcpId });
(async () => {
  for (;;) {
    const next = await call('GET', '/2020-01-01/extension/event/next', { 'Lambda-Extension-Identifier': id });
    state.events.push(JSON.parse(next.text));
  }
})();
`;

const HANDLER = `
exports.handler = async (event, context) => {
  const state = globalThis.__ext;
  console.log('handler ran for ' + context.awsRequestId);
  let late;
  if (event.late) {
    const headers = { 'Lambda-Extension-Identifier': state.register.id };
    const sub = await state.call('PUT', '/2022-07-01/telemetry', headers,
      JSON.stringify({ schemaVersion: '2022-12-13', types: ['platform'],
        destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:4243/' } }));
    const reg = await state.call('POST', '/2020-01-01/extension/register',
      { 'Lambda-Extension-Name': 'late' }, '{"events":[]}');
    late = { subscribe: [sub.status, JSON.parse(sub.text)], register: [reg.status, JSON.parse(reg.text)] };
  }
  return { register: state.register, subscribe: state.subscribe, events: state.events, tcp: state.tcp, tcpSubscribe: state.tcpSubscribe,
    telemetry: state.telemetry.flatMap((t) => t.batch.map((e) => ({ ...e, path: t.path, contentType: t.contentType }))), late };
};
`;

interface Received {
  register: { status: number; id: string; body: Record<string, string> };
  subscribe: { status: number; text: string };
  events: Array<Record<string, unknown>>;
  telemetry: Array<{
    type: string;
    time: string;
    record: Record<string, unknown>;
    path: string;
    contentType: string;
  }>;
  tcp: Array<{ type: string; record: Record<string, unknown> }>;
  tcpSubscribe: number;
  late?: {
    subscribe: [number, Record<string, string>];
    register: [number, Record<string, string>];
  };
}

describe('Extensions and Telemetry API inside the sandbox', () => {
  const suite = useServer();

  test('an internal extension registers, gets INVOKE, and receives platform events and function logs', async () => {
    await deploy(
      suite.client,
      'telemetry-fn',
      { 'index.js': HANDLER, 'ext.mjs': EXTENSION },
      { environment: { NODE_OPTIONS: '--import /var/task/ext.mjs' }, memorySize: 256 },
    );
    const first = await invokeJson(suite.client, 'telemetry-fn', {}, { LogType: 'Tail' });
    const firstId = first.output.$metadata.requestId ?? '';
    const got = first.body as Received;
    assert.equal(got.register.status, 200);
    assert.match(got.register.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(got.register.body, {
      functionName: 'telemetry-fn',
      functionVersion: '$LATEST',
      handler: 'index.handler',
      accountId: '000000000000',
    });
    assert.deepEqual(got.subscribe, { status: 200, text: '"OK"' });
    assert.equal(got.tcpSubscribe, 200);
    assert.match(first.log, new RegExp(`handler ran for ${firstId}`));

    // The report of the first invocation arrives after it ended: later invocations return it.
    const later = await poll(
      async () => (await invokeJson(suite.client, 'telemetry-fn', {})).body as Received,
      (r) =>
        r.telemetry.some((e) => e.type === 'platform.report' && e.record.requestId === firstId),
      30_000,
      'INVOKE and platform.report of the first invocation',
    );
    // The INVOKE event of the first invocation reached the extension.
    const invoke = later.events.find((e) => e['requestId'] === firstId);
    assert.ok(invoke, JSON.stringify(later.events));
    assert.equal(invoke['eventType'], 'INVOKE');
    assert.equal(typeof invoke['deadlineMs'], 'number');
    assert.match(String(invoke['invokedFunctionArn']), /:function:telemetry-fn$/);
    assert.equal((invoke['tracing'] as { type: string }).type, 'X-Amzn-Trace-Id');
    const types = later.telemetry.map((e) => e.type);
    for (const type of [
      'platform.initStart',
      'platform.telemetrySubscription',
      'platform.initRuntimeDone',
      'platform.extension',
      'platform.initReport',
      'platform.start',
      'platform.runtimeDone',
      'platform.report',
      'function',
    ])
      assert.ok(types.includes(type), `${type} in ${types.join(', ')}`);
    const report = later.telemetry.find(
      (e) => e.type === 'platform.report' && e.record.requestId === firstId,
    );
    assert.ok(report);
    assert.equal(report.path, '/telemetry');
    assert.equal(report.contentType, 'application/json');
    assert.ok(!Number.isNaN(Date.parse(report.time)));
    assert.equal(report.record.status, 'success');
    const metrics = report.record.metrics as Record<string, number>;
    assert.equal(metrics['memorySizeMB'], 256);
    for (const field of ['durationMs', 'billedDurationMs', 'maxMemoryUsedMB', 'initDurationMs'])
      assert.equal(typeof metrics[field], 'number', field);
    const extension = later.telemetry.find((e) => e.type === 'platform.extension');
    assert.deepEqual(extension?.record, { name: 'probe', state: 'Ready', events: ['INVOKE'] });
    const initStart = later.telemetry.find((e) => e.type === 'platform.initStart');
    assert.equal(initStart?.record.functionName, 'telemetry-fn');
    assert.equal(initStart?.record.initializationType, 'on-demand');
    const log = later.telemetry.find(
      (e) =>
        e.type === 'function' &&
        (e.record as unknown as string).includes(`handler ran for ${firstId}`),
    );
    assert.ok(log, 'the handler’s console.log line arrives as a function event');
  });

  test('after init, subscriptions and registrations are closed', async () => {
    const { body } = await invokeJson(suite.client, 'telemetry-fn', { late: true });
    const late = (body as Received).late;
    assert.deepEqual(late?.subscribe, [
      403,
      {
        errorMessage: 'Telemetry API subscription is closed',
        errorType: 'Telemetry.SubscriptionClosed',
      },
    ]);
    assert.deepEqual(late?.register, [
      403,
      {
        errorMessage: 'Extension registration closed already',
        errorType: 'Extension.RegistrationClosed',
      },
    ]);
  });
});
