/**
 * End to end: trace context through the built server, and the platform's spans at a real OTLP/HTTP
 * receiver (`--otlp-endpoint`). A caller's `X-Amzn-Trace-Id` or `traceparent` (Invoke,
 * InvokeWithResponseStream, a function URL, an Event invoke) reaches the function as
 * `_X_AMZN_TRACE_ID` with the caller's Root and decision; TracingConfig Active samples what
 * comes undecided; an asynchronous event's destination continues its trace; the collector gets
 * the spans of sampled invocations. A collector that hangs, or is down, costs invokes nothing:
 * spans are dropped, and the server says so.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  AddPermissionCommand,
  CreateFunctionUrlConfigCommand,
  InvokeCommand,
  InvokeWithResponseStreamCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { EventsApi } from '../helpers/async-events.js';
import { deploy } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import { poll } from '../helpers/poll.js';
import { OtlpCollector, traceIdOfXRay, xrayField } from '../helpers/otlp-collector.js';
import {
  startServer,
  tempDir,
  TEST_CREDENTIALS,
  type ServerProcess,
} from '../helpers/server-process.js';
import { PUBLIC_URL, urlRequest } from '../helpers/url-request.js';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function';
/** Answers the trace header the invocation ran with. */
const TRACE_REPORTER = {
  'index.js': 'exports.handler = async () => ({ trace: process.env._X_AMZN_TRACE_ID ?? null });',
};

/**
 * An internal extension (loaded with NODE_OPTIONS=--import) subscribed to the Telemetry API's
 * platform events; the handler returns the trace header it ran with and what arrived so far.
 */
const TELEMETRY_PROBE = `
import http from 'node:http';
const api = process.env.AWS_LAMBDA_RUNTIME_API;
const state = (globalThis.__probe = { telemetry: [] });
function call(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const [host, port] = api.split(':');
    const req = http.request({ host, port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const listener = http.createServer((req, res) => {
  let text = '';
  req.on('data', (c) => (text += c));
  req.on('end', () => { state.telemetry.push(...JSON.parse(text)); res.end(); });
});
await new Promise((resolve) => listener.listen(4250, 'sandbox.localdomain', resolve));
listener.unref();
const reg = await call('POST', '/2020-01-01/extension/register', { 'Lambda-Extension-Name': 'trace-probe' },
  JSON.stringify({ events: [] }));
await call('PUT', '/2022-07-01/telemetry', { 'Lambda-Extension-Identifier': reg.headers['lambda-extension-identifier'] },
  JSON.stringify({ schemaVersion: '2022-12-13', types: ['platform'], buffering: { timeoutMs: 25 },
    destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:4250/' } }));
void call('GET', '/2020-01-01/extension/event/next', { 'Lambda-Extension-Identifier': reg.headers['lambda-extension-identifier'] });
`;
const TELEMETRY_HANDLER = `
exports.handler = async () => ({ trace: process.env._X_AMZN_TRACE_ID, telemetry: globalThis.__probe.telemetry });
`;

/** A caller's trace: a fresh trace id and span id. */
function callerTrace(): { traceId: string; parentId: string } {
  return {
    traceId: `${Math.floor(Date.now() / 1000).toString(16)}${randomBytes(12).toString('hex')}`,
    parentId: randomBytes(8).toString('hex'),
  };
}

function xrayHeader(trace: { traceId: string; parentId: string }, sampled: '0' | '1'): string {
  return `Root=1-${trace.traceId.slice(0, 8)}-${trace.traceId.slice(8)};Parent=${trace.parentId};Sampled=${sampled}`;
}

/** Sends `command` with extra request headers (the caller's trace). */
async function withHeaders<T>(
  client: LambdaClient,
  command: InvokeCommand | InvokeWithResponseStreamCommand,
  headers: Record<string, string>,
): Promise<T> {
  // Both commands have the same middleware stack at run time; one type serves for adding to it.
  (command as InvokeCommand).middlewareStack.add(
    (next) => async (args) => {
      Object.assign((args.request as { headers: Record<string, string> }).headers, headers);
      return next(args);
    },
    { step: 'build', name: 'callerTraceHeaders' },
  );
  return (await client.send(command as InvokeCommand)) as T;
}

