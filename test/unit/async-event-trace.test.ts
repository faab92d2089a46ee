/**
 * An asynchronous event's trace and trigger: made when it is accepted (the caller's trace, or a
 * new Root without a decision), kept in SQLite (migration 0013), handed to every attempt under a
 * new parent span, and continued by the destination's event.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { attemptTraceHeader } from '../../src/async/async-dispatcher.js';
import { AsyncEventService } from '../../src/async/async-event-service.js';
import { newEvent } from '../../src/async/async-event.js';
import { settingsOf } from '../../src/async/retry-policy.js';
import { parseXRayHeader } from '../../src/core/trace-context.js';
import type { Database } from '../../src/store/database-schema.js';
import { SqliteAsyncEventStore } from '../../src/store/sqlite-async-event-store.js';
import { openSqliteDatabase } from '../../src/store/sqlite-database.js';

const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);
const ROOT = '1-5759e988-bd862e3fe1be46a994272793';
const CALLER = `Root=${ROOT};Parent=53995c3f42cd8ad8;Sampled=1`;

describe("an asynchronous event's trace", () => {
  let db: Kysely<Database>;
  let store: SqliteAsyncEventStore;
  let service: AsyncEventService;

  before(async () => {
    db = await openSqliteDatabase(':memory:');
    store = new SqliteAsyncEventStore(db);
    let n = 0;
    service = new AsyncEventService({
      scope: { region: 'us-east-1', accountId: '000000000000' },
      store,
      targets: {
        resolve: (name, qualifier) => Promise.resolve({ name, qualifier }),
        settings: () => Promise.resolve(settingsOf(undefined)),
        reservedConcurrency: () => undefined,
      },
      clock: { now: () => T0 },
      ids: { uuid: () => `id-${(n += 1)}` },
      onEnqueued: () => undefined,
      retentionMs: 60_000,
      onError: (error) => assert.fail(String(error)),
    });
  });

  after(async () => {
    await store.flush();
    await db.destroy();
  });

  test("an accepted event keeps the caller's trace, and a schedule's fire says so", async () => {
    await service.accept({
      requestId: 'with-trace',
      functionName: 'fn',
      qualifier: undefined,
      payload: Buffer.from('{}'),
      clientContext: undefined,
      traceHeader: CALLER,
    });
    const stored = await store.get('with-trace');
    assert.equal(stored?.traceHeader, CALLER);
    assert.equal(stored?.trigger, 'async');

    await service.accept({
      requestId: 'fired',
      functionName: 'fn',
      qualifier: undefined,
      payload: Buffer.from('{}'),
      clientContext: undefined,
      trigger: 'schedule',
    });
    const fired = await store.get('fired');
    assert.equal(fired?.trigger, 'schedule');
    // No caller: a new Root stamped with the acceptance's second, no Parent, no decision.
    const trace = parseXRayHeader(fired?.traceHeader);
    assert.equal(trace?.traceId.slice(0, 8), Math.floor(T0 / 1000).toString(16));
    assert.equal(trace?.parentId, undefined);
    assert.equal(trace?.sampled, undefined);
    assert.equal(
      fired?.traceHeader,
      `Root=1-${trace?.traceId.slice(0, 8)}-${trace?.traceId.slice(8)}`,
    );

    // A replay is a new event, in a new trace, from the same sender.
    const replayed = await service.replay('fired');
    assert.equal(replayed.trigger, 'schedule');
    assert.notEqual(replayed.traceHeader, fired?.traceHeader);
  });

  test('events stored before the columns existed read back as async, without a trace', async () => {
    await store.insert([
      newEvent({
        requestId: 'old',
        functionName: 'fn',
        qualifier: undefined,
        payload: Buffer.from('{}'),
        clientContext: undefined,
        nowMs: T0,
      }),
    ]);
    await db
      .updateTable('async_events')
      .set({ trace_header: null, trigger: null })
      .where('request_id', '=', 'old')
      .execute();
    const old = await store.get('old');
    assert.equal(old?.traceHeader, undefined);
    assert.equal(old?.trigger, 'async');
    assert.equal(old === undefined ? 'missing' : attemptTraceHeader(old), undefined);
  });

  test('each attempt runs under a new parent span, in the same trace and with the same decision', () => {
    const event = newEvent({
      requestId: 'e',
      functionName: 'fn',
      qualifier: undefined,
      payload: Buffer.from('{}'),
      clientContext: undefined,
      nowMs: T0,
      traceHeader: CALLER,
    });
    const first = parseXRayHeader(attemptTraceHeader(event));
    const second = parseXRayHeader(attemptTraceHeader(event));
    assert.equal(first?.traceId, '5759e988bd862e3fe1be46a994272793');
    assert.equal(first?.sampled, true);
    assert.match(first?.parentId ?? '', /^[0-9a-f]{16}$/);
    assert.notEqual(first?.parentId, '53995c3f42cd8ad8');
    assert.notEqual(first?.parentId, second?.parentId);
  });
});
