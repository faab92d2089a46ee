/** Platform log events as Lambda's text lines or as JSON records filtered by SystemLogLevel. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  platformLine,
  systemLogSettings,
  TEXT_SYSTEM_LOG,
  type PlatformEvent,
} from '../../src/environment/platform-records.js';

/** A JSON platform line parsed (fails the test when the level dropped it). */
function parsed(line: string | undefined): { type: string; record: Record<string, unknown> } {
  assert.ok(line !== undefined, 'the event was filtered out');
  return JSON.parse(line) as { type: string; record: Record<string, unknown> };
}

const NOW = Date.UTC(2026, 10, 21, 12, 0, 0, 5);
const report: PlatformEvent = {
  kind: 'report',
  figures: {
    requestId: 'r1',
    durationMs: 12.345,
    memorySizeMiB: 128,
    maxMemoryUsedMiB: 40,
    initDurationMs: 100.456,
  },
};

describe('platform records', () => {
  test('text stays Lambda text', () => {
    assert.equal(
      platformLine({ kind: 'start', requestId: 'r1', version: '$LATEST' }, TEXT_SYSTEM_LOG, NOW),
      'START RequestId: r1 Version: $LATEST',
    );
    assert.match(platformLine(report, TEXT_SYSTEM_LOG, NOW) ?? '', /^REPORT RequestId: r1\t/);
  });

  test('JSON uses the {time, type, record} envelope', () => {
    const json = systemLogSettings({ format: 'JSON', logGroup: 'g', systemLogLevel: 'INFO' });
    assert.deepEqual(JSON.parse(platformLine(report, json, NOW) ?? ''), {
      time: '2026-11-21T12:00:00.005Z',
      type: 'platform.report',
      record: {
        requestId: 'r1',
        metrics: {
          durationMs: 12.35,
          billedDurationMs: 13,
          memorySizeMB: 128,
          maxMemoryUsedMB: 40,
          initDurationMs: 100.46,
        },
        status: 'success',
      },
    });
    const start = platformLine({ kind: 'start', requestId: 'r1', version: '3' }, json, NOW);
    assert.deepEqual(JSON.parse(start ?? ''), {
      time: '2026-11-21T12:00:00.005Z',
      type: 'platform.start',
      record: { requestId: 'r1', version: '3' },
    });
  });

  test('SystemLogLevel filters: DEBUG keeps runtimeDone, WARN keeps only failures', () => {
    const end: PlatformEvent = { kind: 'end', requestId: 'r1', status: 'success' };
    const level = (systemLogLevel: 'DEBUG' | 'INFO' | 'WARN') =>
      systemLogSettings({ format: 'JSON', logGroup: 'g', systemLogLevel });
    assert.equal(platformLine(end, level('INFO'), NOW), undefined);
    assert.equal(parsed(platformLine(end, level('DEBUG'), NOW)).type, 'platform.runtimeDone');
    assert.equal(platformLine(report, level('WARN'), NOW), undefined);
    const timedOut: PlatformEvent = {
      kind: 'report',
      figures: {
        ...(report.kind === 'report' ? report.figures : ({} as never)),
        status: 'timeout',
      },
    };
    const { record } = parsed(platformLine(timedOut, level('WARN'), NOW));
    assert.equal(record.status, 'timeout');
    assert.equal(record.errorType, 'Sandbox.Timedout');
  });
});