/** The trace header a TRACE_REPORTER function saw, invoked with `headers`. */
async function traceSeen(
  client: LambdaClient,
  name: string,
  headers: Record<string, string> = {},
): Promise<string> {
  const output = await withHeaders<{ Payload?: Uint8Array; FunctionError?: string }>(
    client,
    new InvokeCommand({ FunctionName: name }),
    headers,
  );
  const text = Buffer.from(output.Payload ?? new Uint8Array()).toString('utf8');
  assert.equal(output.FunctionError, undefined, text);
  return (JSON.parse(text) as { trace: string }).trace;
}

async function setTracing(client: LambdaClient, name: string, mode: 'Active' | 'PassThrough') {
  await client.send(
    new UpdateFunctionConfigurationCommand({ FunctionName: name, TracingConfig: { Mode: mode } }),
  );
  await waitUntilFunctionUpdatedV2(
    { client, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { FunctionName: name },
  );
}

describe('trace context and platform spans (--otlp-endpoint)', () => {
  const dir = tempDir();
  const collector = new OtlpCollector();
  let server: ServerProcess;
  let client: LambdaClient;

  before(async () => {
    const endpoint = await collector.start();
    server = await startServer({ dataDir: dir.path, args: ['--otlp-endpoint', endpoint] });
    client = lambdaClient(server.endpoint);
    await deploy(client, 'passthrough', TRACE_REPORTER);
    await deploy(client, 'active', TRACE_REPORTER);
    await setTracing(client, 'active', 'Active');
  });

  after(async () => {
    client.destroy();
    await server.stop();
    await collector.stop();
    dir.remove();
  });

  test("X-Amzn-Trace-Id: the function runs in the caller's trace, under a new Parent", async () => {
    const caller = callerTrace();
    const seen = await traceSeen(client, 'passthrough', {
      'X-Amzn-Trace-Id': xrayHeader(caller, '1'),
    });
    assert.equal(traceIdOfXRay(seen), caller.traceId, seen);
    assert.equal(xrayField(seen, 'Sampled'), '1');
    const parent = xrayField(seen, 'Parent') ?? '';
    assert.match(parent, /^[0-9a-f]{16}$/);
    assert.notEqual(parent, caller.parentId);

    // The platform's spans: Invoke under the caller's span; Invocation is the function's Parent.
    const invoke = await collector.span((s) => s.traceId === caller.traceId && s.name === 'Invoke');
    assert.equal(invoke.parentSpanId, caller.parentId);
    assert.equal(invoke.resource['service.name'], 'passthrough');
    assert.equal(invoke.resource['faas.name'], 'passthrough');
    const invocation = await collector.span(
      (s) => s.traceId === caller.traceId && s.name === 'Invocation',
    );
    assert.equal(invocation.spanId, parent);
    assert.equal(invocation.parentSpanId, invoke.spanId);
    // This was the function's first invocation: a cold start, with its init.
    const init = await collector.span(
      (s) => s.traceId === caller.traceId && s.name === 'Initialization',
    );
    assert.equal(init.parentSpanId, invoke.spanId);
    assert.deepEqual(invoke.attributes?.find((a) => a.key === 'faas.coldstart')?.value, {
      boolValue: true,
    });
  });

  test("the caller's Sampled=0 stands, even for an Active function; no spans are made", async () => {
    const caller = callerTrace();
    const seen = await traceSeen(client, 'active', { 'X-Amzn-Trace-Id': xrayHeader(caller, '0') });
    assert.equal(traceIdOfXRay(seen), caller.traceId);
    assert.equal(xrayField(seen, 'Sampled'), '0');
    // A later sampled invocation's spans arrive; none of the unsampled trace came before them.
    const marker = callerTrace();
    await traceSeen(client, 'active', { 'X-Amzn-Trace-Id': xrayHeader(marker, '1') });
    await collector.span((s) => s.traceId === marker.traceId && s.name === 'Invoke');
    assert.equal(
      collector.spans.some((s) => s.traceId === caller.traceId),
      false,
    );
  });

  test('traceparent when there is no X-Ray header; the X-Ray header wins over it', async () => {
    const caller = callerTrace();
    const seen = await traceSeen(client, 'passthrough', {
      traceparent: `00-${caller.traceId}-${caller.parentId}-01`,
    });
    assert.equal(traceIdOfXRay(seen), caller.traceId, seen);
    assert.equal(xrayField(seen, 'Sampled'), '1');
    const unsampled = callerTrace();
    const notSampled = await traceSeen(client, 'passthrough', {
      traceparent: `00-${unsampled.traceId}-${unsampled.parentId}-00`,
    });
    assert.equal(traceIdOfXRay(notSampled), unsampled.traceId);
    assert.equal(xrayField(notSampled, 'Sampled'), '0');
    const both = await traceSeen(client, 'passthrough', {
      'X-Amzn-Trace-Id': xrayHeader(caller, '0'),
      traceparent: `00-${unsampled.traceId}-${unsampled.parentId}-01`,
    });
    assert.equal(traceIdOfXRay(both), caller.traceId);
    assert.equal(xrayField(both, 'Sampled'), '0');
    const invoke = await collector.span((s) => s.traceId === caller.traceId && s.name === 'Invoke');
    assert.equal(invoke.parentSpanId, caller.parentId);
  });

  test('without a header: PassThrough is not sampled, Active is (and its spans are exported)', async () => {
    const passthrough = await traceSeen(client, 'passthrough');
    assert.equal(xrayField(passthrough, 'Sampled'), '0');
    const active = await traceSeen(client, 'active');
    assert.equal(xrayField(active, 'Sampled'), '1');
    const traceId = traceIdOfXRay(active) ?? '';
    assert.notEqual(traceId, traceIdOfXRay(passthrough));
    // A new trace starts with the epoch second, as X-Ray's Root does.
    assert.ok(Math.abs(parseInt(traceId.slice(0, 8), 16) - Date.now() / 1000) < 600);
    const invoke = await collector.span((s) => s.traceId === traceId && s.name === 'Invoke');
    assert.equal(invoke.parentSpanId, undefined);
    assert.equal(invoke.resource['service.name'], 'active');
  });

  test("InvokeWithResponseStream honours the caller's header too", async () => {
    const caller = callerTrace();
    const output = await withHeaders<{
      EventStream?: AsyncIterable<{ PayloadChunk?: { Payload?: Uint8Array } }>;
    }>(client, new InvokeWithResponseStreamCommand({ FunctionName: 'passthrough' }), {
      'X-Amzn-Trace-Id': xrayHeader(caller, '1'),
    });
    const chunks: Buffer[] = [];
    for await (const event of output.EventStream ?? [])
      if (event.PayloadChunk?.Payload !== undefined)
        chunks.push(Buffer.from(event.PayloadChunk.Payload));
    const seen = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { trace: string }).trace;
    assert.equal(traceIdOfXRay(seen), caller.traceId);
    assert.equal(xrayField(seen, 'Sampled'), '1');
  });

  test('a function URL request carries its traceparent into the function', async () => {
    const created = await client.send(
      new CreateFunctionUrlConfigCommand({ FunctionName: 'passthrough', AuthType: 'NONE' }),
    );
    await client.send(new AddPermissionCommand({ FunctionName: 'passthrough', ...PUBLIC_URL }));
    const caller = callerTrace();
    const answer = await urlRequest(created.FunctionUrl ?? '', {
      headers: { traceparent: `00-${caller.traceId}-${caller.parentId}-01` },
    });
    assert.equal(answer.status, 200, answer.body.toString());
    const seen = (answer.json() as { trace: string }).trace;
    assert.equal(traceIdOfXRay(seen), caller.traceId);
    assert.equal(xrayField(seen, 'Sampled'), '1');
    const invoke = await collector.span((s) => s.traceId === caller.traceId && s.name === 'Invoke');
    assert.deepEqual(invoke.attributes?.find((a) => a.key === 'faas.trigger')?.value, {
      stringValue: 'http',
    });
  });

  test("the Telemetry API's platform.start, runtimeDone and report carry the invocation's header", async () => {
    await deploy(
      client,
      'telemetry',
      { 'index.js': TELEMETRY_HANDLER, 'probe.mjs': TELEMETRY_PROBE },
      { environment: { NODE_OPTIONS: '--import /var/task/probe.mjs' } },
    );
    const caller = callerTrace();
    const first = await withHeaders<{ Payload?: Uint8Array; $metadata: { requestId?: string } }>(
      client,
      new InvokeCommand({ FunctionName: 'telemetry' }),
      { 'X-Amzn-Trace-Id': xrayHeader(caller, '1') },
    );
    const firstId = first.$metadata.requestId ?? '';
    const seen = (
      JSON.parse(Buffer.from(first.Payload ?? new Uint8Array()).toString()) as {
        trace: string;
      }
    ).trace;
    assert.equal(traceIdOfXRay(seen), caller.traceId);
    type Event = { type: string; record: { requestId?: string; tracing?: unknown } };
    // The report of an invocation arrives after it ended: later invocations return it.
    const telemetry = await poll(
      async () => {
        const output = await client.send(new InvokeCommand({ FunctionName: 'telemetry' }));
        const body = Buffer.from(output.Payload ?? new Uint8Array()).toString();
        return (JSON.parse(body) as { telemetry: Event[] }).telemetry;
      },
      (events) =>
        events.some((e) => e.type === 'platform.report' && e.record.requestId === firstId),
      30_000,
      "the first invocation's platform.report",
    );
    for (const type of ['platform.start', 'platform.runtimeDone', 'platform.report']) {
      const event = telemetry.find((e) => e.type === type && e.record.requestId === firstId);
      assert.deepEqual(event?.record.tracing, { type: 'X-Amzn-Trace-Id', value: seen }, type);
    }
  });

  test("an Event invoke's trace continues in every attempt and in its destination", async () => {
    await deploy(client, 'source', TRACE_REPORTER);
    await deploy(client, 'destination', {
      'index.js':
        'exports.handler = async (record) => ({ trace: process.env._X_AMZN_TRACE_ID, requestId: record.requestContext.requestId });',
    });
    await client.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: 'source',
        DestinationConfig: { OnSuccess: { Destination: `${ARN}:destination` } },
      }),
    );
    const caller = callerTrace();
    const accepted = await withHeaders<{ StatusCode?: number; $metadata: { requestId?: string } }>(
      client,
      new InvokeCommand({
        FunctionName: 'source',
        InvocationType: 'Event',
        Payload: Buffer.from('{}'),
      }),
      { 'X-Amzn-Trace-Id': xrayHeader(caller, '1') },
    );
    assert.equal(accepted.StatusCode, 202);
    const events = new EventsApi(server.endpoint, TEST_CREDENTIALS);
    const done = await events.waitFor(
      accepted.$metadata.requestId ?? '',
      (e) => e.Status === 'Succeeded',
    );
    const sourceTrace = (done.Response as { trace: string }).trace;
    assert.equal(traceIdOfXRay(sourceTrace), caller.traceId, sourceTrace);
    assert.equal(xrayField(sourceTrace, 'Sampled'), '1');

    const [delivered] = await events.waitForList('destination', (list) =>
      list.some((e) => e.Status === 'Succeeded'),
    );
    const destination = delivered?.Response as { trace: string; requestId: string };
    assert.equal(destination.requestId, accepted.$metadata.requestId);
    assert.equal(traceIdOfXRay(destination.trace), caller.traceId, destination.trace);
    assert.equal(xrayField(destination.trace, 'Sampled'), '1');

    // The attempt's time in the queue, under the caller's span, is the parent of its Invoke.
    const dwell = await collector.span(
      (s) =>
        s.traceId === caller.traceId &&
        s.name === 'Dwell Time' &&
        s.resource['service.name'] === 'source',
    );
    assert.equal(dwell.parentSpanId, caller.parentId);
    const invoke = await collector.span(
      (s) =>
        s.traceId === caller.traceId &&
        s.name === 'Invoke' &&
        s.resource['service.name'] === 'source',
    );
    assert.equal(invoke.parentSpanId, dwell.spanId);
    await collector.span(
      (s) =>
        s.traceId === caller.traceId &&
        s.name === 'Invoke' &&
        s.resource['service.name'] === 'destination',
    );
  });

  test('an Event invoke without a header: attempt and destination still share one trace', async () => {
    await deploy(client, 'lone-source', TRACE_REPORTER);
    await deploy(client, 'lone-destination', {
      'index.js': 'exports.handler = async () => ({ trace: process.env._X_AMZN_TRACE_ID });',
    });
    await client.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: 'lone-source',
        DestinationConfig: { OnSuccess: { Destination: `${ARN}:lone-destination` } },
      }),
    );
    const accepted = await client.send(
      new InvokeCommand({ FunctionName: 'lone-source', InvocationType: 'Event' }),
    );
    const events = new EventsApi(server.endpoint, TEST_CREDENTIALS);
    const done = await events.waitFor(
      accepted.$metadata.requestId ?? '',
      (e) => e.Status === 'Succeeded',
    );
    const sourceTrace = (done.Response as { trace: string }).trace;
    assert.equal(xrayField(sourceTrace, 'Sampled'), '0');
    const [delivered] = await events.waitForList('lone-destination', (list) =>
      list.some((e) => e.Status === 'Succeeded'),
    );
    const destinationTrace = (delivered?.Response as { trace: string }).trace;
    assert.equal(traceIdOfXRay(destinationTrace), traceIdOfXRay(sourceTrace));
  });
});

