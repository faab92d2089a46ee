/**
 * Where the asynchronous queue, the event source mappings and the schedules tell the metrics what
 * happened (the AsyncObserver and MappingObserver ports): an attempt and the event's age, a drop
 * and its reason, a destination event queued, a destination that cannot be reached, a batch with
 * its records and iterator age, a dead-letter target that refused a fire. Fakes and a controllable
 * clock; every wait is on the observer's next call or the runner's idleness.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AsyncDispatcher } from '../../src/async/async-dispatcher.js';
import { newEvent, transition, type AsyncEvent } from '../../src/async/async-event.js';
import type { AsyncEventStore, AsyncTargets, EventInvoker } from '../../src/async/ports.js';
import { settingsOf, type AsyncSettings } from '../../src/async/retry-policy.js';
import { LambdaError } from '../../src/core/errors.js';
import { compileFilters } from '../../src/core/event-filter.js';
import {
  mappingSettings,
  NO_RECORDS,
  USER_INITIATED,
  type EventSourceMapping,
} from '../../src/core/event-source-mapping.js';
import type {
  AsyncDropReason,
  AsyncObserver,
  MappingBatch,
  MappingObserver,
} from '../../src/core/platform-events.js';
import { BatchProcessor } from '../../src/event-sources/batch-processor.js';
import type { BatchOutcome, RecordSource, SourceRecord } from '../../src/event-sources/ports.js';
import type { Fire, FireSink } from '../../src/schedules/ports.js';
import { ScheduleRunner } from '../../src/schedules/schedule-runner.js';
import { ScheduleService } from '../../src/schedules/schedule-service.js';
import type { ScheduleRequest } from '../../src/schedules/schedule-rules.js';
import { openSqliteDatabase } from '../../src/store/sqlite-database.js';
import { SqliteScheduleRepository } from '../../src/store/sqlite-schedule-repository.js';
import { ManualClock } from '../helpers/manual-clock.js';

const scope = { region: 'us-east-1', accountId: '000000000000' };
const FN = 'arn:aws:lambda:us-east-1:000000000000:function';

/** Records every call; `next(what)` resolves once a call of that kind has arrived. */
class RecordingObserver implements AsyncObserver, MappingObserver {
  readonly calls: string[] = [];
  readonly batches: MappingBatch[] = [];
  readonly ages: number[] = [];
  /** Each attempt's header, and the header its event was accepted with. */
  readonly headers: Array<[string | undefined, string | undefined]> = [];
  readonly #waiters: Array<{ what: string; resolve: () => void }> = [];

  received(name: string, qualifier: string | undefined): void {
    this.#heard(`received ${name}:${qualifier ?? ''}`);
  }
  attemptStarted(
    name: string,
    qualifier: string | undefined,
    ageMs: number,
    traceHeader?: string,
    eventTraceHeader?: string,
  ): void {
    this.ages.push(ageMs);
    this.headers.push([traceHeader, eventTraceHeader]);
    this.#heard(`attempt ${name}:${qualifier ?? ''}`);
  }
  dropped(name: string, qualifier: string | undefined, reason: AsyncDropReason): void {
    this.#heard(`dropped ${name}:${qualifier ?? ''} ${reason}`);
  }
  destinationFailed(name: string, qualifier: string | undefined): void {
    this.#heard(`destination-failed ${name}:${qualifier ?? ''}`);
  }
  deadLetterFailed(name: string, qualifier: string | undefined): void {
    this.#heard(`dead-letter-failed ${name}:${qualifier ?? ''}`);
  }
  batchDone(batch: MappingBatch): void {
    this.batches.push(batch);
    this.#heard(`batch ${batch.mappingUuid} ${batch.outcome}`);
  }

  /** Resolves once a call starting with `what` was heard (or already had been). */
  next(what: string): Promise<void> {
    if (this.calls.some((call) => call.startsWith(what))) return Promise.resolve();
    // Timers of the code under test do not hold the process open; this does while it waits.
    const keepAlive = setInterval(() => undefined, 60_000);
    return new Promise((resolve) =>
      this.#waiters.push({
        what,
        resolve: () => {
          clearInterval(keepAlive);
          resolve();
        },
      }),
    );
  }

  #heard(call: string): void {
    this.calls.push(call);
    for (const waiter of [...this.#waiters]) {
      if (!call.startsWith(waiter.what)) continue;
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }
}

