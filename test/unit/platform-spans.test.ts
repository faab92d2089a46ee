/**
 * The platform's spans made from invocation reports, asynchronous attempts and mapping batches:
 * names, parents, times and attributes, sampled invocations only.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { InvocationReport } from '../../src/core/invocation-report.js';
import type { PlatformSpan, SpanExporter } from '../../src/monitoring/span-exporter.js';
import { PlatformSpans } from '../../src/monitoring/platform-spans.js';

const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);
const ROOT = '1-5759e988-bd862e3fe1be46a994272793';
const TRACE_ID = '5759e988bd862e3fe1be46a994272793';
const INVOCATION = 'aaaaaaaaaaaaaaaa';
const CALLER = 'cccccccccccccccc';

class Collected implements SpanExporter {
  readonly spans: PlatformSpan[] = [];
  export(span: PlatformSpan): void {
    this.spans.push(span);
  }
  counts() {
    return { exported: this.spans.length, dropped: 0, queued: 0 };
  }
  named(name: string): PlatformSpan {
    return this.spans.find((s) => s.name === name) ?? assert.fail(`no ${name} span`);
  }
}

function setUp(startMs = T0) {
  const exporter = new Collected();
  let n = 0;
  let nowMs = startMs;
  const spans = new PlatformSpans({
    exporter,
    scope: { region: 'us-east-1', accountId: '000000000000' },
    clock: { now: () => nowMs },
    randomHex: (bytes) => ((n += 1) % 256).toString(16).padStart(2, '0').repeat(bytes),
  });
  /** Moves the clock to `ms`. */
  const at = (ms: number) => {
    nowMs = ms;
  };
  return { exporter, spans, at };
}

function report(changes: Partial<InvocationReport> = {}): InvocationReport {
  return {
    requestId: 'req-1',
    functionName: 'fn',
    executedVersion: '$LATEST',
    qualifier: undefined,
    trigger: 'sync',
    receivedMs: T0,
    startMs: T0 + 100,
    endMs: T0 + 130,
    cold: true,
    initDurationMs: 90,
    durationMs: 20,
    billedDurationMs: 20,
    memorySizeMiB: 128,
    maxMemoryUsedMiB: 60,
    architecture: 'x86_64',
    outcome: 'success',
    errorType: undefined,
    traceHeader: `Root=${ROOT};Parent=${INVOCATION};Sampled=1`,
    callerSpanId: CALLER,
    provisioned: false,
    ...changes,
  };
}

