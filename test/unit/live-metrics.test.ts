/**
 * LiveMetrics and its Prometheus rendering: counters per function and resource, histogram buckets
 * (cumulative, a value on a bound falls in it), the series cap folding new keys into `_overflow`,
 * spillover, the asynchronous queue's and the mappings' events, the platform gauges, and the
 * exposition text prom-client makes of them.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { InvocationReport } from '../../src/core/invocation-report.js';
import { BucketCounts } from '../../src/monitoring/bucket-counts.js';
import { CachedReading } from '../../src/monitoring/cached-reading.js';
import { LiveMetrics, type FunctionSeries } from '../../src/monitoring/live-metrics.js';
import { prestartedByRuntime, type PlatformGauges } from '../../src/monitoring/platform-gauges.js';
import { PrometheusMetrics } from '../../src/api/prometheus-metrics.js';

function report(overrides: Partial<InvocationReport> = {}): InvocationReport {
  return {
    requestId: 'r',
    functionName: 'fn',
    executedVersion: '$LATEST',
    qualifier: undefined,
    trigger: 'sync',
    receivedMs: 0,
    startMs: 0,
    endMs: 10,
    cold: false,
    initDurationMs: undefined,
    durationMs: 4,
    billedDurationMs: 4,
    memorySizeMiB: 128,
    maxMemoryUsedMiB: 60,
    architecture: 'x86_64',
    outcome: 'success',
    errorType: undefined,
    traceHeader: 'Root=1-00000000-000000000000000000000000;Sampled=0',
    provisioned: false,
    ...overrides,
  };
}

function seriesOf(live: LiveMetrics, name: string, resource: string): FunctionSeries {
  const found = [...live.functions()].find(
    (s) => s.functionName === name && s.resource === resource,
  );
  assert.ok(found, `no series ${name} ${resource}`);
  return found;
}

const NO_PROVISIONED = { provisionedFor: () => false };

/** `name{labels} value` lines of an exposition, as a map from the part before the value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

const GAUGES: PlatformGauges = {
  concurrency: () => ({ byFunction: new Map([['fn', 3]]), unreserved: 2, accountLimit: 1000 }),
  environments: () => ({ starting: 1, idle: 4, busy: 3, reservedMiB: 1024, capacityMiB: 8192 }),
  prestarted: () => [{ family: 'node', ready: 2, taken: 7 }],
  provisioned: () => [
    { functionName: 'fn', qualifier: 'live', requested: 4, allocated: 4, busy: 1 },
    { functionName: 'fn', qualifier: '2', requested: 2, allocated: 0, busy: 0 },
  ],
  asyncQueue: () => Promise.resolve({ waiting: 5, running: 1 }),
  watching: () => ({
    spans: { exported: 40, dropped: 2, queued: 1 },
    otlpRelay: {
      received: 9,
      forwarded: 7,
      dropped: { full: 1, tooLarge: 0, rejected: 0, failed: 1 },
      queuedBodies: 0,
      heldBytes: 0,
    },
    recordsDropped: 3,
  }),
};

describe('BucketCounts', () => {
  test('a value falls in the first bucket whose bound is at least it; cumulative counts', () => {
    const counts = new BucketCounts([0.01, 0.1, 1]);
    for (const value of [0.005, 0.01, 0.05, 0.1, 0.5, 2]) counts.observe(value);
    assert.deepEqual([...counts.counts], [2, 2, 1, 1]);
    assert.deepEqual(counts.cumulative(), [2, 4, 5, 6]);
    assert.equal(counts.count, 6);
    assert.ok(Math.abs(counts.sum - 2.665) < 1e-9);
  });
});

describe('LiveMetrics', () => {
  test('counts invocations by trigger, errors (timeouts too), throttles, cold starts', () => {
    const live = new LiveMetrics(NO_PROVISIONED);
    live.ended(report());
    live.ended(report({ trigger: 'async', outcome: 'error', errorType: 'Handled' }));
    live.ended(report({ outcome: 'timeout' }));
    live.ended(report({ cold: true, initDurationMs: 180 }));
    live.ended(report({ qualifier: 'live' }));
    live.throttled({ functionName: 'fn', qualifier: undefined, trigger: 'sync', atMs: 0 });
    live.throttled({ functionName: 'fn', qualifier: 'live', trigger: 'url', atMs: 0 });

    const latest = seriesOf(live, 'fn', '$LATEST');
    assert.deepEqual([...latest.invocations], [3, 1, 0, 0, 0]);
    assert.equal(latest.errors, 2);
    assert.equal(latest.throttles, 1);
    assert.equal(latest.coldStarts, 1);
    assert.equal(latest.initDuration.count, 1);
    assert.equal(latest.duration.count, 4);
    assert.equal(latest.maxMemoryUsedMiB, 60);
    const alias = seriesOf(live, 'fn', 'live');
    assert.deepEqual([...alias.invocations], [1, 0, 0, 0, 0]);
    assert.equal(alias.throttles, 1);
  });

  test('an invocation whose environment never started has no duration', () => {
    const live = new LiveMetrics(NO_PROVISIONED);
    live.ended(
      report({
        cold: true,
        initDurationMs: 30,
        durationMs: 0,
        billedDurationMs: 0,
        maxMemoryUsedMiB: 0,
        outcome: 'error',
      }),
    );
    const series = seriesOf(live, 'fn', '$LATEST');
    assert.equal(series.duration.count, 0);
    assert.equal(series.errors, 1);
    assert.equal(series.coldStarts, 1);
    assert.equal(series.maxMemoryUsedMiB, 0);
  });

  test('provisioned invocations, and spillover only where provisioned concurrency is set', () => {
    const live = new LiveMetrics({
      provisionedFor: (name, qualifier) => name === 'fn' && qualifier === 'live',
    });
    live.ended(report({ qualifier: 'live', provisioned: true }));
    live.ended(report({ qualifier: 'live', provisioned: false }));
    live.ended(report({ qualifier: 'other', provisioned: false }));
    live.ended(report({ provisioned: false }));
    const alias = seriesOf(live, 'fn', 'live');
    assert.equal(alias.provisionedInvocations, 1);
    assert.equal(alias.spilloverInvocations, 1);
    assert.equal(seriesOf(live, 'fn', 'other').spilloverInvocations, 0);
    assert.equal(seriesOf(live, 'fn', '$LATEST').spilloverInvocations, 0);
  });

  test('the asynchronous queue: received, age at each attempt, drops by reason, failures', () => {
    const live = new LiveMetrics(NO_PROVISIONED);
    live.received('fn', undefined);
    live.received('fn', undefined);
    live.attemptStarted('fn', undefined, 50);
    live.attemptStarted('fn', undefined, 61_000);
    live.dropped('fn', undefined, 'RetriesExhausted');
    live.dropped('fn', undefined, 'EventAgeExceeded');
    live.dropped('fn', undefined, 'EventAgeExceeded');
    live.destinationFailed('fn', undefined);
    live.deadLetterFailed('fn', 'live');
    const series = seriesOf(live, 'fn', '$LATEST');
    assert.equal(series.asyncReceived, 2);
    assert.equal(series.asyncAge.count, 2);
    assert.ok(Math.abs(series.asyncAge.sum - 61.05) < 1e-9);
    assert.equal(series.droppedRetriesExhausted, 1);
    assert.equal(series.droppedEventAgeExceeded, 2);
    assert.equal(series.destinationFailures, 1);
    assert.equal(seriesOf(live, 'fn', 'live').deadLetterErrors, 1);
  });

  test('mapping batches: outcomes, records, the latest iterator age', () => {
    const live = new LiveMetrics(NO_PROVISIONED);
    const batch = {
      functionName: 'worker',
      qualifier: undefined,
      mappingUuid: 'uuid-1',
      source: 'nats',
      startMs: 0,
      endMs: 5,
    };
    live.batchDone({ ...batch, records: 10, iteratorAgeMs: 2500, outcome: 'success' });
    live.batchDone({ ...batch, records: 3, iteratorAgeMs: 900, outcome: 'error' });
    const [series] = [...live.mappings()];
    assert.ok(series);
    assert.deepEqual(
      {
        uuid: series.mappingUuid,
        fn: series.functionName,
        resource: series.resource,
        source: series.source,
        ok: series.succeeded,
        failed: series.failed,
        records: series.records,
        age: series.iteratorAgeMs,
      },
      {
        uuid: 'uuid-1',
        fn: 'worker',
        resource: '$LATEST',
        source: 'nats',
        ok: 1,
        failed: 1,
        records: 13,
        age: 900,
      },
    );
  });

  test('past the series cap, new keys fold into one _overflow series and are counted', () => {
    const live = new LiveMetrics({ ...NO_PROVISIONED, maxSeries: 2 });
    live.ended(report({ functionName: 'a' }));
    live.ended(report({ functionName: 'b' }));
    live.ended(report({ functionName: 'c' }));
    live.throttled({ functionName: 'd', qualifier: 'x', trigger: 'sync', atMs: 0 });
    live.ended(report({ functionName: 'a' }));
    const names = [...live.functions()].map((s) => `${s.functionName}/${s.resource}`);
    assert.deepEqual(names, ['a/$LATEST', 'b/$LATEST', '_overflow/_overflow']);
    const overflow = seriesOf(live, '_overflow', '_overflow');
    assert.equal(overflow.invocations[0], 1);
    assert.equal(overflow.throttles, 1);
    assert.equal(seriesOf(live, 'a', '$LATEST').invocations[0], 2);
    assert.deepEqual(live.cardinality(), { series: 2, folded: 2 });
  });

  test('label values are cut at 256 characters (one series per cut value)', () => {
    const live = new LiveMetrics(NO_PROVISIONED);
    const long = 'x'.repeat(300);
    live.ended(report({ functionName: long }));
    live.ended(report({ functionName: `${long}y` }));
    const [series] = [...live.functions()];
    assert.equal(series?.functionName.length, 256);
    assert.equal(series?.invocations[0], 2);
  });
});

describe('Prometheus rendering', () => {
  test('counters, histograms (cumulative, +Inf, sum, count) and gauges in the text format', async () => {
    const live = new LiveMetrics({ provisionedFor: (_n, q) => q === 'live' });
    live.ended(report({ durationMs: 4 }));
    live.ended(report({ durationMs: 40, outcome: 'error' }));
    live.ended(report({ durationMs: 5000, cold: true, initDurationMs: 120 }));
    live.ended(report({ qualifier: 'live', trigger: 'url' }));
    live.throttled({ functionName: 'capped', qualifier: undefined, trigger: 'sync', atMs: 0 });
    live.received('fn', undefined);
    live.attemptStarted('fn', undefined, 30);
    live.dropped('fn', undefined, 'RetriesExhausted');
    live.batchDone({
      functionName: 'fn',
      qualifier: undefined,
      mappingUuid: 'm-1',
      source: 'redis',
      records: 4,
      iteratorAgeMs: 1500,
      outcome: 'success',
      startMs: 0,
      endMs: 1,
    });
    const metrics = new PrometheusMetrics(live, GAUGES);
    const { contentType, body } = await metrics.render();
    assert.match(contentType, /^text\/plain; version=0\.0\.4/);
    const s = samples(body);
    const fn = 'function_name="fn",resource="$LATEST"';
    assert.equal(s.get(`lamina_invocations_total{${fn},trigger="sync"}`), 3);
    assert.equal(
      s.get('lamina_invocations_total{function_name="fn",resource="live",trigger="url"}'),
      1,
    );
    assert.equal(s.get(`lamina_invocations_total{${fn},trigger="async"}`), undefined);
    assert.equal(s.get(`lamina_invocation_errors_total{${fn}}`), 1);
    assert.equal(s.get('lamina_throttles_total{function_name="capped",resource="$LATEST"}'), 1);
    assert.equal(s.get(`lamina_invocation_duration_seconds_bucket{${fn},le="0.001"}`), 0);
    assert.equal(s.get(`lamina_invocation_duration_seconds_bucket{${fn},le="0.005"}`), 1);
    assert.equal(s.get(`lamina_invocation_duration_seconds_bucket{${fn},le="0.05"}`), 2);
    assert.equal(s.get(`lamina_invocation_duration_seconds_bucket{${fn},le="5"}`), 3);
    assert.equal(s.get(`lamina_invocation_duration_seconds_bucket{${fn},le="+Inf"}`), 3);
    assert.equal(s.get(`lamina_invocation_duration_seconds_count{${fn}}`), 3);
    assert.ok(
      Math.abs((s.get(`lamina_invocation_duration_seconds_sum{${fn}}`) ?? 0) - 5.044) < 1e-9,
    );
    assert.equal(s.get(`lamina_cold_starts_total{${fn}}`), 1);
    assert.equal(s.get(`lamina_init_duration_seconds_bucket{${fn},le="0.25"}`), 1);
    assert.equal(
      s.get(
        'lamina_provisioned_concurrency_spillover_invocations_total{function_name="fn",resource="live"}',
      ),
      1,
    );
    assert.equal(s.get(`lamina_max_memory_used_bytes{${fn}}`), 60 * 1024 * 1024);
    assert.equal(s.get(`lamina_async_events_received_total{${fn}}`), 1);
    assert.equal(s.get(`lamina_async_event_age_seconds_bucket{${fn},le="0.05"}`), 1);
    assert.equal(s.get(`lamina_async_events_dropped_total{${fn},reason="RetriesExhausted"}`), 1);
    assert.equal(s.get(`lamina_async_events_dropped_total{${fn},reason="EventAgeExceeded"}`), 0);
    const mapping = `${fn},event_source_mapping="m-1",source="redis"`;
    assert.equal(
      s.get(`lamina_event_source_mapping_batches_total{${mapping},outcome="success"}`),
      1,
    );
    assert.equal(s.get(`lamina_event_source_mapping_records_total{${mapping}}`), 4);
    assert.equal(s.get(`lamina_event_source_mapping_iterator_age_seconds{${mapping}}`), 1.5);
    // The platform's gauges, read at scrape time.
    assert.equal(s.get('lamina_concurrent_executions{function_name="fn"}'), 3);
    assert.equal(s.get('lamina_unreserved_concurrent_executions'), 2);
    assert.equal(s.get('lamina_account_concurrency_limit'), 1000);
    const live2 = 'function_name="fn",resource="live"';
    assert.equal(s.get(`lamina_provisioned_concurrency_allocated{${live2}}`), 4);
    assert.equal(s.get(`lamina_provisioned_concurrent_executions{${live2}}`), 1);
    assert.equal(s.get(`lamina_provisioned_concurrency_utilization{${live2}}`), 0.25);
    assert.equal(
      s.get('lamina_provisioned_concurrency_utilization{function_name="fn",resource="2"}'),
      0,
    );
    assert.equal(s.get('lamina_environments{state="busy"}'), 3);
    assert.equal(s.get('lamina_environments{state="idle"}'), 4);
    assert.equal(s.get('lamina_environment_memory_reserved_bytes'), 1024 * 1024 * 1024);
    assert.equal(s.get('lamina_prestarted_sandboxes{runtime_family="node"}'), 2);
    assert.equal(s.get('lamina_async_queue_depth{state="waiting"}'), 5);
    assert.equal(s.get('lamina_metrics_overflow_total'), 0);
    // What watching itself dropped.
    assert.equal(s.get('lamina_spans_exported_total'), 40);
    assert.equal(s.get('lamina_spans_dropped_total'), 2);
    assert.equal(s.get('lamina_otlp_relay_bodies_total{outcome="forwarded"}'), 7);
    assert.equal(s.get('lamina_otlp_relay_bodies_total{outcome="dropped_full"}'), 1);
    assert.equal(s.get('lamina_otlp_relay_bodies_total{outcome="dropped_failed"}'), 1);
    assert.equal(s.get('lamina_invocation_records_dropped_total'), 3);
    assert.match(body, /^# TYPE lamina_invocations_total counter$/m);
    assert.match(body, /^# TYPE lamina_invocation_duration_seconds histogram$/m);
    assert.match(body, /^# TYPE lamina_environments gauge$/m);
    // No process metrics before the server starts them.
    assert.doesNotMatch(body, /nodejs_eventloop_lag/);
    metrics.startProcessMetrics();
    const started = (await metrics.render()).body;
    assert.match(started, /^nodejs_eventloop_lag_seconds /m);
    assert.match(started, /^process_resident_memory_bytes /m);
  });

  test('label values are escaped; a store that fails leaves the queue depth out', async () => {
    const live = new LiveMetrics(NO_PROVISIONED);
    live.ended(report({ functionName: 'a"b\\c\nd' }));
    const failing: PlatformGauges = {
      ...GAUGES,
      asyncQueue: () => Promise.reject(new Error('the database is closed')),
    };
    const { body } = await new PrometheusMetrics(live, failing).render();
    assert.ok(body.includes('function_name="a\\"b\\\\c\\nd"'));
    assert.doesNotMatch(body, /^lamina_async_queue_depth\{/m);
  });

  test('scrapes that arrive while one renders share it', async () => {
    const live = new LiveMetrics(NO_PROVISIONED);
    let reads = 0;
    const counting: PlatformGauges = {
      ...GAUGES,
      asyncQueue: () => {
        reads += 1;
        return Promise.resolve({ waiting: 0, running: 0 });
      },
    };
    let now = 0;
    const metrics = new PrometheusMetrics(live, counting, { ms: 1000, now: () => now });
    const [a, b] = await Promise.all([metrics.render(), metrics.render()]);
    assert.equal(a, b);
    assert.equal(reads, 1);
    // Within a second the same rendering is served again; after it, a new one.
    now = 999;
    assert.equal(await metrics.render(), a);
    assert.equal(reads, 1);
    now = 1000;
    await metrics.render();
    assert.equal(reads, 2);
  });
});

describe('CachedReading', () => {
  test('serves a value for its lifetime, shares a read in flight, keeps no failure', async () => {
    // A clock that moves only when told (real time passing must not expire the value).
    let now = 1_000_000;
    const clock = { now: () => now };
    let reads = 0;
    let fail = false;
    const cached = new CachedReading(() => {
      reads += 1;
      return fail ? Promise.reject(new Error('down')) : Promise.resolve(reads);
    }, clock);
    assert.deepEqual(await Promise.all([cached.get(), cached.get()]), [1, 1]);
    now += 999;
    assert.equal(await cached.get(), 1);
    now += 1;
    fail = true;
    await assert.rejects(cached.get(), /down/);
    fail = false;
    assert.equal(await cached.get(), 3);
  });
});

describe('prestartedByRuntime', () => {
  test('families are named by their runtime, added up when they share it, never raw', () => {
    const family = (env: string, dir = '/var/lang') =>
      `${dir}\u0000${env}\u0000node /var/runtime/x`;
    assert.deepEqual(
      prestartedByRuntime([
        { family: family('AWS_Lambda_nodejs20.x'), ready: 2, taken: 1 },
        { family: family('AWS_Lambda_nodejs20.x', '/other'), ready: 1, taken: 4 },
        { family: family('AWS_Lambda_python3.12'), ready: 1, taken: 0 },
        { family: family(''), ready: 3, taken: 0 },
        { family: family('weird"\n name'), ready: 1, taken: 1 },
      ]),
      [
        { family: 'nodejs20.x', ready: 3, taken: 5 },
        { family: 'python3.12', ready: 1, taken: 0 },
        { family: 'other', ready: 4, taken: 1 },
      ],
    );
  });
});