/** Just enough of the store for the dispatcher: waiting events are claimed when due. */
class MemoryStore implements AsyncEventStore {
  readonly events = new Map<string, AsyncEvent>();
  /** Called with each state recorded, before the dispatcher looks for due events again. */
  onUpdate: (event: AsyncEvent) => void = () => undefined;
  insert(events: readonly AsyncEvent[]): Promise<void> {
    for (const event of events) this.events.set(event.requestId, event);
    return Promise.resolve();
  }
  claimDue(nowMs: number, limit: number): Promise<AsyncEvent[]> {
    const due = [...this.events.values()]
      .filter((e) => e.nextAttemptMs !== undefined && e.nextAttemptMs <= nowMs)
      .slice(0, limit)
      .map((e) => transition(e, 'Running', { nextAttemptMs: undefined }));
    for (const event of due) this.events.set(event.requestId, event);
    return Promise.resolve(due);
  }
  nextDueMs(): Promise<number | undefined> {
    const due = [...this.events.values()].flatMap((e) =>
      e.nextAttemptMs === undefined ? [] : [e.nextAttemptMs],
    );
    return Promise.resolve(due.length === 0 ? undefined : Math.min(...due));
  }
  update(event: AsyncEvent, followUps: readonly AsyncEvent[]): Promise<void> {
    this.events.set(event.requestId, event);
    this.onUpdate(event);
    return this.insert(followUps);
  }
  get(requestId: string): Promise<AsyncEvent | undefined> {
    return Promise.resolve(this.events.get(requestId));
  }
  list(): never {
    throw new Error('not used by the dispatcher');
  }
  requeueRunning(): Promise<number> {
    return Promise.resolve(0);
  }
  pruneFinished(): Promise<number> {
    return Promise.resolve(0);
  }
}

