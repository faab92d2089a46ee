/**
 * The schedule runner on a real (in-memory) SQLite store, a controllable clock and a fake queue:
 * fires at creation and every period, once for everything missed while stopped, never twice for
 * a fire enqueued before a crash, deliveries retried and dead-lettered, one-time schedules deleted
 * after their fire, disabled schedules silent. Time moves with the clock, never by waiting.
 */
import assert from 'node:assert/strict';
import { after, beforeEach, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { LambdaError } from '../../src/core/errors.js';
import type { Schedule } from '../../src/core/schedule.js';
import type { Fire, FireSink, ScheduleRepository } from '../../src/schedules/ports.js';
import { fireId, ScheduleRunner } from '../../src/schedules/schedule-runner.js';
import { ScheduleService } from '../../src/schedules/schedule-service.js';
import type { ScheduleRequest } from '../../src/schedules/schedule-rules.js';
import type { Database } from '../../src/store/database-schema.js';
import { openSqliteDatabase } from '../../src/store/sqlite-database.js';
import { SqliteScheduleRepository } from '../../src/store/sqlite-schedule-repository.js';
import { ManualClock } from '../helpers/manual-clock.js';

const scope = { region: 'us-east-1', accountId: '000000000000' };
const FN = 'arn:aws:lambda:us-east-1:000000000000:function';
const MINUTE = 60_000;

/** The asynchronous queue as the runner sees it: records fires, refuses the functions it is told to. */
class FakeQueue implements FireSink {
  readonly fires: Fire[] = [];
  readonly duplicates: string[] = [];
  readonly refused = new Map<string, LambdaError>();
  readonly #listeners = new Set<() => void>();

  deliver(fire: Fire): Promise<'enqueued' | 'duplicate'> {
    const refusal = this.refused.get(fire.functionName);
    if (refusal !== undefined) return Promise.reject(refusal);
    let answer: 'enqueued' | 'duplicate' = 'enqueued';
    if (this.fires.some((f) => f.requestId === fire.requestId)) {
      this.duplicates.push(fire.requestId);
      answer = 'duplicate';
    } else this.fires.push(fire);
    for (const listener of [...this.#listeners]) listener();
    return Promise.resolve(answer);
  }

  /** Fires of one function, payloads parsed. */
  of(name: string): unknown[] {
    return this.fires
      .filter((f) => f.functionName === name)
      .map((f) => JSON.parse(f.payload.toString()) as unknown);
  }

  /** Resolves once `ready()` holds, checked after every delivery (fails after 10 s). */
  until(ready: () => boolean, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!ready()) return;
        this.#listeners.delete(check);
        clearTimeout(deadline);
        resolve();
      };
      const deadline = setTimeout(() => {
        this.#listeners.delete(check);
        reject(new Error(`${what}: not reached; fires ${JSON.stringify(this.fires.length)}`));
      }, 10_000);
      this.#listeners.add(check);
      check();
    });
  }
}

function request(name: string, overrides: Partial<ScheduleRequest> = {}): ScheduleRequest {
  return {
    name,
    groupName: undefined,
    expression: 'rate(5 minutes)',
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
      arn: `${FN}:${name}`,
      roleArn: 'arn:aws:iam::000000000000:role/sched',
      input: JSON.stringify({ from: name }),
      retryPolicy: undefined,
      deadLetterArn: undefined,
      otherParameters: [],
    },
    ...overrides,
  };
}

