/**
 * End to end: with `--otlp-endpoint`, a function's own spans made with the OpenTelemetry SDK
 * (shipped in its zip, unmodified, configured by OTEL_EXPORTER_OTLP_ENDPOINT alone) reach the
 * collector through its environment's endpoint, in the trace of the invocation: the span's trace
 * id is the Root of the function's `_X_AMZN_TRACE_ID`, which is the caller's. Under both drivers
 * (bubblewrap, and `--unsafe-plain-processes`); and without the flag there is no endpoint.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { deploy, invokeJson } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import { packageEntries } from '../helpers/node-packages.js';
import { OtlpCollector, traceIdOfXRay, xrayField } from '../helpers/otlp-collector.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';

/**
 * The handler of docs/guide/tracing.md: the SDK's tracer provider and OTLP exporter (which reads
 * OTEL_EXPORTER_OTLP_ENDPOINT), the invocation's X-Ray header turned into the parent span
 * context, one span per invocation, flushed before returning.
 */
const HANDLER = `
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';

const provider = new TracerProvider({
  spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })],
});
const tracer = provider.getTracer('orders');

// Root=1-<8 hex>-<24 hex>;Parent=<16 hex>;Sampled=0|1 → the W3C parent of the handler's spans.
function invocationContext(header) {
  const fields = Object.fromEntries((header ?? '').split(';').map((field) => field.split('=')));
  const root = /^1-([0-9a-f]{8})-([0-9a-f]{24})$/.exec(fields.Root ?? '');
  if (root === null || !/^[0-9a-f]{16}$/.test(fields.Parent ?? '')) return context.active();
  return trace.setSpanContext(context.active(), {
    traceId: root[1] + root[2],
    spanId: fields.Parent,
    traceFlags: fields.Sampled === '1' ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });
}

export const handler = async (event) => {
  const traceHeader = process.env._X_AMZN_TRACE_ID;
  const span = tracer.startSpan('place-order', { attributes: { 'order.id': event.orderId } },
    invocationContext(traceHeader));
  span.end();
  await provider.forceFlush();
  return {
    traceHeader,
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
  };
};
`;

const PACKAGES = [
  '@opentelemetry/api',
  '@opentelemetry/sdk-trace',
  '@opentelemetry/exporter-trace-otlp-http',
];

interface HandlerResult {
  readonly traceHeader: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly endpoint: string | undefined;
}

/** Invokes with an `X-Amzn-Trace-Id` header of the caller's. */
async function invokeInTrace(
  client: LambdaClient,
  name: string,
  payload: unknown,
  traceHeader: string,
): Promise<HandlerResult> {
  const command = new InvokeCommand({
    FunctionName: name,
    Payload: Buffer.from(JSON.stringify(payload)),
  });
  command.middlewareStack.add(
    (next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers['X-Amzn-Trace-Id'] =
        traceHeader;
      return next(args);
    },
    { step: 'build', name: 'callerTraceHeader' },
  );
  const output = await client.send(command);
  const text = Buffer.from(output.Payload ?? new Uint8Array()).toString('utf8');
  assert.equal(output.FunctionError, undefined, text);
  return JSON.parse(text) as HandlerResult;
}

