/**
 * The OTLP exporter with a fake transport: OTLP/JSON encoding (hex ids, string nanoseconds,
 * integer enums), batching, the bounded buffer and its drop count, requests in flight at most two,
 * failures counted as drops, and a stop that does not wait for a collector that hangs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PlatformSpan } from '../../src/monitoring/span-exporter.js';
import { exportTraceServiceRequest, unixNanos } from '../../src/observability/otlp-json.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectorUrls } from '../../src/core/otlp-collector-urls.js';
import {
  httpTransport,
  OtlpHttpExporter,
  type OtlpTransport,
} from '../../src/observability/otlp-http-exporter.js';

const FUNCTION = { 'service.name': 'fn', 'faas.max_memory': 134_217_728 };
const OTHER = { 'service.name': 'other' };

function span(n: number, resource: PlatformSpan['resource'] = FUNCTION): PlatformSpan {
  return {
    traceId: '5759e988bd862e3fe1be46a994272793',
    spanId: n.toString(16).padStart(16, '0'),
    parentSpanId: undefined,
    name: `span ${n}`,
    kind: 'internal',
    startMs: 1_767_225_600_000 + n,
    endMs: 1_767_225_600_000 + n + 1.5,
    attributes: {},
    error: undefined,
    resource,
  };
}

/** A transport whose requests stay open until the test answers them. */
class HeldTransport {
  readonly requests: { body: unknown; signal: AbortSignal; answer: (ok: boolean) => void }[] = [];
  readonly transport: OtlpTransport = (body, signal) =>
    new Promise<void>((resolve, reject) => {
      const answer = (ok: boolean) => (ok ? resolve() : reject(new Error('refused')));
      signal.addEventListener('abort', () => reject(new Error('aborted')));
      this.requests.push({ body: JSON.parse(body.toString('utf8')) as unknown, signal, answer });
    });
  spansIn(index: number): number {
    const body = this.requests[index]?.body as {
      resourceSpans: { scopeSpans: { spans: unknown[] }[] }[];
    };
    return body.resourceSpans.flatMap((r) => r.scopeSpans).reduce((n, s) => n + s.spans.length, 0);
  }
}

describe('OTLP/JSON encoding', () => {
  test('an ExportTraceServiceRequest: hex ids, string nanoseconds, integer kinds, typed values', () => {
    const request = exportTraceServiceRequest(
      [
        {
          ...span(1),
          parentSpanId: '53995c3f42cd8ad8',
          name: 'Invoke',
          kind: 'server',
          attributes: {
            'faas.coldstart': true,
            'lamina.duration_ms': 1.25,
            'faas.invocation_id': 'r1',
            n: 3,
          },
          error: 'Runtime.ExitError',
        },
        span(2),
        span(3, OTHER),
      ],
      { name: 'lamina', version: '1' },
    );
    assert.deepEqual(request, {
      resourceSpans: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: { stringValue: 'fn' } },
              { key: 'faas.max_memory', value: { intValue: '134217728' } },
            ],
          },
          scopeSpans: [
            {
              scope: { name: 'lamina', version: '1' },
              spans: [
                {
                  traceId: '5759e988bd862e3fe1be46a994272793',
                  spanId: '0000000000000001',
                  parentSpanId: '53995c3f42cd8ad8',
                  name: 'Invoke',
                  kind: 2,
                  startTimeUnixNano: '1767225600001000000',
                  endTimeUnixNano: '1767225600002500000',
                  attributes: [
                    { key: 'faas.coldstart', value: { boolValue: true } },
                    { key: 'lamina.duration_ms', value: { doubleValue: 1.25 } },
                    { key: 'faas.invocation_id', value: { stringValue: 'r1' } },
                    { key: 'n', value: { intValue: '3' } },
                  ],
                  status: { code: 2, message: 'Runtime.ExitError' },
                },
                {
                  traceId: '5759e988bd862e3fe1be46a994272793',
                  spanId: '0000000000000002',
                  name: 'span 2',
                  kind: 1,
                  startTimeUnixNano: '1767225600002000000',
                  endTimeUnixNano: '1767225600003500000',
                  attributes: [],
                  status: {},
                },
              ],
            },
          ],
        },
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'other' } }] },
          scopeSpans: [
            {
              scope: { name: 'lamina', version: '1' },
              spans: [
                {
                  traceId: '5759e988bd862e3fe1be46a994272793',
                  spanId: '0000000000000003',
                  name: 'span 3',
                  kind: 1,
                  startTimeUnixNano: '1767225600003000000',
                  endTimeUnixNano: '1767225600004500000',
                  attributes: [],
                  status: {},
                },
              ],
            },
          ],
        },
      ],
    });
  });

  test('nanoseconds keep every digit of the milliseconds (a double of nanoseconds would not)', () => {
    assert.equal(unixNanos(1_767_225_600_123.25), '1767225600123250000');
    assert.equal(unixNanos(1_767_225_600_123.5), '1767225600123500000');
    assert.equal(unixNanos(1_767_225_600_123), '1767225600123000000');
    assert.equal(unixNanos(Number.NaN), '0');
  });
});