describe('platform spans of an invocation', () => {
  test('a sampled cold invocation: Invoke with Initialization, Invocation and Overhead', () => {
    const { exporter, spans } = setUp();
    spans.ended(report());
    assert.deepEqual(
      exporter.spans.map((s) => s.name),
      ['Invoke', 'Initialization', 'Invocation', 'Overhead'],
    );
    const invoke = exporter.named('Invoke');
    assert.equal(invoke.traceId, TRACE_ID);
    assert.equal(invoke.parentSpanId, CALLER);
    assert.equal(invoke.kind, 'server');
    assert.deepEqual([invoke.startMs, invoke.endMs], [T0, T0 + 130]);
    assert.equal(invoke.attributes['faas.invocation_id'], 'req-1');
    assert.equal(invoke.attributes['faas.coldstart'], true);
    assert.equal(invoke.attributes['faas.trigger'], 'other');
    assert.equal(
      invoke.attributes['aws.lambda.invoked_arn'],
      'arn:aws:lambda:us-east-1:000000000000:function:fn',
    );
    assert.equal(invoke.error, undefined);
    const init = exporter.named('Initialization');
    assert.deepEqual(
      [init.parentSpanId, init.startMs, init.endMs],
      [invoke.spanId, T0 + 10, T0 + 100],
    );
    // The Invocation span is the Parent the function saw: its own spans hang under it.
    const invocation = exporter.named('Invocation');
    assert.deepEqual(
      [invocation.spanId, invocation.parentSpanId, invocation.startMs, invocation.endMs],
      [INVOCATION, invoke.spanId, T0 + 100, T0 + 120],
    );
    const overhead = exporter.named('Overhead');
    assert.deepEqual([overhead.startMs, overhead.endMs], [T0 + 120, T0 + 130]);
    assert.deepEqual(invoke.resource, {
      'service.name': 'fn',
      'cloud.platform': 'aws_lambda',
      'cloud.region': 'us-east-1',
      'cloud.account.id': '000000000000',
      'cloud.resource_id': 'arn:aws:lambda:us-east-1:000000000000:function:fn',
      'faas.name': 'fn',
      'faas.version': '$LATEST',
      'faas.max_memory': 134_217_728,
      'host.arch': 'amd64',
    });
    // All spans of one function version share one resource object.
    assert.ok(exporter.spans.every((s) => s.resource === invoke.resource));
  });

  test('an unsampled invocation makes no span', () => {
    const { exporter, spans } = setUp();
    spans.ended(report({ traceHeader: `Root=${ROOT};Parent=${INVOCATION};Sampled=0` }));
    assert.deepEqual(exporter.spans, []);
  });

  test('a warm failed invocation: no Initialization, errors on Invoke and Invocation', () => {
    const { exporter, spans } = setUp();
    spans.ended(
      report({
        cold: false,
        initDurationMs: undefined,
        outcome: 'error',
        errorType: 'Runtime.ExitError',
        trigger: 'url',
        qualifier: 'live',
        callerSpanId: undefined,
      }),
    );
    assert.deepEqual(
      exporter.spans.map((s) => [s.name, s.error]),
      [
        ['Invoke', 'Runtime.ExitError'],
        ['Invocation', 'Runtime.ExitError'],
        ['Overhead', undefined],
      ],
    );
    const invoke = exporter.named('Invoke');
    assert.equal(invoke.parentSpanId, undefined);
    assert.equal(invoke.attributes['faas.trigger'], 'http');
    assert.equal(invoke.attributes['error.type'], 'Runtime.ExitError');
    assert.equal(
      invoke.attributes['aws.lambda.invoked_arn'],
      'arn:aws:lambda:us-east-1:000000000000:function:fn:live',
    );
  });

  test('an init that failed: Initialization runs to the end and carries the error', () => {
    const { exporter, spans } = setUp();
    spans.ended(
      report({
        startMs: T0 + 500,
        endMs: T0 + 500,
        durationMs: 0,
        billedDurationMs: 0,
        initDurationMs: 480,
        outcome: 'error',
        errorType: 'Runtime.ImportModuleError',
      }),
    );
    assert.deepEqual(
      exporter.spans.map((s) => [s.name, s.startMs, s.endMs, s.error]),
      [
        ['Invoke', T0, T0 + 500, 'Runtime.ImportModuleError'],
        ['Initialization', T0 + 20, T0 + 500, 'Runtime.ImportModuleError'],
      ],
    );
  });
});

