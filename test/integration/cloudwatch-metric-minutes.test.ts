/**
 * The CloudWatch minutes with a real SQLite store, on a controllable clock: what each invocation,
 * throttle, asynchronous event and mapping batch adds, under which dimension sets; the minute in
 * progress answered from memory, finished minutes from the store, a late report merged with its
 * minute, a read during a write counting nothing twice; the concurrency samples; the catalog after
 * a restart; and the 15-day retention.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { CloudWatchError } from '../../src/api/cloudwatch-errors.js';
import { decodeJson } from '../../src/api/cloudwatch-input.js';
import { getMetricData, MAX_MINUTES_PER_REQUEST } from '../../src/api/cloudwatch-operations.js';
import { getMetricDataRequest } from '../../src/api/cloudwatch-requests.js';
import type { InvocationReport } from '../../src/core/invocation-report.js';
import { seriesKey, type Dimension } from '../../src/monitoring/lambda-metric-catalog.js';
import {
  MetricAggregate,
  parseStatistic,
  statisticValue,
} from '../../src/monitoring/metric-aggregate.js';
import {
  METRIC_RETENTION_MS,
  MetricMinutes,
  MINUTE_MS,
  READ_CHUNK_MS,
  type ConcurrencySource,
} from '../../src/monitoring/metric-minutes.js';
import type {
  MetricStore,
  MinuteFigures,
  SeriesMinute,
} from '../../src/monitoring/metric-store.js';
import type { Database } from '../../src/store/database-schema.js';
import { openSqliteDatabase } from '../../src/store/sqlite-database.js';
import { SqliteMetricStore } from '../../src/store/sqlite-metric-store.js';
import { ManualClock } from '../helpers/manual-clock.js';

const FN = { name: 'FunctionName', value: 'fn' };

/** The real store, with what each read took from it recorded. */
class RecordingStore implements MetricStore {
  readonly reads: Array<{ fromMs: number; toMs: number; rows: number; histograms: number }> = [];
  constructor(readonly inner: MetricStore) {}
  write(minutes: readonly SeriesMinute[]): Promise<void> {
    return this.inner.write(minutes);
  }
  series(sinceMs: number) {
    return this.inner.series(sinceMs);
  }
  async read(key: string, fromMs: number, toMs: number, histograms: boolean) {
    const rows: MinuteFigures[] = await this.inner.read(key, fromMs, toMs, histograms);
    const withHistogram = rows.filter((row) => row.histogram.byteLength > 0).length;
    this.reads.push({ fromMs, toMs, rows: rows.length, histograms: withHistogram });
    return rows;
  }
  prune(beforeMs: number): Promise<number> {
    return this.inner.prune(beforeMs);
  }
}

function report(clock: ManualClock, overrides: Partial<InvocationReport> = {}): InvocationReport {
  const now = clock.now();
  return {
    requestId: 'r',
    functionName: 'fn',
    executedVersion: '$LATEST',
    qualifier: undefined,
    trigger: 'sync',
    receivedMs: now,
    startMs: now,
    endMs: now,
    cold: false,
    initDurationMs: undefined,
    durationMs: 10,
    billedDurationMs: 10,
    memorySizeMiB: 128,
    maxMemoryUsedMiB: 50,
    architecture: 'x86_64',
    outcome: 'success',
    errorType: undefined,
    traceHeader: 'Root=1-0-0',
    provisioned: false,
    ...overrides,
  };
}