describe('schedule runner', () => {
  let db: Kysely<Database>;
  let repository: ScheduleRepository;
  let clock: ManualClock;
  let queue: FakeQueue;
  let runner: ScheduleRunner;
  let service: ScheduleService;
  const errors: unknown[] = [];

  const newRunner = (store: ScheduleRepository = repository) =>
    new ScheduleRunner({
      scope,
      repository: store,
      sink: queue,
      clock,
      random: () => 0,
      onError: (error) => errors.push(error),
    });

  beforeEach(async () => {
    await runner?.stop();
    await db?.destroy();
    db = await openSqliteDatabase(':memory:');
    repository = new SqliteScheduleRepository(db);
    clock = new ManualClock();
    queue = new FakeQueue();
    errors.length = 0;
    runner = newRunner();
    service = new ScheduleService({
      scope,
      repository,
      roles: { schedulerMayAssume: () => Promise.resolve(true) },
      clock,
      ids: { uuid: () => crypto.randomUUID() },
      random: () => 0,
      onChanged: () => runner.wake(),
    });
    await service.ensureDefaultGroup();
    runner.start();
  });
  after(async () => {
    await runner.stop();
    await db.destroy();
  });

  test('a rate fires at creation with its Input, then once per period as the clock moves', async () => {
    await service.create(request('every5'));
    await queue.until(() => queue.fires.length === 1, 'the first fire');
    assert.deepEqual(queue.of('every5'), [{ from: 'every5' }]);
    await runner.idle();
    clock.advance(5 * MINUTE);
    await queue.until(() => queue.fires.length === 2, 'the second fire');
    clock.advance(5 * MINUTE);
    await queue.until(() => queue.fires.length === 3, 'the third fire');
    await runner.idle();
    const schedule = await service.get(undefined, 'every5');
    assert.equal(schedule.nextFireMs, (schedule.anchorMs ?? 0) + 15 * MINUTE);
    assert.deepEqual(errors, []);
  });

  test('fires missed while the runner was stopped are made once when it starts again', async () => {
    await service.create(request('hourly', { expression: 'rate(1 hour)' }));
    await queue.until(() => queue.fires.length === 1, 'the first fire');
    await runner.stop();
    // A day passes with the server down: 24 occurrences.
    clock.advance(24 * 60 * MINUTE + 30 * MINUTE);
    runner = newRunner();
    runner.start();
    await queue.until(() => queue.fires.length === 2, 'the catch-up fire');
    await runner.idle();
    runner.wake();
    await runner.idle();
    assert.equal(queue.fires.length, 2);
    const schedule = await service.get(undefined, 'hourly');
    assert.ok((schedule.nextFireMs ?? 0) > clock.now(), 'the next fire is after now');
    assert.ok((schedule.nextFireMs ?? 0) <= clock.now() + 60 * MINUTE);
  });

  test('a fire enqueued before a crash (not recorded) is recognised and not enqueued again', async () => {
    let crashes = 1;
    const recordFire: ScheduleRepository['recordFire'] = (...args) => {
      if (crashes-- > 0) return Promise.reject(new Error('the process died here'));
      return repository.recordFire(...args);
    };
    const crashing = new Proxy(repository, {
      get: (target, key) => {
        if (key === 'recordFire') return recordFire;
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    await runner.stop();
    runner = newRunner(crashing);
    runner.start();
    await service.create(request('once-only', { expression: 'rate(1 day)' }));
    await queue.until(() => queue.fires.length === 1, 'the fire');
    await runner.idle();
    assert.equal(errors.length, 1);
    // The failed pass looks again a second later: the same fire, known, only recorded.
    clock.advance(1000);
    await queue.until(() => queue.duplicates.length === 1, 'the repeated fire');
    await runner.idle();
    assert.equal(queue.fires.length, 1);
    const schedule = await service.get(undefined, 'once-only');
    assert.equal(queue.duplicates[0], fireId(schedule.uid, schedule.anchorMs));
    assert.equal(schedule.nextFireMs, schedule.anchorMs + 24 * 60 * MINUTE);
  });

  test('a refused fire is retried with backoff, then goes to the dead-letter function', async () => {
    queue.refused.set(
      'preparing',
      new LambdaError('ResourceConflictException', 'The function is Pending'),
    );
    const base = request('preparing', { expression: 'rate(1 day)' });
    await service.create({
      ...base,
      target: {
        ...(base.target as NonNullable<ScheduleRequest['target']>),
        retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeSeconds: undefined },
        deadLetterArn: `${FN}:dlq`,
      },
    });
    runner.wake();
    await runner.idle();
    assert.equal(await repository.countDeliveries(), 1);
    clock.advance(1000); // the first retry, 1 s later
    runner.wake();
    await runner.idle();
    assert.equal(queue.fires.length, 0);
    clock.advance(2000); // the second (last) retry, 2 s after that
    await queue.until(() => queue.of('dlq').length === 1, 'the dead-letter event');
    await runner.idle();
    const [event] = queue.of('dlq') as Record<string, unknown>[];
    assert.equal(event?.['errorCode'], 'ResourceConflictException');
    assert.equal(event?.['exhaustedRetryCondition'], 'MaximumRetryAttemptsExhausted');
    assert.equal(event?.['retryAttempts'], 2);
    assert.deepEqual(event?.['payload'], { from: 'preparing' });
    assert.equal(await repository.countDeliveries(), 0);
  });

  test('a fire for a function that does not exist goes to the dead-letter function at once', async () => {
    queue.refused.set('gone', new LambdaError('ResourceNotFoundException', 'Function not found'));
    const base = request('gone', { expression: 'rate(1 day)' });
    await service.create({
      ...base,
      target: {
        ...(base.target as NonNullable<ScheduleRequest['target']>),
        deadLetterArn: `${FN}:dlq`,
      },
    });
    await queue.until(() => queue.of('dlq').length === 1, 'the dead-letter event');
    await runner.idle();
    assert.equal(await repository.countDeliveries(), 0);
  });

  test('a one-time schedule with ActionAfterCompletion DELETE is deleted after its fire', async () => {
    const at = new Date(clock.now() + 10 * MINUTE).toISOString().slice(0, 19);
    await service.create(
      request('once', { expression: `at(${at})`, actionAfterCompletion: 'DELETE' }),
    );
    await service.create(request('kept', { expression: `at(${at})` }));
    runner.wake();
    await runner.idle();
    assert.equal(queue.fires.length, 0);
    clock.advance(10 * MINUTE);
    await queue.until(() => queue.fires.length === 2, 'both fires');
    await runner.idle();
    await assert.rejects(service.get(undefined, 'once'), /Schedule once does not exist/);
    const kept = await service.get(undefined, 'kept');
    assert.equal(kept.nextFireMs, undefined);
  });

  test('a disabled schedule does not fire; enabled again it fires on its rhythm', async () => {
    await service.create(request('paused', { state: 'DISABLED' }));
    clock.advance(10 * MINUTE);
    runner.wake();
    await runner.idle();
    assert.equal(queue.fires.length, 0);
    await service.update(request('paused'));
    runner.wake();
    await runner.idle();
    assert.equal(queue.fires.length, 0, 'enabling does not fire at once');
    clock.advance(5 * MINUTE);
    await queue.until(() => queue.fires.length === 1, 'the fire after enabling');
    const schedule: Schedule = await service.get(undefined, 'paused');
    assert.equal(schedule.revision, 2);
  });
});