/** Resolves with the first line of the server's output that `pattern` matches (no polling). */
function outputLine(server: ServerProcess, pattern: RegExp, deadlineMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const line = server
        .output()
        .split('\n')
        .find((l) => pattern.test(l));
      if (line === undefined) return;
      server.child.stdout?.off('data', check);
      clearTimeout(timer);
      resolve(line);
    };
    const timer = setTimeout(() => {
      server.child.stdout?.off('data', check);
      reject(new Error(`no output line matching ${String(pattern)} in ${deadlineMs} ms`));
    }, deadlineMs);
    server.child.stdout?.on('data', check);
    check();
  });
}

for (const collectorState of ['hangs', 'is down'] as const) {
  describe(`a collector that ${collectorState} never slows invokes: spans are dropped and counted`, () => {
    const dir = tempDir();
    const collector = new OtlpCollector();
    let server: ServerProcess;
    let client: LambdaClient;

    before(async () => {
      const endpoint = await collector.start();
      if (collectorState === 'hangs') collector.behaviour = 'hang';
      // A port nothing listens on any more.
      else await collector.stop();
      server = await startServer({
        dataDir: dir.path,
        args: ['--otlp-endpoint', endpoint, '--otlp-span-buffer', '8'],
      });
      client = lambdaClient(server.endpoint);
      await deploy(client, 'traced', TRACE_REPORTER);
      await setTracing(client, 'traced', 'Active');
    });

    after(async () => {
      client.destroy();
      await server.stop();
      if (collectorState === 'hangs') await collector.stop();
      dir.remove();
    });

    test('every invoke succeeds, sampled, and the server reports the spans it dropped', async () => {
      for (let i = 0; i < 20; i += 1) {
        const seen = await traceSeen(client, 'traced');
        assert.equal(xrayField(seen, 'Sampled'), '1');
      }
      const line = await outputLine(server, /platform spans dropped/);
      const { spans } = JSON.parse(line) as { spans: { dropped: number; exported: number } };
      assert.ok(spans.dropped > 0, line);
      assert.equal(spans.exported, 0);
    });
  });
}
