/**
 * AsyncDispatcher with fakes: an in-memory event store, an invoker whose attempts the test ends,
 * and a clock the test moves. Nothing waits on time: each step waits for the invoker's next call
 * or the store's next write.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AsyncDispatcher } from '../../src/async/async-dispatcher.js';
import { newEvent, transition, type AsyncEvent } from '../../src/async/async-event.js';
import type { AsyncEventStore, AsyncTargets, EventInvoker } from '../../src/async/ports.js';
import { settingsOf, type AsyncSettings } from '../../src/async/retry-policy.js';
import { LambdaError } from '../../src/core/errors.js';
import { ManualClock } from '../helpers/manual-clock.js';

/** Resolves when `check` answers true, checked after every change `subscribe` reports. */
function when(subscribe: (listener: () => void) => void, check: () => boolean): Promise<void> {
  if (check()) return Promise.resolve();
  // The dispatcher's timers never hold the process open: this handle does, while the test waits.
  const keepAlive = setInterval(() => undefined, 60_000);
  return new Promise((resolve) => {
    let done = false;
    subscribe(() => {
      if (!done && check()) {
        done = true;
        clearInterval(keepAlive);
        resolve();
      }
    });
  });
}

const waiting = (event: AsyncEvent) => event.status === 'Queued' || event.status === 'Retrying';

/** The store's rules, kept in a Map (test-only; the real one is SqliteAsyncEventStore). */
class MemoryEventStore implements AsyncEventStore {
  readonly events = new Map<string, AsyncEvent>();
  /** Every `update`, in order, with its follow-ups. */
  readonly updates: Array<{ event: AsyncEvent; followUps: readonly AsyncEvent[] }> = [];
  readonly #listeners: Array<() => void> = [];

  onWrite(listener: () => void): void {
    this.#listeners.push(listener);
  }

  insert(events: readonly AsyncEvent[]): Promise<void> {
    for (const event of events) this.events.set(event.requestId, event);
    return Promise.resolve();
  }

  claimDue(
    nowMs: number,
    limit: number,
    excluded: readonly string[],
    roomFor: (functionName: string) => number,
  ): Promise<AsyncEvent[]> {
    const due = [...this.events.values()]
      .filter((e) => waiting(e) && (e.nextAttemptMs ?? Infinity) <= nowMs)
      .filter((e) => !excluded.includes(e.functionName))
      .sort((a, b) => (a.nextAttemptMs ?? 0) - (b.nextAttemptMs ?? 0));
    const taken = new Map<string, number>();
    const claimed: AsyncEvent[] = [];
    for (const event of due) {
      if (claimed.length >= limit) break;
      const already = taken.get(event.functionName) ?? 0;
      if (already >= roomFor(event.functionName)) continue;
      taken.set(event.functionName, already + 1);
      const running = transition(event, 'Running', { nextAttemptMs: undefined });
      this.events.set(running.requestId, running);
      claimed.push(running);
    }
    return Promise.resolve(claimed);
  }

  nextDueMs(excluded: readonly string[]): Promise<number | undefined> {
    const due = [...this.events.values()]
      .filter((e) => waiting(e) && !excluded.includes(e.functionName))
      .map((e) => e.nextAttemptMs ?? Infinity);
    return Promise.resolve(due.length === 0 ? undefined : Math.min(...due));
  }

  update(event: AsyncEvent, followUps: readonly AsyncEvent[]): Promise<void> {
    this.events.set(event.requestId, event);
    for (const followUp of followUps) this.events.set(followUp.requestId, followUp);
    this.updates.push({ event, followUps });
    for (const listener of this.#listeners) listener();
    return Promise.resolve();
  }

  get(requestId: string): Promise<AsyncEvent | undefined> {
    return Promise.resolve(this.events.get(requestId));
  }

  list(): never {
    throw new Error('not used by the dispatcher');
  }

  requeueRunning(nowMs: number): Promise<number> {
    let count = 0;
    for (const event of this.events.values()) {
      if (event.status !== 'Running') continue;
      const back = transition(event, event.attempts === 0 ? 'Queued' : 'Retrying', {
        nextAttemptMs: nowMs,
      });
      this.events.set(back.requestId, back);
      count += 1;
    }
    return Promise.resolve(count);
  }

  pruneFinished(): Promise<number> {
    return Promise.resolve(0);
  }

  status(requestId: string): string | undefined {
    return this.events.get(requestId)?.status;
  }
}

type Attempt = Parameters<EventInvoker['invoke']>[0];
type Answer = Awaited<ReturnType<EventInvoker['invoke']>>;

/** An invoker whose attempts stay open until the test ends them. */
class HeldInvoker implements EventInvoker {
  readonly calls: Array<{
    readonly request: Attempt;
    readonly succeed: (payload?: string) => void;
    readonly failWith: (payload: string) => void;
    readonly reject: (error: unknown) => void;
  }> = [];
  readonly #listeners: Array<() => void> = [];