describe('AsyncDispatcher → AsyncObserver', () => {
  function setUp(settings: Partial<AsyncSettings>) {
    const clock = new ManualClock();
    const store = new MemoryStore();
    const observer = new RecordingObserver();
    /** The header each invocation ran with. */
    const invoked: Array<string | undefined> = [];
    const invoker: EventInvoker = {
      // Every attempt is a function error; the destination function succeeds.
      invoke: (request) => {
        invoked.push(request.traceHeader);
        return Promise.resolve({
          executedVersion: '$LATEST',
          outcome: {
            kind: request.functionName === 'dest' ? 'success' : 'function-error',
            payload: Buffer.from('{"errorType":"Boom","errorMessage":"no"}'),
          },
        });
      },
    };
    const targets: AsyncTargets = {
      resolve: (name, qualifier) => Promise.resolve({ name, qualifier }),
      settings: (name) =>
        Promise.resolve(
          name === 'dest' ? settingsOf(undefined) : { ...settingsOf(undefined), ...settings },
        ),
      reservedConcurrency: () => undefined,
    };
    const errors: unknown[] = [];
    const dispatcher = new AsyncDispatcher({
      scope,
      store,
      invoker,
      targets,
      clock,
      ids: { uuid: () => crypto.randomUUID() },
      concurrency: 2,
      onError: (error) => errors.push(error),
      observer,
    });
    const enqueue = async (requestId: string, traceHeader?: string) => {
      await store.insert([
        newEvent({
          requestId,
          functionName: 'fn',
          qualifier: 'live',
          payload: Buffer.from('{}'),
          clientContext: undefined,
          nowMs: clock.now(),
          traceHeader,
        }),
      ]);
    };
    return { clock, store, observer, dispatcher, enqueue, errors, invoked };
  }

  test('an attempt with the age of its event; the drop; the destination event received', async () => {
    const { clock, observer, dispatcher, enqueue } = setUp({
      maximumRetryAttempts: 0,
      onFailure: `${FN}:dest`,
    });
    await enqueue('e1');
    clock.advance(7000);
    await dispatcher.start();
    await observer.next('received dest');
    await observer.next('attempt dest');
    await dispatcher.stop();
    const at = (call: string) => observer.calls.indexOf(call);
    assert.ok(at('attempt fn:live') >= 0, observer.calls.join());
    assert.ok(at('attempt fn:live') < at('dropped fn:live RetriesExhausted'));
    assert.ok(at('received dest:') < at('attempt dest:'));
    assert.ok((observer.ages[0] ?? 0) >= 7000, `age ${observer.ages[0]}`);
    // The destination's own event succeeded: nothing dropped for it.
    assert.ok(!observer.calls.some((call) => call.startsWith('dropped dest')));
  });

  test('each attempt is reported with the header it runs with, under its own span', async () => {
    const { clock, store, observer, dispatcher, enqueue, invoked } = setUp({
      maximumRetryAttempts: 1,
    });
    // A retry is due at once: the clock jumps past its backoff as it is recorded.
    store.onUpdate = (event) => {
      if (event.status === 'Retrying') clock.advance(10 * 60_000);
    };
    const accepted = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=cccccccccccccccc;Sampled=1';
    await enqueue('traced', accepted);
    await dispatcher.start();
    await observer.next('dropped fn:live RetriesExhausted');
    await dispatcher.stop();
    assert.equal(invoked.length, 2);
    assert.deepEqual(
      observer.headers,
      invoked.map((header) => [header, accepted]),
    );
    const parents = invoked.map((header) => /Parent=([0-9a-f]{16})/.exec(header ?? '')?.[1]);
    assert.ok(
      parents.every((p) => p !== undefined && p !== 'cccccccccccccccc'),
      String(parents),
    );
    assert.notEqual(parents[0], parents[1], 'each attempt has its own span');
    assert.ok(invoked.every((h) => h?.startsWith('Root=1-5759e988-bd862e3fe1be46a994272793;')));
  });

  test('an event too old when claimed is dropped as EventAgeExceeded without an attempt', async () => {
    const { clock, observer, dispatcher, enqueue } = setUp({ maximumEventAgeMs: 60_000 });
    await enqueue('old');
    clock.advance(61_000);
    await dispatcher.start();
    await observer.next('dropped fn:live EventAgeExceeded');
    await dispatcher.stop();
    assert.ok(!observer.calls.some((call) => call.startsWith('attempt')));
  });

  test('a destination that cannot be named is a destination delivery failure', async () => {
    const { observer, dispatcher, enqueue, errors } = setUp({
      maximumRetryAttempts: 0,
      onFailure: 'arn:aws:lambda:us-east-1:000000000000:function:bad name!',
    });
    await enqueue('e2');
    await dispatcher.start();
    await observer.next('destination-failed fn:live');
    await observer.next('dropped fn:live');
    await dispatcher.stop();
    assert.equal(errors.length, 1);
  });
});