describe('OtlpHttpExporter', () => {
  test('a full batch is sent at once; a part-filled one on flush', async () => {
    const held = new HeldTransport();
    const exporter = new OtlpHttpExporter({
      endpoint: 'http://collector.invalid:4318',
      transport: held.transport,
      flushIntervalMs: 60_000,
      stopGraceMs: 0,
      maxBatchSpans: 3,
    });
    for (let n = 1; n <= 4; n += 1) exporter.export(span(n));
    assert.equal(held.requests.length, 1);
    assert.equal(held.spansIn(0), 3);
    assert.deepEqual(exporter.counts(), { exported: 0, dropped: 0, queued: 1 });
    exporter.flush();
    assert.equal(held.requests.length, 2);
    assert.equal(held.spansIn(1), 1);
    held.requests[0]?.answer(true);
    held.requests[1]?.answer(true);
    await exporter.whenIdle();
    assert.deepEqual(exporter.counts(), { exported: 4, dropped: 0, queued: 0 });
    await exporter.stop();
  });

  test('past the buffer spans are dropped and counted; at most two requests are in flight', async () => {
    const held = new HeldTransport();
    const reports: number[] = [];
    const exporter = new OtlpHttpExporter({
      endpoint: 'http://collector.invalid:4318',
      transport: held.transport,
      flushIntervalMs: 60_000,
      stopGraceMs: 0,
      maxBatchSpans: 2,
      maxQueuedSpans: 5,
      onDropped: (counts) => reports.push(counts.dropped),
    });
    // 2 + 2 go out in two requests that hang; 5 wait; the rest are dropped.
    for (let n = 1; n <= 20; n += 1) exporter.export(span(n));
    assert.equal(held.requests.length, 2);
    assert.deepEqual(exporter.counts(), { exported: 0, dropped: 11, queued: 5 });
    // Reported once at the first drop, not for every span.
    assert.deepEqual(reports, [1]);
    // One request answered: the next full batch goes out in its place.
    held.requests[0]?.answer(true);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(held.requests.length, 3);
    assert.deepEqual(exporter.counts(), { exported: 2, dropped: 11, queued: 3 });
    await exporter.stop();
  });

  test('a refused or failed request counts its spans as dropped, and sending pauses', async () => {
    const held = new HeldTransport();
    let nowMs = 0;
    const exporter = new OtlpHttpExporter({
      endpoint: 'http://collector.invalid:4318',
      transport: held.transport,
      flushIntervalMs: 60_000,
      stopGraceMs: 0,
      maxBatchSpans: 2,
      now: () => nowMs,
    });
    exporter.export(span(1));
    exporter.export(span(2));
    held.requests[0]?.answer(false);
    await exporter.whenIdle();
    assert.deepEqual(exporter.counts(), { exported: 0, dropped: 2, queued: 0 });
    // During the pause a full batch waits instead of going out.
    exporter.export(span(3));
    exporter.export(span(4));
    assert.equal(held.requests.length, 1);
    nowMs += 1000;
    exporter.flush();
    assert.equal(held.requests.length, 2);
    held.requests[1]?.answer(true);
    await exporter.whenIdle();
    assert.deepEqual(exporter.counts(), { exported: 2, dropped: 2, queued: 0 });
    await exporter.stop();
  });

  test('a transport that throws is a failed request, not an exception', async () => {
    const exporter = new OtlpHttpExporter({
      endpoint: 'http://collector.invalid:4318',
      transport: () => {
        throw new Error('broken');
      },
      stopGraceMs: 0,
      maxBatchSpans: 1,
    });
    exporter.export(span(1));
    await exporter.whenIdle();
    assert.equal(exporter.counts().dropped, 1);
    await exporter.stop();
  });

  test('stop aborts requests a hanging collector holds, and drops what is left', async () => {
    const held = new HeldTransport();
    const exporter = new OtlpHttpExporter({
      endpoint: 'http://collector.invalid:4318',
      transport: held.transport,
      flushIntervalMs: 60_000,
      stopGraceMs: 0,
      maxBatchSpans: 1,
    });
    for (let n = 1; n <= 3; n += 1) exporter.export(span(n));
    await exporter.stop();
    assert.ok(held.requests.every((r) => r.signal.aborted));
    assert.deepEqual(exporter.counts(), { exported: 0, dropped: 3, queued: 0 });
    exporter.export(span(4));
    assert.equal(exporter.counts().dropped, 4);
  });
});

describe('the collector URL of the platform’s spans', () => {
  test('the same traces URL the relay uses, whether the base or the traces URL is given', async () => {
    const paths: string[] = [];
    const collector = createServer((req, res) => {
      paths.push(req.url ?? '');
      req.resume();
      req.once('end', () => res.end('{}'));
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = collector.address() as AddressInfo;
      const given = [`http://127.0.0.1:${port}`, `http://127.0.0.1:${port}/v1/traces`];
      for (const endpoint of given)
        await httpTransport(endpoint)(Buffer.from('{}'), new AbortController().signal);
      assert.deepEqual(
        paths,
        given.map((endpoint) => collectorUrls(endpoint).traces.pathname),
      );
      assert.deepEqual(paths, ['/v1/traces', '/v1/traces']);
    } finally {
      collector.closeAllConnections();
      await new Promise((resolve) => collector.close(resolve));
    }
  });
});