for (const driver of ['bubblewrap', 'plain processes'] as const) {
  describe(`a function's own spans reach the collector (--otlp-endpoint, ${driver})`, () => {
    const dir = tempDir();
    const collector = new OtlpCollector();
    let server: ServerProcess;
    let client: LambdaClient;

    before(async () => {
      const endpoint = await collector.start();
      server = await startServer({
        dataDir: dir.path,
        args: [
          '--otlp-endpoint',
          endpoint,
          ...(driver === 'plain processes' ? ['--unsafe-plain-processes'] : []),
        ],
      });
      client = lambdaClient(server.endpoint);
      await deploy(
        client,
        'otel-orders',
        [{ name: 'index.mjs', content: HANDLER }, ...packageEntries(PACKAGES)],
        { timeout: 30 },
      );
    });

    after(async () => {
      client.destroy();
      await server.stop();
      await collector.stop();
      dir.remove();
    });

    test("the handler's span is in the caller's trace, under the invocation", async () => {
      const callerTraceId = `${Math.floor(Date.now() / 1000).toString(16)}${randomBytes(12).toString('hex')}`;
      const callerHeader = `Root=1-${callerTraceId.slice(0, 8)}-${callerTraceId.slice(8)};Parent=${randomBytes(8).toString('hex')};Sampled=1`;
      const result = await invokeInTrace(client, 'otel-orders', { orderId: 'o-1' }, callerHeader);

      // The function is told where its endpoint is: 127.0.0.1:9003 in a jail; a loopback relay's
      // own port without one.
      if (driver === 'bubblewrap') assert.equal(result.endpoint, 'http://127.0.0.1:9003');
      else assert.match(result.endpoint ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);

      // The invocation runs in the caller's trace, and the handler's span continues it.
      assert.equal(traceIdOfXRay(result.traceHeader), callerTraceId, result.traceHeader);
      assert.equal(result.traceId, callerTraceId);
      const span = await collector.span(
        (s) => s.name === 'place-order' && s.spanId === result.spanId,
      );
      assert.equal(span.traceId, callerTraceId);
      assert.equal(span.parentSpanId, xrayField(result.traceHeader, 'Parent'));
      assert.deepEqual(span.attributes?.find((a) => a.key === 'order.id')?.value, {
        stringValue: 'o-1',
      });
      assert.equal(span.resource['telemetry.sdk.language'], 'nodejs');
    });

    test('each warm invocation exports its own span, in its own trace', async () => {
      const results: HandlerResult[] = [];
      for (let i = 0; i < 3; i += 1) {
        const traceId = randomBytes(16).toString('hex');
        const header = `Root=1-${traceId.slice(0, 8)}-${traceId.slice(8)};Sampled=1`;
        results.push(await invokeInTrace(client, 'otel-orders', { orderId: `w-${i}` }, header));
        assert.equal(results.at(-1)?.traceId, traceId);
      }
      for (const result of results) {
        const span = await collector.span((s) => s.spanId === result.spanId);
        assert.equal(span.traceId, result.traceId);
      }
    });
  });
}

describe('the OTLP endpoint is the function’s only if it sets none, and exists only with --otlp-endpoint', () => {
  const dir = tempDir();
  const collector = new OtlpCollector();
  let withFlag: ServerProcess;
  let without: ServerProcess;
  const clients: LambdaClient[] = [];

  /** Reports OTEL_EXPORTER_OTLP_ENDPOINT and whether 127.0.0.1:9003 takes a connection. */
  const PROBE = `
import net from 'node:net';
export const handler = async () => ({
  endpoint: process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? null,
  port9003: await new Promise((resolve) => {
    const socket = net.connect(9003, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve('open'); });
    socket.once('error', (error) => resolve(error.code));
  }),
});`;

  before(async () => {
    const endpoint = await collector.start();
    withFlag = await startServer({
      dataDir: `${dir.path}/with`,
      args: ['--otlp-endpoint', endpoint],
    });
    without = await startServer({ dataDir: `${dir.path}/without` });
    clients.push(lambdaClient(withFlag.endpoint), lambdaClient(without.endpoint));
  });

  after(async () => {
    for (const client of clients) client.destroy();
    await Promise.all([withFlag.stop(), without.stop()]);
    await collector.stop();
    dir.remove();
  });

  test('a function that sets its own endpoint keeps it', async () => {
    const [client] = clients;
    if (client === undefined) assert.fail('no client');
    await deploy(
      client,
      'own-endpoint',
      { 'index.mjs': PROBE },
      {
        environment: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.example:4318' },
      },
    );
    const { body } = await invokeJson(client, 'own-endpoint');
    assert.deepEqual(body, { endpoint: 'http://collector.example:4318', port9003: 'open' });
  });

  test('without --otlp-endpoint, no variable and nothing listening', async () => {
    const client = clients[1];
    if (client === undefined) assert.fail('no client');
    await deploy(client, 'no-endpoint', { 'index.mjs': PROBE });
    const { body } = await invokeJson(client, 'no-endpoint');
    assert.deepEqual(body, { endpoint: null, port9003: 'ECONNREFUSED' });
  });
});
