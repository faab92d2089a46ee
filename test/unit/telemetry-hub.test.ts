/** TelemetryHub: batching by the subscription's limits, API-specific event types, the init backlog, drops. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type {
  TelemetryDestination,
  TelemetrySubscription,
} from '../../src/core/extension-protocol.js';
import type { TelemetrySender } from '../../src/environment/ports.js';
import { TelemetryHub } from '../../src/environment/telemetry-hub.js';

/** Records batches; `hold` keeps sends pending until released. */
class RecordingSender implements TelemetrySender {
  readonly batches: Array<Array<{ type: string; record: unknown }>> = [];
  hold = false;
  #release: Array<() => void> = [];
  #waiters: Array<() => void> = [];
  send(_destination: TelemetryDestination, events: readonly string[]): Promise<void> {
    this.batches.push(events.map((e) => JSON.parse(e) as { type: string; record: unknown }));
    for (const wake of this.#waiters.splice(0)) wake();
    if (!this.hold) return Promise.resolve();
    return new Promise((resolve) => this.#release.push(resolve));
  }
  releaseAll(): void {
    this.hold = false;
    for (const release of this.#release.splice(0)) release();
  }
  /** Resolves once `count` batches were sent. */
  async batchesSent(count: number): Promise<void> {
    while (this.batches.length < count) await new Promise<void>((r) => this.#waiters.push(r));
  }
}

const subscription = (over: Partial<TelemetrySubscription> = {}): TelemetrySubscription => ({
  api: 'telemetry',
  schemaVersion: '2022-12-13',
  categories: ['platform', 'function'],
  maxItems: 1000,
  maxBytes: 262_144,
  timeoutMs: 25,
  destination: { protocol: 'HTTP', port: 8080, path: '/' },
  ...over,
});

describe('TelemetryHub', () => {
  test('a subscriber gets the init backlog, then events in batches when the timeout passes', async () => {
    const sender = new RecordingSender();
    const hub = new TelemetryHub(sender, () => Date.parse('2026-11-22T00:00:00Z'));
    hub.emit('platform', 'platform.initStart', { phase: 'init' });
    hub.emit('extension', 'extension', 'not subscribed');
    hub.subscribe('ext', subscription());
    hub.endInit();
    hub.emit('function', 'function', 'hello');
    await sender.batchesSent(1);
    assert.deepEqual(
      sender.batches[0]?.map((e) => e.type),
      ['platform.initStart', 'platform.telemetrySubscription', 'function'],
    );
    assert.deepEqual(sender.batches[0]?.[1]?.record, {
      name: 'ext',
      state: 'Subscribed',
      types: ['platform', 'function'],
    });
    hub.close();
  });

  test('maxItems sends a batch at once; events beyond it wait for the next batch', async () => {
    const sender = new RecordingSender();
    const hub = new TelemetryHub(sender, () => Date.now());
    hub.endInit();
    hub.subscribe('ext', subscription({ maxItems: 1000, timeoutMs: 30_000 }));
    for (let i = 0; i < 1500; i += 1) hub.emit('function', 'function', `line ${i}`);
    await sender.batchesSent(1);
    assert.equal(sender.batches[0]?.length, 1000);
    hub.close();
    await sender.batchesSent(2);
    // The first batch held the subscription event and 999 lines; the other 501 lines follow.
    assert.equal(sender.batches[1]?.length, 501);
  });

  test('the Logs API gets its own event types', async () => {
    const sender = new RecordingSender();
    const hub = new TelemetryHub(sender, () => Date.now());
    hub.subscribe('old', subscription({ api: 'logs', schemaVersion: '2020-08-15' }));
    hub.endInit();
    hub.emit('platform', 'platform.initReport', {});
    hub.emit('platform', 'platform.start', { requestId: 'r' });
    hub.emit('platform', 'platform.runtimeDone', { requestId: 'r' });
    hub.emit('platform', 'platform.end', { requestId: 'r' });
    hub.emit('platform', 'platform.report', { requestId: 'r' });
    hub.close();
    await sender.batchesSent(1);
    assert.deepEqual(
      sender.batches.flat().map((e) => e.type),
      ['platform.logsSubscription', 'platform.start', 'platform.end', 'platform.report'],
    );
  });

  test('when a slow subscriber falls behind, events are dropped and platform.logsDropped says so', async () => {
    const sender = new RecordingSender();
    sender.hold = true;
    const hub = new TelemetryHub(sender, () => Date.now());
    hub.endInit();
    hub.subscribe('slow', subscription({ maxBytes: 262_144, maxItems: 1000 }));
    const line = 'x'.repeat(10_000);
    // The first full batch goes out and hangs; the buffer then fills to its cap and drops.
    for (let i = 0; i < 200; i += 1) hub.emit('function', 'function', line);
    await sender.batchesSent(1);
    sender.releaseAll();
    await sender.batchesSent(2);
    const dropped = sender.batches.flat().find((e) => e.type === 'platform.logsDropped');
    assert.ok(dropped, 'platform.logsDropped was sent');
    const record = dropped.record as {
      droppedRecords: number;
      droppedBytes: number;
      reason: string;
    };
    assert.ok(record.droppedRecords > 0);
    assert.ok(record.droppedBytes >= record.droppedRecords * 10_000);
    const delivered = sender.batches.flat().filter((e) => e.type === 'function').length;
    hub.close();
    assert.ok(delivered + record.droppedRecords <= 200);
  });
  test('listening: during init, then only while someone is subscribed', () => {
    const hub = new TelemetryHub(new RecordingSender(), () => Date.now());
    assert.equal(hub.listening, true, 'init events are kept for later subscribers');
    hub.endInit();
    assert.equal(hub.listening, false, 'after init nobody receives events');
    hub.subscribe('ext', subscription());
    assert.equal(hub.listening, true);
    hub.close();
  });
});