  onCall(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /** Resolves once `count` attempts have started in all. */
  started(count: number): Promise<void> {
    return when(
      (listener) => this.onCall(listener),
      () => this.calls.length >= count,
    );
  }

  invoke(request: Attempt): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      const answer = (kind: 'success' | 'function-error', payload: string) =>
        resolve({ executedVersion: '$LATEST', outcome: { kind, payload: Buffer.from(payload) } });
      this.calls.push({
        request,
        succeed: (payload = '"ok"') => answer('success', payload),
        failWith: (payload) => answer('function-error', payload),
        reject,
      });
      for (const listener of this.#listeners) listener();
    });
  }
}

function setUp(options: {
  concurrency: number;
  reserved?: Record<string, number>;
  settings?: Partial<AsyncSettings>;
}) {
  const clock = new ManualClock();
  const store = new MemoryEventStore();
  const invoker = new HeldInvoker();
  const errors: unknown[] = [];
  const targets: AsyncTargets = {
    resolve: (name, qualifier) => Promise.resolve({ name, qualifier }),
    settings: () => Promise.resolve({ ...settingsOf(undefined), ...options.settings }),
    reservedConcurrency: (name) => options.reserved?.[name],
  };
  let ids = 0;
  const dispatcher = new AsyncDispatcher({
    scope: { region: 'us-east-1', accountId: '000000000000' },
    store,
    invoker,
    targets,
    clock,
    ids: { uuid: () => `follow-up-${(ids += 1)}` },
    concurrency: options.concurrency,
    onError: (error) => errors.push(error),
  });
  const enqueue = async (requestId: string, functionName: string) => {
    await store.insert([
      newEvent({
        requestId,
        functionName,
        qualifier: undefined,
        payload: Buffer.from('{}'),
        clientContext: undefined,
        nowMs: clock.now(),
      }),
    ]);
    dispatcher.wake();
  };
  const written = (check: () => boolean) => when((listener) => store.onWrite(listener), check);
  return { clock, store, invoker, dispatcher, enqueue, written, errors };
}