describe('platform spans of queues and batches', () => {
  test("an asynchronous attempt: Dwell Time under the caller's span, then Invoke under it", () => {
    const { exporter, spans } = setUp(T0);
    const attemptSpan = 'dddddddddddddddd';
    // The attempt's header (under its queueing span) and the event's own (as accepted), then the
    // attempt's report.
    spans.attemptStarted(
      'fn',
      undefined,
      2500,
      `Root=${ROOT};Parent=${attemptSpan}`,
      `Root=${ROOT};Parent=${CALLER}`,
    );
    spans.ended(report({ trigger: 'async', callerSpanId: attemptSpan }));
    const dwell = exporter.named('Dwell Time');
    assert.deepEqual(
      [dwell.traceId, dwell.spanId, dwell.parentSpanId, dwell.startMs, dwell.endMs],
      [TRACE_ID, attemptSpan, CALLER, T0 - 2500, T0],
    );
    const invoke = exporter.named('Invoke');
    assert.equal(invoke.parentSpanId, attemptSpan);
    assert.equal(invoke.kind, 'consumer');
  });

  test('an attempt that was not sampled leaves nothing behind', () => {
    const { exporter, spans } = setUp(T0);
    spans.attemptStarted('fn', undefined, 10, `Root=${ROOT};Parent=dddddddddddddddd;Sampled=0`);
    spans.ended(
      report({ trigger: 'async', traceHeader: `Root=${ROOT};Parent=${INVOCATION};Sampled=0` }),
    );
    // The next (sampled) attempt of the same trace finds no stale start.
    spans.ended(report({ trigger: 'async', callerSpanId: 'dddddddddddddddd' }));
    assert.deepEqual(
      exporter.spans.map((s) => [s.name, s.parentSpanId ?? null]),
      [
        ['Invoke', null],
        ['Initialization', exporter.named('Invoke').spanId],
        ['Invocation', exporter.named('Invoke').spanId],
        ['Overhead', exporter.named('Invoke').spanId],
      ],
    );
  });

  test('concurrent attempts of one trace and function each get their own Dwell Time', () => {
    const { exporter, spans, at } = setUp(T0);
    const first = '1111111111111111';
    const second = '2222222222222222';
    // Two events accepted under one caller span, attempted 100 ms apart; the later one ends first.
    spans.attemptStarted('fn', undefined, 1000, `Root=${ROOT};Parent=${first}`, `Root=${ROOT}`);
    at(T0 + 100);
    spans.attemptStarted('fn', undefined, 3000, `Root=${ROOT};Parent=${second}`, `Root=${ROOT}`);
    spans.ended(report({ trigger: 'async', requestId: 'second', callerSpanId: second }));
    spans.ended(report({ trigger: 'async', requestId: 'first', callerSpanId: first }));
    const dwell = exporter.spans
      .filter((s) => s.name === 'Dwell Time')
      .map((s) => [s.spanId, s.startMs, s.endMs]);
    assert.deepEqual(dwell, [
      [second, T0 + 100 - 3000, T0 + 100],
      [first, T0 - 1000, T0],
    ]);
  });

  test('an attempt that never reported does not lend its start to the retry', () => {
    const { exporter, spans, at } = setUp(T0);
    const throttled = '1111111111111111';
    const retry = '2222222222222222';
    spans.attemptStarted('fn', undefined, 50, `Root=${ROOT};Parent=${throttled}`, `Root=${ROOT}`);
    // Throttled: no report. The retry a minute later is the one that runs.
    at(T0 + 60_000);
    spans.attemptStarted('fn', undefined, 60_050, `Root=${ROOT};Parent=${retry}`, `Root=${ROOT}`);
    spans.ended(report({ trigger: 'async', callerSpanId: retry }));
    const dwell = exporter.named('Dwell Time');
    assert.deepEqual([dwell.spanId, dwell.startMs, dwell.endMs], [retry, T0 - 50, T0 + 60_000]);
  });

  test('the start of an attempt that never reports is forgotten after an hour', () => {
    const { exporter, spans, at } = setUp(T0);
    const lost = '1111111111111111';
    spans.attemptStarted('fn', undefined, 0, `Root=${ROOT};Parent=${lost}`, `Root=${ROOT}`);
    at(T0 + 61 * 60_000);
    // Any later attempt sweeps the table.
    spans.attemptStarted('fn', undefined, 0, `Root=${ROOT};Parent=2222222222222222`);
    spans.ended(report({ trigger: 'async', callerSpanId: lost }));
    assert.equal(
      exporter.spans.filter((s) => s.name === 'Dwell Time').length,
      0,
      'a report that late finds no start',
    );
    assert.equal(exporter.named('Invoke').parentSpanId, undefined);
  });

  test("a mapping's batch: Batch, the parent of its invocation's Invoke, once sampled", () => {
    const { exporter, spans } = setUp(T0);
    const batchSpan = 'bbbbbbbbbbbbbbbb';
    spans.ended(report({ trigger: 'mapping', callerSpanId: batchSpan }));
    spans.batchDone({
      functionName: 'fn',
      qualifier: undefined,
      mappingUuid: 'uuid-1',
      source: 'rabbitmq',
      records: 3,
      iteratorAgeMs: 40,
      outcome: 'success',
      startMs: T0 - 5,
      endMs: T0 + 140,
      traceHeader: `Root=${ROOT};Parent=${batchSpan}`,
    });
    const batch = exporter.named('Batch');
    assert.deepEqual(
      [batch.traceId, batch.spanId, batch.parentSpanId, batch.kind, batch.startMs, batch.endMs],
      [TRACE_ID, batchSpan, undefined, 'consumer', T0 - 5, T0 + 140],
    );
    assert.equal(batch.attributes['messaging.system'], 'rabbitmq');
    assert.equal(batch.attributes['messaging.batch.message_count'], 3);
    assert.equal(exporter.named('Invoke').parentSpanId, batchSpan);
    assert.equal(exporter.named('Invoke').attributes['faas.trigger'], 'pubsub');
    // A batch whose invocation was not sampled makes no span.
    spans.batchDone({
      functionName: 'fn',
      qualifier: undefined,
      mappingUuid: 'uuid-1',
      source: 'rabbitmq',
      records: 1,
      iteratorAgeMs: undefined,
      outcome: 'error',
      startMs: T0,
      endMs: T0,
      traceHeader: `Root=${ROOT};Parent=eeeeeeeeeeeeeeee`,
    });
    assert.equal(exporter.spans.filter((s) => s.name === 'Batch').length, 1);
  });
});
