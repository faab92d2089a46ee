/**
 * The recorder batches reports off the invoke path, meters provisioned concurrency per minute
 * split at hours, prunes in bounded steps, and counts (never throws on) what it cannot write.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InvocationReport } from '../../src/core/invocation-report.js';
import {
  accrualsBetween,
  InvocationRecorder,
  MAX_PENDING,
} from '../../src/monitoring/invocation-recorder.js';
import type {
  InvocationRecordStore,
  ProvisionedAccrual,
  ProvisionedNow,
} from '../../src/monitoring/invocation-records.js';
import { ManualClock } from '../helpers/manual-clock.js';

function report(n: number): InvocationReport {
  return {
    requestId: `r${n}`,
    functionName: 'f',
    executedVersion: '$LATEST',
    qualifier: undefined,
    trigger: 'sync',
    receivedMs: 0,
    startMs: 0,
    endMs: 0,
    cold: false,
    initDurationMs: undefined,
    durationMs: 1.5,
    billedDurationMs: 2,
    memorySizeMiB: 128,
    maxMemoryUsedMiB: 40,
    architecture: 'x86_64',
    outcome: 'success',
    errorType: undefined,
    traceHeader: 'Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0',
    provisioned: false,
  };
}

class FakeStore implements InvocationRecordStore {
  readonly appended: Array<{ reports: number; accruals: ProvisionedAccrual[] }> = [];
  failNext = false;
  pruneCalls: Array<[number, number]> = [];
  rowsToPrune = 0;
  append(reports: readonly InvocationReport[], accruals: readonly ProvisionedAccrual[]) {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('disk full'));
    }
    this.appended.push({ reports: reports.length, accruals: [...accruals] });
    return Promise.resolve();
  }
  list() {
    return Promise.resolve([]);
  }
  usage() {
    return Promise.resolve([]);
  }
  pruneRecords(cutoffMs: number, max: number) {
    this.pruneCalls.push([cutoffMs, max]);
    const n = Math.min(max, this.rowsToPrune);
    this.rowsToPrune -= n;
    return Promise.resolve(n);
  }
  pruneUsage() {
    return Promise.resolve(0);
  }
}

function recorder(store: FakeStore, clock: ManualClock, provisioned: ProvisionedNow[] = []) {
  const errors: unknown[] = [];
  const r = new InvocationRecorder({
    store,
    clock,
    retentionMs: 7 * 86_400_000,
    usageRetentionMs: 400 * 86_400_000,
    provisionedNow: () => Promise.resolve(provisioned),
    onError: (error) => errors.push(error),
  });
  return { r, errors };
}

test('reports are written together in one batch, after the caller has moved on', async () => {
  const store = new FakeStore();
  const { r } = recorder(store, new ManualClock());
  for (let i = 0; i < 10; i += 1) r.ended(report(i));
  assert.equal(store.appended.length, 0, 'nothing is written while reports come in');
  await r.flush();
  assert.deepEqual(
    store.appended.map((a) => a.reports),
    [10],
  );
  await r.flush();
  assert.equal(store.appended.length, 1, 'an empty flush writes nothing');
});

test('past MAX_PENDING waiting reports, new ones are dropped and counted', async () => {
  const store = new FakeStore();
  const { r } = recorder(store, new ManualClock());
  for (let i = 0; i < MAX_PENDING + 5; i += 1) r.ended(report(i));
  assert.equal(r.dropped, 5);
  await r.flush();
  assert.equal(store.appended[0]?.reports, MAX_PENDING);
});

test('a batch the store refuses is counted and reported, and the next one is written', async () => {
  const store = new FakeStore();
  const { r, errors } = recorder(store, new ManualClock());
  store.failNext = true;
  r.ended(report(1));
  r.ended(report(2));
  await r.flush();
  assert.equal(r.dropped, 2);
  assert.equal(errors.length, 1);
  r.ended(report(3));
  await r.flush();
  assert.deepEqual(
    store.appended.map((a) => a.reports),
    [1],
  );
});

test('provisioned concurrency is metered every minute from the allocation, and on stop', async () => {
  const store = new FakeStore();
  const clock = new ManualClock();
  const allocation: ProvisionedNow = {
    functionName: 'p',
    version: '1',
    architecture: 'arm64',
    memoryMiB: 256,
    allocated: 2,
  };
  const { r } = recorder(store, clock, [allocation]);
  const wrote = new Promise<void>((resolve) => {
    const original = store.append.bind(store);
    store.append = async (reports, accruals) => {
      await original(reports, accruals);
      if (accruals.length > 0) resolve();
    };
  });
  r.start();
  clock.advance(60_000);
  await wrote;
  const metered = store.appended.flatMap((a) => a.accruals);
  const total = metered.reduce((sum, a) => sum + a.mibMs, 0);
  // 2 environments × 256 MiB for (at least) the minute the clock moved.
  assert.ok(total >= 2 * 256 * 60_000, String(total));
  assert.ok(total < 2 * 256 * 61_000, String(total));
  await r.stop();
});

test('an accrual is split at the hours it crosses', () => {
  const allocation: ProvisionedNow = {
    functionName: 'p',
    version: '3',
    architecture: 'x86_64',
    memoryMiB: 1024,
    allocated: 1,
  };
  const hour = 3_600_000;
  const from = 5 * hour - 1000;
  const parts = accrualsBetween(allocation, from, 6 * hour + 500);
  assert.deepEqual(
    parts.map((p) => [p.hourMs, p.mibMs]),
    [
      [4 * hour, 1024 * 1000],
      [5 * hour, 1024 * hour],
      [6 * hour, 1024 * 500],
    ],
  );
  assert.deepEqual(accrualsBetween(allocation, from, from), []);
});

test('pruning deletes in bounded steps until less than a step is left', async () => {
  const store = new FakeStore();
  const clock = new ManualClock();
  const { r } = recorder(store, clock);
  store.rowsToPrune = 12_345;
  const deleted = await r.prune();
  assert.equal(deleted, 12_345);
  assert.equal(store.pruneCalls.length, 3);
  for (const [cutoff, max] of store.pruneCalls) {
    assert.ok(Math.abs(cutoff - (clock.now() - 7 * 86_400_000)) < 5_000);
    assert.equal(max, 5_000);
  }
});

test('batches still being written count against MAX_PENDING', async () => {
  const store = new FakeStore();
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const original = store.append.bind(store);
  store.append = async (reports, accruals) => {
    await held;
    await original(reports, accruals);
  };
  const { r } = recorder(store, new ManualClock());
  for (let i = 0; i < MAX_PENDING; i += 1) r.ended(report(i));
  const writing = r.flush();
  // The store has not written the first batch: there is no room for more.
  r.ended(report(-1));
  assert.equal(r.dropped, 1);
  release();
  await writing;
  r.ended(report(-2));
  assert.equal(r.dropped, 1);
  await r.flush();
  assert.deepEqual(
    store.appended.map((a) => a.reports),
    [MAX_PENDING, 1],
  );
});