describe('AsyncDispatcher', () => {
  test('nothing runs before start; start puts back what a crash left Running', async () => {
    const { store, invoker, dispatcher, enqueue } = setUp({ concurrency: 4 });
    await enqueue('e1', 'fn');
    assert.equal(invoker.calls.length, 0);
    const crashed = transition((await store.get('e1')) as AsyncEvent, 'Running');
    await store.update(crashed, []);
    assert.equal(await dispatcher.start(), 1);
    await invoker.started(1);
    assert.equal(invoker.calls[0]?.request.requestId, 'e1');
    invoker.calls[0]?.succeed();
    await dispatcher.stop();
    assert.equal(store.status('e1'), 'Succeeded');
  });

  test('runs at most `concurrency` events at once, and the next when one ends', async () => {
    const { store, invoker, dispatcher, enqueue, written } = setUp({ concurrency: 2 });
    await dispatcher.start();
    for (const id of ['a', 'b', 'c']) await enqueue(id, `fn-${id}`);
    await invoker.started(2);
    assert.equal(dispatcher.running, 2);
    assert.equal(store.status('c'), 'Queued');
    invoker.calls[0]?.succeed();
    await invoker.started(3);
    assert.equal(invoker.calls[2]?.request.requestId, 'c');
    invoker.calls[1]?.succeed();
    invoker.calls[2]?.succeed();
    await written(() => ['a', 'b', 'c'].every((id) => store.status(id) === 'Succeeded'));
    await dispatcher.stop();
  });

  test('never runs more of a function than its reserved concurrency; others pass it', async () => {
    const { store, invoker, dispatcher, enqueue } = setUp({
      concurrency: 8,
      reserved: { slow: 1 },
    });
    await dispatcher.start();
    await enqueue('slow-1', 'slow');
    await enqueue('slow-2', 'slow');
    await enqueue('other', 'other');
    await invoker.started(2);
    assert.deepEqual(invoker.calls.map((call) => call.request.requestId).sort(), [
      'other',
      'slow-1',
    ]);
    assert.equal(store.status('slow-2'), 'Queued');
    invoker.calls.find((call) => call.request.requestId === 'slow-1')?.succeed();
    await invoker.started(3);
    assert.equal(invoker.calls[2]?.request.requestId, 'slow-2');
    for (const call of invoker.calls) call.succeed();
    await dispatcher.stop();
  });

  test('a throttle is tried again after the backoff, on the injected clock, without using a retry', async () => {
    const { clock, store, invoker, dispatcher, enqueue, written } = setUp({ concurrency: 1 });
    await dispatcher.start();
    const acceptedMs = clock.now();
    await enqueue('t', 'fn');
    await invoker.started(1);
    invoker.calls[0]?.reject(new LambdaError('TooManyRequestsException', 'Rate Exceeded.'));
    await written(() => store.updates.some((update) => update.event.requestId === 't'));
    const throttled = (await store.get('t')) as AsyncEvent;
    // Never ran: it waits as it was accepted (Queued), its backoff counted.
    assert.equal(throttled.status, 'Queued');
    assert.equal(throttled.attempts, 0);
    assert.equal(throttled.throttles, 1);
    assert.ok((throttled.nextAttemptMs ?? 0) >= acceptedMs + 1000);
    clock.advance(1000);
    await invoker.started(2);
    invoker.calls[1]?.succeed();
    await written(() => store.status('t') === 'Succeeded');
    await dispatcher.stop();
  });

  test('a function error without retries left fails the event and sends the record to OnFailure in the same write', async () => {
    const { store, invoker, dispatcher, enqueue, written } = setUp({
      concurrency: 1,
      settings: { maximumRetryAttempts: 0, onFailure: 'dead-letters' },
    });
    await dispatcher.start();
    await enqueue('f', 'fn');
    await invoker.started(1);
    invoker.calls[0]?.failWith('{"errorType":"Boom","errorMessage":"it broke"}');
    await written(() => store.status('f') === 'Failed');
    const last = store.updates.find((update) => update.event.requestId === 'f');
    assert.deepEqual(last?.event.error, { errorType: 'Boom', errorMessage: 'it broke' });
    assert.equal(last?.followUps.length, 1);
    const record = JSON.parse(String(last?.followUps[0]?.payload)) as {
      requestContext: { condition: string; requestId: string };
    };
    assert.equal(last?.followUps[0]?.functionName, 'dead-letters');
    assert.equal(record.requestContext.requestId, 'f');
    assert.equal(record.requestContext.condition, 'RetriesExhausted');
    // The destination event is itself queued, and runs next.
    await invoker.started(2);
    assert.equal(invoker.calls[1]?.request.functionName, 'dead-letters');
    invoker.calls[1]?.succeed();
    await dispatcher.stop();
  });

  test('a function error with a retry left is tried again about a minute later', async () => {
    const { clock, store, invoker, dispatcher, enqueue, written } = setUp({
      concurrency: 1,
      settings: { maximumRetryAttempts: 1 },
    });
    await dispatcher.start();
    await enqueue('r', 'fn');
    await invoker.started(1);
    invoker.calls[0]?.failWith('{"errorType":"Boom","errorMessage":"once"}');
    await written(() => store.status('r') === 'Retrying');
    const retrying = (await store.get('r')) as AsyncEvent;
    assert.equal(retrying.attempts, 1);
    assert.ok((retrying.nextAttemptMs ?? 0) - clock.now() >= 30_000);
    clock.advance((retrying.nextAttemptMs ?? 0) - clock.now());
    await invoker.started(2);
    invoker.calls[1]?.succeed();
    await written(() => store.status('r') === 'Succeeded');
    await dispatcher.stop();
  });

  test('stop claims nothing new and waits for attempts under way; one that fails goes back unspent', async () => {
    const { store, invoker, dispatcher, enqueue } = setUp({ concurrency: 2 });
    await dispatcher.start();
    await enqueue('running', 'fn');
    await invoker.started(1);
    const stopped = dispatcher.stop();
    await enqueue('late', 'fn');
    invoker.calls[0]?.reject(new Error('the environment was stopped'));
    await stopped;
    assert.equal(invoker.calls.length, 1);
    const back = (await store.get('running')) as AsyncEvent;
    assert.equal(back.status, 'Queued');
    assert.equal(back.attempts, 0);
    assert.equal(store.status('late'), 'Queued');
  });
});