describe('BatchProcessor → MappingObserver', () => {
  const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
  const source: RecordSource = {
    ordered: false,
    eventOf: (records) => ({ records: records.map((r) => r.event) }),
    batchInfoOf: () => ({}),
    next: () => Promise.reject(new Error('not used')),
    settle: () => Promise.reject(new Error('not used')),
    interrupt: () => undefined,
    close: () => Promise.resolve(),
  };
  const rabbit = {
    kind: 'rabbitmq',
    brokerArn: 'arn:aws:mq:us-east-1:000000000000:broker:b:b-0d9d2b0c-6c0e-4c3a-9a3e-1f2e3d4c5b6a',
    queue: 'orders',
    virtualHost: undefined,
  } as const;
  const mapping: EventSourceMapping = {
    uuid: '0a1b2c3d-0000-4000-8000-000000000001',
    functionName: 'worker',
    qualifier: 'live',
    source: rabbit,
    settings: mappingSettings(rabbit, {
      maximumRetryAttempts: 0,
      onFailure: `${FN}:dead-letters`,
    }),
    enabled: true,
    state: 'Enabled',
    stateTransitionReason: USER_INITIATED,
    lastProcessingResult: NO_RECORDS,
    lastModifiedMs: NOW,
  };
  const record = (id: string, arrivalMs: number): SourceRecord => ({
    id,
    partition: 'p',
    arrivalMs,
    event: { id },
    filterView: { id },
  });

  test('each invocation is a batch: records, iterator age, outcome; a refused OnFailure is counted', async () => {
    const observer = new RecordingObserver();
    const answers: BatchOutcome[] = [
      { kind: 'success', payload: Buffer.from(''), executedVersion: '1' },
      { kind: 'function-error', payload: Buffer.from('{}'), executedVersion: '1', errorType: 'X' },
    ];
    const processor = new BatchProcessor({
      invoker: {
        invoke: () => Promise.resolve(answers.shift() ?? answers[0] ?? ({} as BatchOutcome)),
      },
      destination: { send: () => Promise.reject(new Error('the destination is down')) },
      clock: { now: () => NOW },
      ids: { uuid: () => crypto.randomUUID() },
      pause: () => Promise.resolve(true),
      report: () => undefined,
      observer,
    });
    const target = {
      mapping,
      functionArn: `${FN}:worker:live`,
      source,
      filter: compileFilters([]),
    };
    await processor.process(target, [record('a', NOW - 4000), record('b', NOW - 1000)]);
    await processor.process(target, [record('c', NOW - 250)]);
    assert.deepEqual(
      observer.batches.map((b) => ({
        fn: b.functionName,
        qualifier: b.qualifier,
        uuid: b.mappingUuid,
        source: b.source,
        records: b.records,
        age: b.iteratorAgeMs,
        outcome: b.outcome,
      })),
      [
        {
          fn: 'worker',
          qualifier: 'live',
          uuid: mapping.uuid,
          source: 'rabbitmq',
          records: 2,
          // AWS's IteratorAge: the newest record's age.
          age: 1000,
          outcome: 'success',
        },
        {
          fn: 'worker',
          qualifier: 'live',
          uuid: mapping.uuid,
          source: 'rabbitmq',
          records: 1,
          age: 250,
          outcome: 'error',
        },
      ],
    );
    assert.ok(observer.calls.includes('destination-failed worker:live'));
  });
});

describe('ScheduleRunner → AsyncObserver', () => {
  test('a fire its dead-letter function refused too is a dead-letter error of its target', async () => {
    const db = await openSqliteDatabase(':memory:');
    const repository = new SqliteScheduleRepository(db);
    const clock = new ManualClock();
    const observer = new RecordingObserver();
    const sink: FireSink = {
      deliver: (fire: Fire) =>
        Promise.reject(
          new LambdaError('ResourceNotFoundException', `Function not found: ${fire.functionName}`),
        ),
    };
    const runner = new ScheduleRunner({
      scope,
      repository,
      sink,
      clock,
      random: () => 0,
      onError: () => undefined,
      observer,
    });
    const service = new ScheduleService({
      scope,
      repository,
      roles: { schedulerMayAssume: () => Promise.resolve(true) },
      clock,
      ids: { uuid: () => crypto.randomUUID() },
      random: () => 0,
      onChanged: () => runner.wake(),
    });
    try {
      await service.ensureDefaultGroup();
      runner.start();
      const request: ScheduleRequest = {
        name: 'nightly',
        groupName: undefined,
        expression: 'rate(1 day)',
        timezone: undefined,
        startDateSeconds: undefined,
        endDateSeconds: undefined,
        description: undefined,
        state: undefined,
        kmsKeyArn: undefined,
        clientToken: undefined,
        actionAfterCompletion: undefined,
        flexibleWindow: { mode: 'OFF', maximumWindowMinutes: undefined },
        target: {
          arn: `${FN}:gone`,
          roleArn: 'arn:aws:iam::000000000000:role/sched',
          input: '{}',
          retryPolicy: undefined,
          deadLetterArn: `${FN}:dlq`,
          otherParameters: [],
        },
      };
      await service.create(request);
      await observer.next('dead-letter-failed gone:');
      await runner.idle();
      assert.deepEqual(observer.calls, ['dead-letter-failed gone:']);
    } finally {
      await runner.stop();
      await db.destroy();
    }
  });
});