describe('CloudWatch minutes', () => {
  let db: Kysely<Database>;
  let store: MetricStore;
  let clock: ManualClock;
  let metrics: MetricMinutes;
  let running: Map<string, number>;
  const errors: unknown[] = [];

  const concurrency: ConcurrencySource = {
    concurrencyNow: () => ({
      byFunction: running,
      provisionedByFunction: new Map(),
      unreserved: [...running.values()].reduce((a, b) => a + b, 0),
    }),
  };

  const build = (over: MetricStore = store) =>
    new MetricMinutes({
      clock,
      store: over,
      concurrency,
      provisionedFor: (name, qualifier) => name === 'fn' && qualifier === 'live',
      onError: (error) => errors.push(error),
    });

  /** A statistic of one series over the whole of the last hour and the next. */
  async function read(
    metric: string,
    dimensions: Dimension[],
    stat: string,
  ): Promise<number | undefined> {
    const now = clock.now();
    const total = new MetricAggregate();
    await metrics.fold(
      seriesKey(metric, dimensions),
      { startMs: now - 3_600_000, endMs: now + 3_600_000, periodSeconds: 60 },
      stat.startsWith('p'),
      ({ aggregate }) => total.merge(aggregate),
    );
    const parsed = parseStatistic(stat);
    assert.ok(parsed !== undefined);
    return statisticValue(total, parsed);
  }

  beforeEach(async () => {
    db = await openSqliteDatabase(':memory:');
    store = new SqliteMetricStore(db);
    clock = new ManualClock();
    // Tests start a little into a minute, so that nothing they add crosses into the next one.
    clock.advance(MINUTE_MS - (clock.now() % MINUTE_MS) + 5_000);
    running = new Map();
    errors.length = 0;
    metrics = build();
    await metrics.start();
  });

  afterEach(async () => {
    await metrics.stop();
    await db.destroy();
    assert.deepEqual(errors, []);
  });

  test('an invocation counts under the account, the function, the resource and the version that ran', async () => {
    metrics.ended(report(clock, { qualifier: 'live', executedVersion: '3', durationMs: 12.5 }));
    metrics.ended(report(clock, { outcome: 'error', durationMs: 40 }));
    metrics.ended(report(clock, { outcome: 'timeout', durationMs: 1000 }));
    metrics.throttled({
      functionName: 'fn',
      qualifier: undefined,
      trigger: 'sync',
      atMs: clock.now(),
    });

    const resourceLive = [FN, { name: 'Resource', value: 'fn:live' }];
    assert.equal(await read('Invocations', [], 'Sum'), 3);
    assert.equal(await read('Invocations', [FN], 'Sum'), 3);
    assert.equal(await read('Invocations', [FN, { name: 'Resource', value: 'fn' }], 'Sum'), 2);
    assert.equal(await read('Invocations', resourceLive, 'Sum'), 1);
    // Dimensions in any order name the same series.
    assert.equal(
      await read(
        'Invocations',
        [{ name: 'ExecutedVersion', value: '3' }, ...resourceLive.reverse()],
        'Sum',
      ),
      1,
    );
    assert.equal(await read('Errors', [FN], 'Sum'), 2);
    assert.equal(await read('Errors', [FN], 'SampleCount'), 3);
    assert.equal(await read('Throttles', [FN], 'Sum'), 1);
    assert.equal(await read('Duration', [FN], 'Maximum'), 1000);
    assert.equal(await read('Duration', [FN], 'Minimum'), 12.5);
    const p50 = (await read('Duration', [FN], 'p50')) ?? NaN;
    assert.ok(Math.abs(p50 - 40) <= 0.4, `p50 ${p50}`);
    // A spillover past the alias's provisioned concurrency; the unqualified ones are not.
    assert.equal(await read('ProvisionedConcurrencySpilloverInvocations', [FN], 'Sum'), 1);
    // Each ended invocation says at least one ran in its minute.
    assert.equal(await read('ConcurrentExecutions', [FN], 'Maximum'), 1);
    assert.equal(await read('ConcurrentExecutions', [], 'Maximum'), 1);
  });

  test('an init that failed is an invocation and an error, without a duration', async () => {
    metrics.ended(report(clock, { outcome: 'error', durationMs: 0, billedDurationMs: 0 }));
    assert.equal(await read('Invocations', [FN], 'Sum'), 1);
    assert.equal(await read('Errors', [FN], 'Sum'), 1);
    assert.equal(await read('Duration', [FN], 'SampleCount'), undefined);
  });

  test('finished minutes come from the store, the current one from memory, with nothing counted twice', async () => {
    metrics.ended(report(clock, { durationMs: 5 }));
    clock.advance(MINUTE_MS);
    metrics.ended(report(clock, { durationMs: 7 }));
    // The first minute is written while a read is under way: the read counts it once.
    const reading = read('Invocations', [FN], 'Sum');
    const flushing = metrics.flush();
    assert.equal(await reading, 2);
    await flushing;
    assert.equal(await read('Invocations', [FN], 'Sum'), 2);
    const rows = await db.selectFrom('metric_minutes').selectAll().execute();
    assert.ok(rows.length > 0, 'the finished minute is in the store');
    assert.ok(rows.every((row) => row.minute_ms < Math.floor(clock.now() / MINUTE_MS) * MINUTE_MS));
    // A report of an invocation received in the written minute (a long one) joins it.
    metrics.ended(report(clock, { receivedMs: clock.now() - MINUTE_MS, durationMs: 100 }));
    await metrics.flush();
    assert.equal(await read('Invocations', [FN], 'Sum'), 3);
    assert.equal(await read('Duration', [FN], 'Maximum'), 100);
  });

  test('concurrency: the per-minute maximum of the samples', async () => {
    running.set('fn', 2);
    metrics.sample();
    running.set('fn', 5);
    running.set('other', 1);
    metrics.sample();
    running.set('fn', 1);
    metrics.sample();
    assert.equal(await read('ConcurrentExecutions', [FN], 'Maximum'), 5);
    assert.equal(await read('ConcurrentExecutions', [], 'Maximum'), 6);
    assert.equal(await read('UnreservedConcurrentExecutions', [], 'Maximum'), 6);
    running.clear();
    metrics.sample();
    assert.equal(await read('ConcurrentExecutions', [FN], 'SampleCount'), 3);
  });

  test('asynchronous events and mapping batches', async () => {
    metrics.received('fn', undefined);
    metrics.received('fn', 'live');
    metrics.attemptStarted('fn', undefined, 1500);
    metrics.dropped('fn', undefined, 'RetriesExhausted');
    metrics.destinationFailed('fn', undefined);
    metrics.deadLetterFailed('fn', undefined);
    metrics.batchDone({
      functionName: 'fn',
      qualifier: undefined,
      mappingUuid: 'u',
      source: 'rabbitmq',
      records: 3,
      iteratorAgeMs: 250,
      outcome: 'success',
      startMs: clock.now(),
      endMs: clock.now(),
    });
    assert.equal(await read('AsyncEventsReceived', [FN], 'Sum'), 2);
    assert.equal(
      await read('AsyncEventsReceived', [FN, { name: 'Resource', value: 'fn:live' }], 'Sum'),
      1,
    );
    assert.equal(await read('AsyncEventAge', [FN], 'Maximum'), 1500);
    assert.equal(await read('AsyncEventsDropped', [FN], 'Sum'), 1);
    assert.equal(await read('DestinationDeliveryFailures', [], 'Sum'), 1);
    assert.equal(await read('DeadLetterErrors', [FN], 'Sum'), 1);
    assert.equal(await read('IteratorAge', [FN], 'Maximum'), 250);
  });

  test('after a restart, the catalog and the minutes are read back', async () => {
    metrics.ended(report(clock, { qualifier: '1', executedVersion: '1' }));
    await metrics.stop();
    metrics = build();
    await metrics.start();
    const listed = metrics.listSeries().filter((s) => s.metric === 'Invocations');
    assert.equal(listed.length, 4);
    assert.ok(
      listed.some(
        (s) =>
          JSON.stringify(s.dimensions) ===
          JSON.stringify([
            FN,
            { name: 'Resource', value: 'fn:1' },
            { name: 'ExecutedVersion', value: '1' },
          ]),
      ),
    );
    assert.equal(await read('Invocations', [FN], 'Sum'), 1);
  });

  test('data older than 15 days is neither answered nor kept', async () => {
    metrics.ended(report(clock));
    await metrics.flush(true);
    clock.advance(METRIC_RETENTION_MS - 2 * MINUTE_MS);
    metrics.ended(report(clock));
    const fifteenDays = async () => {
      let sum = 0;
      await metrics.fold(
        seriesKey('Invocations', [FN]),
        {
          startMs: clock.now() - METRIC_RETENTION_MS - 3_600_000,
          endMs: clock.now() + MINUTE_MS,
          periodSeconds: 3600,
        },
        false,
        ({ aggregate }) => (sum += aggregate.sum),
      );
      return sum;
    };
    assert.equal(await fifteenDays(), 2);
    clock.advance(3 * MINUTE_MS);
    assert.equal(await fifteenDays(), 1, 'the first minute is past the retention');
    await metrics.flush();
    assert.ok((await metrics.prune()) > 0);
    clock.advance(METRIC_RETENTION_MS);
    assert.equal(await fifteenDays(), 0);
    assert.deepEqual(metrics.listSeries(), []);
    await metrics.prune();
    assert.equal((await db.selectFrom('metric_minutes').selectAll().execute()).length, 0);
    assert.equal((await db.selectFrom('metric_series').selectAll().execute()).length, 0);
  });

  test('a read over 15 days takes a day of rows at a time, each row once per request, within a cap', async () => {
    // 15 days of a busy series, written through the store as the server writes them.
    const durations = new MetricAggregate();
    for (const value of [3, 5, 8, 13, 21, 34, 55, 89, 144, 233]) durations.add(value);
    const histogram = durations.histogram.encode();
    const nowMinute = Math.floor(clock.now() / MINUTE_MS) * MINUTE_MS;
    const firstMinute = nowMinute - METRIC_RETENTION_MS + 2 * MINUTE_MS;
    const key = seriesKey('Duration', [FN]);
    const stored: SeriesMinute[] = [];
    for (let minuteMs = firstMinute; minuteMs < nowMinute; minuteMs += MINUTE_MS)
      stored.push({
        key,
        namespace: 'AWS/Lambda',
        metric: 'Duration',
        dimensions: [FN],
        minuteMs,
        batch: 1,
        count: durations.count,
        sum: durations.sum,
        min: durations.min,
        max: durations.max,
        histogram,
      });
    await store.write(stored);
    await metrics.stop();
    const recording = new RecordingStore(store);
    metrics = build(recording);
    await metrics.start();

    const request = (stats: readonly string[], period = 3600) =>
      getMetricDataRequest(
        decodeJson(
          Buffer.from(
            JSON.stringify({
              StartTime: Math.floor((clock.now() - METRIC_RETENTION_MS) / 1000),
              EndTime: Math.ceil(clock.now() / 1000),
              MetricDataQueries: stats.map((stat, i) => ({
                Id: `q${i}`,
                MetricStat: {
                  Metric: {
                    Namespace: 'AWS/Lambda',
                    MetricName: 'Duration',
                    Dimensions: [{ Name: 'FunctionName', Value: 'fn' }],
                  },
                  Period: period,
                  Stat: stat,
                },
              })),
            }),
          ),
        ),
      );

    // Five statistics of one series: its rows are read once, a day at a time, the event loop
    // turning between days.
    let turns = 0;
    let reading = true;
    const turn = () => {
      turns += 1;
      if (reading) setImmediate(turn);
    };
    setImmediate(turn);
    const answer = await getMetricData(metrics, request(['p50', 'p90', 'p99', 'tm90', 'Maximum']));
    reading = false;
    const results = answer['MetricDataResults'] as Array<{ Id: string; Values: number[] }>;
    assert.equal(results.length, 5);
    const maxima = results.find((r) => r.Id === 'q4')?.Values ?? [];
    assert.ok(maxima.length >= 359 && maxima.every((v) => v === 233), `${maxima.length} hours`);
    const p99 = results.find((r) => r.Id === 'q2')?.Values ?? [];
    assert.ok(p99.every((v) => Math.abs(v - 233) <= 233 * 0.01));
    const rowsRead = recording.reads.reduce((sum, r) => sum + r.rows, 0);
    assert.equal(rowsRead, stored.length, 'every stored minute read once for the five queries');
    assert.ok(recording.reads.length >= 15, `${recording.reads.length} reads`);
    for (const read of recording.reads) {
      assert.ok(read.toMs - read.fromMs <= READ_CHUNK_MS);
      assert.ok(read.rows <= READ_CHUNK_MS / MINUTE_MS);
    }
    assert.ok(turns >= recording.reads.length - 1, `${turns} turns of the loop`);

    // Without a percentile, no histogram is read.
    recording.reads.length = 0;
    await getMetricData(metrics, request(['Sum', 'Average']));
    assert.equal(
      recording.reads.reduce((sum, r) => sum + r.rows, 0),
      stored.length,
    );
    assert.equal(
      recording.reads.reduce((sum, r) => sum + r.histograms, 0),
      0,
    );

    // Past the cap, the request is refused before anything is read.
    recording.reads.length = 0;
    const many = Array.from(
      { length: Math.ceil(MAX_MINUTES_PER_REQUEST / stored.length) + 1 },
      (_, i) => `p${i + 1}`,
    );
    await assert.rejects(
      getMetricData(metrics, request(many)),
      (error: unknown) =>
        error instanceof CloudWatchError &&
        error.code === 'InvalidParameterCombination' &&
        error.message.includes(`more than ${MAX_MINUTES_PER_REQUEST} minutes`),
    );
    assert.equal(recording.reads.length, 0);
  });
});
