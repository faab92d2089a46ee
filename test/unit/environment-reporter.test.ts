/**
 * EnvironmentReporter: what an environment writes to its log stream and its log tail, in text and
 * in JSON, with a fake log sink and a fixed clock (telemetry is covered end to end by
 * telemetry-api.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EnvironmentReporter } from '../../src/environment/environment-reporter.js';
import type { LogLine, LogSink } from '../../src/environment/ports.js';
import { TelemetryHub } from '../../src/environment/telemetry-hub.js';

const NOW = Date.UTC(2026, 11, 7, 10, 0, 0);

function reporter(systemLog?: { json: boolean; level: 'DEBUG' | 'INFO' | 'WARN' }) {
  const lines: string[] = [];
  const ended: string[] = [];
  const logs: LogSink = {
    append: (_group: string, _stream: string, batch: readonly LogLine[]) => {
      for (const line of batch) lines.push(line.message);
    },
    end: (group, stream) => void ended.push(`${group} ${stream}`),
  };
  const clock = { now: () => NOW };
  const report = new EnvironmentReporter(
    { logGroup: '/aws/lambda/f', logStream: 's', systemLog },
    logs,
    clock,
    new TelemetryHub(undefined, clock.now),
  );
  return { report, lines, ended };
}

const figures = (status?: 'timeout' | 'error') => ({
  requestId: 'r1',
  durationMs: 12.345,
  memorySizeMiB: 128,
  maxMemoryUsedMiB: 40,
  initDurationMs: 80.5,
  status,
  errorType: undefined,
});

describe('EnvironmentReporter', () => {
  test('START, the function’s lines, END and REPORT, in order, and the tail of just that invocation', () => {
    const { report, lines } = reporter();
    report.output('before the invocation');
    report.start('r1', '$LATEST', 'Root=1-x', true);
    report.output('hello');
    report.extensionOutput('from an extension');
    const tail = report.end({
      figures: figures(),
      failure: undefined,
      telemetryStatus: 'success',
      traceId: 'Root=1-x',
    });
    const expected = [
      'START RequestId: r1 Version: $LATEST',
      'hello',
      'from an extension',
      'END RequestId: r1',
      'REPORT RequestId: r1\tDuration: 12.35 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 80.50 ms\t',
    ];
    assert.deepEqual(lines, ['before the invocation', ...expected]);
    assert.equal(tail, `${expected.join('\n')}\n`);
  });

  test('a timeout writes its line before END, and REPORT says so; no tail unless asked', () => {
    const { report, lines } = reporter();
    report.start('r1', '1', 'Root=1-x', false);
    report.timedOut('r1', 3);
    const tail = report.end({
      figures: figures('timeout'),
      failure: 'timeout',
      telemetryStatus: 'timeout',
      traceId: 'Root=1-x',
    });
    assert.equal(tail, undefined);
    assert.equal(lines[1], '2026-12-07T10:00:00.000Z r1 Task timed out after 3.00 seconds');
    assert.equal(lines[2], 'END RequestId: r1');
    assert.match(lines[3] ?? '', /\tStatus: timeout$/);
  });

  test('JSON system logs: records in the Telemetry API shape, filtered by level', () => {
    const info = reporter({ json: true, level: 'INFO' });
    info.report.start('r1', '$LATEST', 'Root=1-x', false);
    const record = JSON.parse(info.lines[0] ?? '') as {
      time: string;
      type: string;
      record: unknown;
    };
    assert.equal(record.type, 'platform.start');
    assert.equal(record.time, '2026-12-07T10:00:00.000Z');
    assert.deepEqual(record.record, { requestId: 'r1', version: '$LATEST' });
    const warn = reporter({ json: true, level: 'WARN' });
    warn.report.start('r1', '$LATEST', 'Root=1-x', false);
    warn.report.output('{"level":"INFO","message":"the function’s own line is kept"}');
    assert.deepEqual(warn.lines, ['{"level":"INFO","message":"the function’s own line is kept"}']);
  });

  test('INIT_START, then one line per extension at the end of init', () => {
    const { report, lines } = reporter();
    report.initStart({
      runtimeVersion: 'nodejs:20.v1',
      runtimeVersionArn: 'arn:aws:lambda:us-east-1::runtime:abc',
      initializationType: 'on-demand',
      functionName: 'f',
      functionVersion: '$LATEST',
    });
    report.initDone('on-demand', 50, undefined, [
      { name: 'ext', state: 'Ready', events: ['INVOKE'] },
    ]);
    assert.equal(
      lines[0],
      'INIT_START Runtime Version: nodejs:20.v1\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:abc',
    );
    assert.equal(lines[1], 'EXTENSION\tName: ext\tState: Ready\tEvents: [INVOKE]');
  });

  test('close lets the log stream go, after what is written', async () => {
    const { report, ended } = reporter();
    report.close();
    assert.deepEqual(ended, []);
    await Promise.resolve();
    assert.deepEqual(ended, ['/aws/lambda/f s']);
  });
});
