/**
 * The statistics CloudWatch metrics are read with: percentiles from the log histogram against the
 * exact nearest-rank values (within its 1 % bucket error, also after merging minutes and an
 * encode/decode round trip), the basic statistics, trimmed means, and how minutes are rolled up
 * into periods (start rounded down, end exclusive, only periods with data).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bucketOf, LogHistogram, RELATIVE_ACCURACY } from '../../src/monitoring/log-histogram.js';
import {
  MetricAggregate,
  parseStatistic,
  statisticValue,
  type Statistic,
} from '../../src/monitoring/metric-aggregate.js';
import {
  alignedStart,
  requestedDatapoints,
  rollUp,
  validPeriod,
} from '../../src/monitoring/metric-periods.js';

/** A deterministic pseudo-random source (xorshift), so failures reproduce. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) % 1_000_000) / 1_000_000;
  };
}

function exactPercentile(values: readonly number[], percent: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((percent / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

function stat(text: string): Statistic {
  const parsed = parseStatistic(text);
  assert.ok(parsed !== undefined, text);
  return parsed;
}

function aggregateOf(values: readonly number[]): MetricAggregate {
  const aggregate = new MetricAggregate();
  for (const value of values) aggregate.add(value);
  return aggregate;
}

describe('percentiles from the log histogram', () => {
  test('within the bucket error of the exact value, over several distributions', () => {
    const next = random(42);
    const distributions: Record<string, number[]> = {
      // Durations: mostly a few ms, a long tail up to seconds.
      durations: Array.from({ length: 5000 }, () => 0.5 + Math.exp(next() * 8)),
      uniform: Array.from({ length: 2000 }, () => 1 + next() * 999),
      small: [3, 1, 2],
      repeated: Array.from({ length: 100 }, () => 7.25),
    };
    for (const [name, values] of Object.entries(distributions)) {
      const aggregate = aggregateOf(values);
      for (const percent of [0, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 100]) {
        const exact = exactPercentile(values, percent);
        const read = statisticValue(aggregate, stat(`p${percent}`));
        assert.ok(read !== undefined);
        assert.ok(
          Math.abs(read - exact) <= exact * RELATIVE_ACCURACY + 1e-12,
          `${name} p${percent}: ${read} vs exact ${exact}`,
        );
      }
    }
  });

  test('merging minutes gives the percentiles of all their values; encoding keeps them', () => {
    const next = random(7);
    const minutes = Array.from({ length: 10 }, (_, m) =>
      Array.from({ length: 300 }, () => (m + 1) * (1 + next() * 50)),
    );
    const merged = new MetricAggregate();
    for (const values of minutes) {
      const minute = aggregateOf(values);
      const decoded = new MetricAggregate(LogHistogram.decode(minute.histogram.encode()));
      decoded.count = minute.count;
      decoded.sum = minute.sum;
      decoded.min = minute.min;
      decoded.max = minute.max;
      merged.merge(decoded);
    }
    const all = minutes.flat();
    for (const percent of [50, 90, 99]) {
      const exact = exactPercentile(all, percent);
      const read = statisticValue(merged, stat(`p${percent}`)) ?? NaN;
      assert.ok(Math.abs(read - exact) <= exact * RELATIVE_ACCURACY, `p${percent}`);
    }
    assert.equal(merged.count, 3000);
    assert.equal(statisticValue(merged, stat('Maximum')), Math.max(...all));
  });

  test('zeros are read back as 0; a histogram that is not one decodes empty', () => {
    const aggregate = aggregateOf([0, 0, 0, 5]);
    assert.equal(statisticValue(aggregate, stat('p50')), 0);
    assert.equal(statisticValue(aggregate, stat('p100')), 5);
    for (const bad of [
      [1, 2, 3], // cut short
      [0, 1, 4, 1, 9], // a byte left over
      [0, 2, 4, 1, 0, 1], // the same bucket twice
      [0, 1, 0xc0, 0xf1, 0x04, 1], // an index past the largest
      [0, 1, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], // a count past 2^53
      [0, 100, 2, 1], // more buckets than bytes
    ]) {
      assert.equal(LogHistogram.decode(Uint8Array.from(bad)).total, 0, String(bad));
      const into = aggregateOf([5]).histogram;
      assert.equal(into.addEncoded(Uint8Array.from(bad)), false);
      assert.equal(into.total, 1, 'a bad blob adds nothing');
    }
  });

  test('a stored histogram takes a few bytes a bucket', () => {
    const next = random(11);
    const values = Array.from({ length: 1000 }, () => 1 + next() * 500);
    const aggregate = aggregateOf(values);
    const bytes = aggregate.histogram.encode();
    const buckets = new Set(values.map(bucketOf)).size;
    // A step and a count of one byte each, where 16 bytes a bucket were taken before.
    assert.ok(bytes.byteLength <= 2 * buckets + 4, `${bytes.byteLength} bytes, ${buckets} buckets`);
    const decoded = LogHistogram.decode(bytes);
    assert.equal(decoded.total, 1000);
    assert.equal(decoded.quantile(0.5), aggregate.histogram.quantile(0.5));
    assert.deepEqual(LogHistogram.decode(new LogHistogram().encode()).total, 0);
  });
});

describe('statistics', () => {
  test('Sum, Average, Minimum, Maximum, SampleCount are exact', () => {
    const aggregate = aggregateOf([4, 1, 10, 5]);
    assert.equal(statisticValue(aggregate, stat('Sum')), 20);
    assert.equal(statisticValue(aggregate, stat('Average')), 5);
    assert.equal(statisticValue(aggregate, stat('Minimum')), 1);
    assert.equal(statisticValue(aggregate, stat('Maximum')), 10);
    assert.equal(statisticValue(aggregate, stat('SampleCount')), 4);
    assert.equal(statisticValue(new MetricAggregate(), stat('Sum')), undefined);
  });

  test('trimmed means and IQM drop the values outside their percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    values[99] = 100_000;
    const aggregate = aggregateOf(values);
    const tm99 = statisticValue(aggregate, stat('tm99')) ?? NaN;
    assert.ok(Math.abs(tm99 - 50) <= 50 * 0.02, `tm99 ${tm99}`);
    const iqm = statisticValue(aggregate, stat('IQM')) ?? NaN;
    assert.ok(Math.abs(iqm - 50.5) <= 50.5 * 0.02, `IQM ${iqm}`);
    assert.ok(statisticValue(aggregate, stat('tm(10%:90%)')) !== undefined);
  });

  test('which statistic names are taken', () => {
    for (const good of ['p0', 'p50', 'p99.9', 'p99.99', 'p100', 'tm90', 'IQM', 'tm(5%:95%)'])
      assert.ok(parseStatistic(good) !== undefined, good);
    for (const bad of ['p101', 'p', 'P99', 'p99.999', 'avg', 'sum', 'tm(90%:10%)', ''])
      assert.equal(parseStatistic(bad), undefined, bad);
  });
});

describe('periods', () => {
  const minute = (m: number) => Date.UTC(2030, 0, 1, 12, m);

  test('CloudWatch takes periods of 1, 5, 10, 30 seconds or multiples of 60', () => {
    for (const good of [1, 5, 10, 30, 60, 120, 300, 3600, 86_400]) assert.ok(validPeriod(good));
    for (const bad of [0, -60, 2, 45, 59, 61, 90.5]) assert.ok(!validPeriod(bad), String(bad));
  });

  test('the start is rounded down to the minute; the datapoint count is the range over the period', () => {
    assert.equal(alignedStart(minute(32) + 34_000, 300), minute(32));
    assert.equal(alignedStart(minute(32) + 34_000, 30), minute(32) + 30_000);
    assert.equal(requestedDatapoints(0, 86_400_000, 1), 86_400);
    assert.equal(requestedDatapoints(0, 3_600_000, 300), 12);
  });

  test('minutes roll up into periods from the start; the end is exclusive; empty periods are left out', () => {
    const minutes = new Map<number, MetricAggregate>();
    for (const m of [0, 1, 4, 5, 9, 10]) minutes.set(minute(m), aggregateOf([m + 1]));
    const periods = rollUp(minutes, minute(0) + 15_000, minute(10), 300, false);
    assert.deepEqual(
      periods.map((p) => [p.timestampMs, p.aggregate.count, p.aggregate.sum]),
      [
        [minute(0), 3, 1 + 2 + 5],
        [minute(5), 2, 6 + 10],
      ],
    );
    const perMinute = rollUp(minutes, minute(3), minute(6), 60, false);
    assert.deepEqual(
      perMinute.map((p) => p.timestampMs),
      [minute(4), minute(5)],
    );
  });
});
