/**
 * The batch processor's decisions, driven through fakes: which records reach the function, how a
 * failed batch is retried, bisected or narrowed to the items the function names, and what goes to
 * the OnFailure destination. The clock is fixed (or moved by the fake pause), so nothing sleeps.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileFilters, type CompiledFilter } from '../../src/core/event-filter.js';
import {
  mappingSettings,
  NO_RECORDS,
  USER_INITIATED,
  type EventSourceMapping,
  type MappingInput,
  type MappingSource,
} from '../../src/core/event-source-mapping.js';
import {
  BatchProcessor,
  batchItemFailures,
  DEFAULT_RETRIES,
  retriesOf,
  retryPauseMs,
  type BatchTarget,
  type Settlement,
} from '../../src/event-sources/batch-processor.js';
import type {
  BatchOutcome,
  FailureDestination,
  MappingInvoker,
  RecordSource,
  SourceRecord,
} from '../../src/event-sources/ports.js';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:worker';
const ON_FAILURE = 'arn:aws:lambda:us-east-1:123456789012:function:dead-letters';
const QUEUE: MappingSource = {
  kind: 'rabbitmq',
  brokerArn: 'arn:aws:mq:us-east-1:123456789012:broker:main:b-0d9d2b0c-6c0e-4c3a-9a3e-1f2e3d4c5b6a',
  queue: 'orders',
  virtualHost: undefined,
};
const STREAM: MappingSource = { kind: 'nats', endpoints: ['n:4222'], stream: 's' };

// ---------------------------------------------------------------------------------------------
// Fakes

const ok = (body = ''): BatchOutcome => ({
  kind: 'success',
  payload: Buffer.from(body),
  executedVersion: '$LATEST',
});
const failing = (ids: readonly string[]): BatchOutcome =>
  ok(JSON.stringify({ batchItemFailures: ids.map((itemIdentifier) => ({ itemIdentifier })) }));
const functionError = (errorType = 'Unhandled'): BatchOutcome => ({
  kind: 'function-error',
  payload: Buffer.from('{"errorMessage":"boom"}'),
  executedVersion: '$LATEST',
  errorType,
});
const notInvoked = (passing: boolean): BatchOutcome => ({
  kind: 'not-invoked',
  reason: passing ? 'Rate Exceeded.' : 'A record is larger than the 6 MB an invocation may carry.',
  passing,
});

/** Answers call n with `script[n]`, or every call with `script(ids)`; records what it was sent. */
class ScriptedInvoker implements MappingInvoker {
  /** The record ids of each batch, decoded from the payload the function would have received. */
  readonly batches: string[][] = [];
  readonly requests: { requestId: string; functionName: string; qualifier: string | undefined }[] =
    [];

  constructor(
    private readonly script: readonly BatchOutcome[] | ((ids: readonly string[]) => BatchOutcome),
  ) {}

  invoke(request: Parameters<MappingInvoker['invoke']>[0]): Promise<BatchOutcome> {
    const event = JSON.parse(request.payload.toString('utf8')) as { records: { id: string }[] };
    const ids = event.records.map((record) => record.id);
    this.batches.push(ids);
    this.requests.push({
      requestId: request.requestId,
      functionName: request.functionName,
      qualifier: request.qualifier,
    });
    const answer =
      typeof this.script === 'function' ? this.script(ids) : this.script[this.batches.length - 1];
    if (answer === undefined)
      return Promise.reject(new Error(`unscripted call ${this.batches.length}: [${ids.join()}]`));
    return Promise.resolve(answer);
  }
}

class RecordingDestination implements FailureDestination {
  readonly sent: { functionArn: string; record: Record<string, unknown> }[] = [];

  constructor(private readonly down = false) {}

  send(functionArn: string, record: Record<string, unknown>): Promise<void> {
    this.sent.push({ functionArn, record });
    return this.down ? Promise.reject(new Error('destination down')) : Promise.resolve();
  }
}

function fakeSource(ordered: boolean): RecordSource {
  return {
    ordered,
    eventOf: (records) => ({ records: records.map((r) => r.event) }),
    batchInfoOf: (records) => ({ TestBatchInfo: { n: records.length } }),
    next: () => Promise.reject(new Error('not used by the processor')),
    settle: () => Promise.reject(new Error('not used by the processor')),
    interrupt: () => undefined,
    close: () => Promise.resolve(),
  };
}

function record(id: string, arrivalMs = NOW, filterView: Record<string, unknown> = { id }) {
  const made: SourceRecord = { id, partition: 'p', arrivalMs, event: { id }, filterView };
  return made;
}
const records = (...ids: string[]) => ids.map((id) => record(id));

function targetOf(
  source: MappingSource,
  input: MappingInput,
  options: { filter?: CompiledFilter; ordered?: boolean; qualifier?: string } = {},
): BatchTarget {
  const stream = source.kind !== 'rabbitmq';
  const mapping: EventSourceMapping = {
    uuid: '0a1b2c3d-0000-4000-8000-000000000001',
    functionName: 'worker',
    qualifier: options.qualifier,
    source,
    settings: mappingSettings(source, stream ? { startingPosition: 'LATEST', ...input } : input),
    enabled: true,
    state: 'Enabled',
    stateTransitionReason: USER_INITIATED,
    lastProcessingResult: NO_RECORDS,
    lastModifiedMs: NOW,
  };
  return {
    mapping,
    functionArn: FUNCTION_ARN,
    source: fakeSource(options.ordered ?? stream),
    filter: options.filter ?? compileFilters([]),
  };
}

/**
 * A processor over fakes. `stopAtPause` n: the n-th pause answers false (the mapping stopped).
 * `advanceClock`: each pause moves the clock on by this much (default: the clock stays fixed).
 */
function harness(
  script: ConstructorParameters<typeof ScriptedInvoker>[0],
  options: { destinationDown?: boolean; stopAtPause?: number; advanceClockMs?: number } = {},
) {
  const invoker = new ScriptedInvoker(script);
  const destination = new RecordingDestination(options.destinationDown);
  const pauses: number[] = [];
  const reports: string[] = [];
  let now = NOW;
  let issued = 0;
  const processor = new BatchProcessor({
    invoker,
    destination,
    clock: { now: () => now },
    ids: { uuid: () => `id-${(issued += 1)}` },
    pause: (ms) => {
      pauses.push(ms);
      now += options.advanceClockMs ?? 0;
      return Promise.resolve(pauses.length !== options.stopAtPause);
    },
    report: (result) => reports.push(result),
  });
  return { processor, invoker, destination, pauses, reports };
}

/** Settled ids, sorted (the processor does not promise an order between the two lists' parts). */
function idsOf(settlement: Settlement | undefined) {
  assert.ok(settlement !== undefined, 'the batch was not settled');
  const sorted = (list: readonly SourceRecord[]) => list.map((r) => r.id).sort();
  return { done: sorted(settlement.done), rejected: sorted(settlement.rejected) };
}

/** The one record sent to the destination, its requestId checked fresh and then left out. */
function onlySent(
  h: ReturnType<typeof harness>,
  expected: { ids: string[]; condition: string; invokeCount: number; functionError?: string },
) {
  assert.equal(h.destination.sent.length, 1, 'one record sent to the OnFailure destination');
  const [sent] = h.destination.sent;
  assert.ok(sent !== undefined);
  assert.equal(sent.functionArn, ON_FAILURE);
  const context = sent.record['requestContext'] as Record<string, unknown>;
  assert.equal(typeof context['requestId'], 'string');
  assert.ok(!h.invoker.requests.some((r) => r.requestId === context['requestId']));
  assert.deepEqual(context, {
    requestId: context['requestId'],
    functionArn: FUNCTION_ARN,
    condition: expected.condition,
    approximateInvokeCount: expected.invokeCount,
  });
  assert.equal(sent.record['version'], '1.0');
  assert.equal(sent.record['timestamp'], new Date(NOW).toISOString());
  assert.deepEqual(sent.record['TestBatchInfo'], { n: expected.ids.length });
  assert.deepEqual(sent.record['payload'], { records: expected.ids.map((id) => ({ id })) });
  return sent.record['responseContext'];
}

// ---------------------------------------------------------------------------------------------

describe('retry rules', () => {
  test('retryPauseMs: 1 s doubling per attempt, at most a minute', () => {
    const table: [number, number][] = [
      [0, 1000],
      [1, 1000],
      [2, 2000],
      [3, 4000],
      [6, 32_000],
      [7, 60_000],
      [30, 60_000],
    ];
    for (const [attempt, ms] of table)
      assert.equal(retryPauseMs(attempt), ms, `attempt ${attempt}`);
  });

  test('retriesOf: the setting, else 10, else unbounded while records can expire', () => {
    const table: [MappingInput, number][] = [
      [{}, DEFAULT_RETRIES],
      [{ maximumRetryAttempts: -1 }, DEFAULT_RETRIES],
      [{ maximumRetryAttempts: -1, maximumRecordAgeInSeconds: -1 }, DEFAULT_RETRIES],
      [{ maximumRetryAttempts: 0 }, 0],
      [{ maximumRetryAttempts: 3, maximumRecordAgeInSeconds: 60 }, 3],
      [{ maximumRecordAgeInSeconds: 60 }, Number.POSITIVE_INFINITY],
      [{ maximumRetryAttempts: -1, maximumRecordAgeInSeconds: 3600 }, Number.POSITIVE_INFINITY],
    ];
    assert.equal(DEFAULT_RETRIES, 10);
    for (const [input, retries] of table) {
      assert.equal(retriesOf(mappingSettings(QUEUE, input)), retries, JSON.stringify(input));
      const stream = mappingSettings(STREAM, { startingPosition: 'LATEST', ...input });
      assert.equal(retriesOf(stream), retries, `stream ${JSON.stringify(input)}`);
    }
  });

  test('batchItemFailures reads the documented answers', () => {
    const table: [string, string[] | undefined][] = [
      ['', []],
      ['null', []],
      ['{}', []],
      ['{"batchItemFailures":[]}', []],
      ['{"batchItemFailures":null}', []],
      ['{"batchItemFailures":[{"itemIdentifier":"a"},{"itemIdentifier":"c"}]}', ['a', 'c']],
      ['{"batchItemFailures":[{"itemIdentifier":""}]}', undefined],
      ['{"batchItemFailures":[{"itemIdentifier":null}]}', undefined],
      ['{"batchItemFailures":[{"itemIdentifier":7}]}', undefined],
      ['{"batchItemFailures":[{"itemId":"a"}]}', undefined],
      ['{"batchItemFailures":[null]}', undefined],
      ['{"batchItemFailures":"a"}', undefined],
      ['{"batchItemFailures":[', undefined],
      ['not json', undefined],
    ];
    for (const [payload, ids] of table)
      assert.deepEqual(batchItemFailures(Buffer.from(payload)), ids, payload);
  });
});

describe('BatchProcessor: success and filters', () => {
  test('a successful batch is settled done after one invocation', async () => {
    const h = harness([ok('null')]);
    const target = targetOf(QUEUE, {}, { qualifier: 'live' });
    const settlement = await h.processor.process(target, records('a', 'b', 'c'));
    assert.deepEqual(idsOf(settlement), { done: ['a', 'b', 'c'], rejected: [] });
    assert.deepEqual(h.invoker.batches, [['a', 'b', 'c']]);
    assert.deepEqual(
      h.invoker.requests.map(({ functionName, qualifier }) => ({ functionName, qualifier })),
      [{ functionName: 'worker', qualifier: 'live' }],
    );
    assert.deepEqual(h.pauses, []);
    assert.deepEqual(h.reports, ['OK']);
    assert.equal(h.destination.sent.length, 0);
  });

  test('records the filters do not match are settled done without being sent', async () => {
    const filter = compileFilters(['{"body":{"kind":["keep"]}}']);
    const view = (kind: string) => ({ body: { kind } });
    const batch = [
      record('a', NOW, view('keep')),
      record('b', NOW, view('drop')),
      record('c', NOW, view('keep')),
      record('d', NOW, { other: true }),
    ];
    const table: { label: string; batch: SourceRecord[]; sent: string[][] }[] = [
      { label: 'some match', batch, sent: [['a', 'c']] },
      { label: 'none match', batch: batch.filter((r) => r.id === 'b' || r.id === 'd'), sent: [] },
    ];
    for (const { label, batch: given, sent } of table) {
      const h = harness([ok()]);
      const settlement = await h.processor.process(targetOf(QUEUE, {}, { filter }), given);
      assert.deepEqual(idsOf(settlement).done, given.map((r) => r.id).sort(), label);
      assert.deepEqual(idsOf(settlement).rejected, [], label);
      assert.deepEqual(h.invoker.batches, sent, label);
    }
  });
});

describe('BatchProcessor: retries', () => {
  const table = [
    { retries: 0, invocations: 1, pauses: [] },
    { retries: 1, invocations: 2, pauses: [1000] },
    { retries: 3, invocations: 4, pauses: [1000, 2000, 4000] },
  ];
  for (const { retries, invocations, pauses } of table)
    test(`a function error is retried ${retries} times, then sent to OnFailure`, async () => {
      const h = harness(() => functionError('Handled'));
      const target = targetOf(QUEUE, { maximumRetryAttempts: retries, onFailure: ON_FAILURE });
      const settlement = await h.processor.process(target, records('a', 'b'));
      assert.deepEqual(idsOf(settlement), { done: ['a', 'b'], rejected: [] });
      assert.deepEqual(h.invoker.batches, new Array(invocations).fill(['a', 'b']));
      assert.deepEqual(h.pauses, pauses);
      assert.deepEqual(h.reports, new Array(invocations).fill('PROBLEM: Function call failed'));
      const response = onlySent(h, {
        ids: ['a', 'b'],
        condition: 'RetryAttemptsExhausted',
        invokeCount: invocations,
      });
      assert.deepEqual(response, {
        statusCode: 200,
        executedVersion: '$LATEST',
        functionError: 'Handled',
      });
    });

  test('a batch that succeeds on a retry is done, and nothing is sent', async () => {
    const h = harness([functionError(), functionError(), ok()]);
    const target = targetOf(QUEUE, { maximumRetryAttempts: 5, onFailure: ON_FAILURE });
    const settlement = await h.processor.process(target, records('a'));
    assert.deepEqual(idsOf(settlement), { done: ['a'], rejected: [] });
    assert.deepEqual(h.invoker.batches, [['a'], ['a'], ['a']]);
    assert.deepEqual(h.pauses, [1000, 2000]);
    assert.equal(h.destination.sent.length, 0);
  });

  test('without a destination, or when it fails, exhausted records are rejected', async () => {
    for (const [label, input, down] of [
      ['no OnFailure', { maximumRetryAttempts: 1 }, false],
      ['OnFailure down', { maximumRetryAttempts: 1, onFailure: ON_FAILURE }, true],
    ] as const) {
      const h = harness(() => functionError(), { destinationDown: down });
      const settlement = await h.processor.process(targetOf(QUEUE, input), records('a', 'b'));
      assert.deepEqual(idsOf(settlement), { done: [], rejected: ['a', 'b'] }, label);
      assert.equal(h.invoker.batches.length, 2, label);
      assert.equal(h.destination.sent.length, down ? 1 : 0, label);
    }
  });

  test('unset and -1 retries mean 10 retries when records do not expire', async () => {
    for (const [label, source] of [
      ['queue, unset', QUEUE],
      ['stream, default -1', STREAM],
    ] as const) {
      const h = harness(() => functionError());
      const settlement = await h.processor.process(targetOf(source, {}), records('a'));
      assert.deepEqual(idsOf(settlement), { done: [], rejected: ['a'] }, label);
      assert.equal(h.invoker.batches.length, 11, label);
      assert.deepEqual(
        h.pauses,
        [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000],
        label,
      );
    }
  });

  test('-1 retries with a record age keep retrying past 10 while the record is young', async () => {
    let calls = 0;
    const h = harness(() => ((calls += 1) <= 15 ? functionError() : ok()));
    const target = targetOf(STREAM, { maximumRetryAttempts: -1, maximumRecordAgeInSeconds: 60 });
    const settlement = await h.processor.process(target, records('a'));
    assert.deepEqual(idsOf(settlement), { done: ['a'], rejected: [] });
    assert.equal(h.invoker.batches.length, 16);
    assert.equal(h.destination.sent.length, 0);
  });

  const throttled = notInvoked(true);
  const throttles = [
    {
      label: 'with no retries allowed, throttles are still tried again',
      retries: 0,
      script: [throttled, throttled, ok()],
      pauses: [1000, 1000],
      sentInvokeCount: undefined,
    },
    {
      label: 'a throttle between two errors does not exhaust the one retry',
      retries: 1,
      script: [throttled, throttled, functionError(), throttled, ok()],
      pauses: [1000, 1000, 1000, 1000],
      sentInvokeCount: undefined,
    },
    {
      label: 'the retry after the throttles is the last one',
      retries: 1,
      script: [throttled, functionError(), throttled, functionError()],
      pauses: [1000, 1000, 1000],
      sentInvokeCount: 2,
    },
  ];
  for (const { label, retries, script, pauses, sentInvokeCount } of throttles)
    test(`passing: ${label}`, async () => {
      const h = harness(script);
      const target = targetOf(QUEUE, { maximumRetryAttempts: retries, onFailure: ON_FAILURE });
      const settlement = await h.processor.process(target, records('a'));
      assert.deepEqual(idsOf(settlement), { done: ['a'], rejected: [] });
      assert.deepEqual(h.invoker.batches, new Array(script.length).fill(['a']));
      assert.deepEqual(h.pauses, pauses);
      assert.deepEqual(
        h.reports,
        script.map((answer) =>
          answer.kind === 'success'
            ? 'OK'
            : answer.kind === 'function-error'
              ? 'PROBLEM: Function call failed'
              : 'PROBLEM: Rate Exceeded.',
        ),
      );
      if (sentInvokeCount === undefined) assert.equal(h.destination.sent.length, 0);
      else
        onlySent(h, {
          ids: ['a'],
          condition: 'RetryAttemptsExhausted',
          invokeCount: sentInvokeCount,
        });
    });

  test('a refusal that does not pass by itself uses up retries', async () => {
    const h = harness(() => notInvoked(false));
    const target = targetOf(QUEUE, { maximumRetryAttempts: 1, onFailure: ON_FAILURE });
    const settlement = await h.processor.process(target, records('a'));
    assert.deepEqual(idsOf(settlement), { done: ['a'], rejected: [] });
    assert.equal(h.invoker.batches.length, 2);
    assert.deepEqual(h.reports, [
      'PROBLEM: A record is larger than the 6 MB an invocation may carry.',
      'PROBLEM: A record is larger than the 6 MB an invocation may carry.',
    ]);
    const response = onlySent(h, {
      ids: ['a'],
      condition: 'RetryAttemptsExhausted',
      invokeCount: 2,
    });
    assert.equal((response as Record<string, unknown>)['functionError'], '');
  });

  for (const stopAtPause of [1, 2])
    test(`a stop during pause ${stopAtPause} leaves the batch with the source`, async () => {
      const h = harness(() => functionError(), { stopAtPause });
      const target = targetOf(QUEUE, { maximumRetryAttempts: 5, onFailure: ON_FAILURE });
      assert.equal(await h.processor.process(target, records('a', 'b')), undefined);
      assert.equal(h.invoker.batches.length, stopAtPause);
      assert.deepEqual(h.pauses, [1000, 2000].slice(0, stopAtPause));
      assert.equal(h.destination.sent.length, 0);
    });
});

describe('BatchProcessor: BisectBatchOnFunctionError', () => {
  const table = [
    { retries: 0, batches: [['a', 'b', 'c', 'd'], ['a', 'b'], ['c', 'd'], ['c'], ['d']] },
    {
      retries: 1,
      batches: [['a', 'b', 'c', 'd'], ['a', 'b'], ['c', 'd'], ['c'], ['c'], ['d']],
    },
  ];
  for (const { retries, batches } of table)
    test(`halves down to the poison record, then retries it ${retries} times`, async () => {
      const h = harness((ids) => (ids.includes('c') ? functionError() : ok()));
      const target = targetOf(STREAM, {
        bisectBatchOnFunctionError: true,
        maximumRetryAttempts: retries,
        onFailure: ON_FAILURE,
      });
      const settlement = await h.processor.process(target, records('a', 'b', 'c', 'd'));
      assert.deepEqual(idsOf(settlement), { done: ['a', 'b', 'c', 'd'], rejected: [] });
      assert.deepEqual(h.invoker.batches, batches);
      // Only the retries pause: splitting is immediate and free.
      assert.deepEqual(h.pauses, retries === 0 ? [] : [1000]);
      onlySent(h, { ids: ['c'], condition: 'RetryAttemptsExhausted', invokeCount: retries + 1 });
    });

  test('a batch that failed only in part is not split', async () => {
    const h = harness([failing(['c']), ok()]);
    const target = targetOf(STREAM, {
      bisectBatchOnFunctionError: true,
      functionResponseTypes: ['ReportBatchItemFailures'],
      maximumRetryAttempts: 1,
    });
    const settlement = await h.processor.process(target, records('a', 'b', 'c', 'd'));
    assert.deepEqual(idsOf(settlement), { done: ['a', 'b', 'c', 'd'], rejected: [] });
    assert.deepEqual(h.invoker.batches, [
      ['a', 'b', 'c', 'd'],
      ['c', 'd'],
    ]);
    assert.deepEqual(h.pauses, [1000]);
  });

  test('without bisection the whole batch is retried', async () => {
    const h = harness((ids) => (ids.includes('c') ? functionError() : ok()));
    const target = targetOf(STREAM, { maximumRetryAttempts: 1 });
    const settlement = await h.processor.process(target, records('a', 'b', 'c', 'd'));
    assert.deepEqual(idsOf(settlement), { done: [], rejected: ['a', 'b', 'c', 'd'] });
    assert.deepEqual(h.invoker.batches, [
      ['a', 'b', 'c', 'd'],
      ['a', 'b', 'c', 'd'],
    ]);
  });
});

describe('BatchProcessor: ReportBatchItemFailures', () => {
  const table: { label: string; source: MappingSource; named: string[]; retried: string[] }[] = [
    { label: 'queue: only the named items', source: QUEUE, named: ['b', 'd'], retried: ['b', 'd'] },
    {
      label: 'stream: from the first named item on',
      source: STREAM,
      named: ['d', 'b'],
      retried: ['b', 'c', 'd'],
    },
    { label: 'stream: the last item only', source: STREAM, named: ['d'], retried: ['d'] },
  ];
  for (const { label, source, named, retried } of table)
    test(label, async () => {
      const h = harness([failing(named), ok()]);
      const target = targetOf(source, {
        functionResponseTypes: ['ReportBatchItemFailures'],
        maximumRetryAttempts: 2,
      });
      const settlement = await h.processor.process(target, records('a', 'b', 'c', 'd'));
      assert.deepEqual(idsOf(settlement), { done: ['a', 'b', 'c', 'd'], rejected: [] });
      assert.deepEqual(h.invoker.batches, [['a', 'b', 'c', 'd'], retried]);
      assert.deepEqual(h.pauses, [1000]);
    });

  test('items still failing after the retries go to OnFailure (status 200, no error)', async () => {
    const h = harness(() => failing(['b']));
    const target = targetOf(QUEUE, {
      functionResponseTypes: ['ReportBatchItemFailures'],
      maximumRetryAttempts: 1,
      onFailure: ON_FAILURE,
    });
    const settlement = await h.processor.process(target, records('a', 'b', 'c'));
    assert.deepEqual(idsOf(settlement), { done: ['a', 'b', 'c'], rejected: [] });
    assert.deepEqual(h.invoker.batches, [['a', 'b', 'c'], ['b']]);
    const response = onlySent(h, {
      ids: ['b'],
      condition: 'RetryAttemptsExhausted',
      invokeCount: 2,
    });
    assert.deepEqual(response, { statusCode: 200, executedVersion: '$LATEST', functionError: '' });
  });

  const unreadable: [string, string][] = [
    ['an unknown id', '{"batchItemFailures":[{"itemIdentifier":"zzz"}]}'],
    [
      'a known and an unknown id',
      '{"batchItemFailures":[{"itemIdentifier":"a"},{"itemIdentifier":"x"}]}',
    ],
    ['a non-string id', '{"batchItemFailures":[{"itemIdentifier":1}]}'],
    ['an empty id', '{"batchItemFailures":[{"itemIdentifier":""}]}'],
    ['a list that is not a list', '{"batchItemFailures":{"itemIdentifier":"a"}}'],
    ['not JSON', '{"batchItemFailures":'],
  ];
  for (const [label, answer] of unreadable)
    for (const source of [QUEUE, STREAM])
      test(`${source.kind}: an answer with ${label} fails the whole batch`, async () => {
        const h = harness([ok(answer), ok()]);
        const target = targetOf(source, {
          functionResponseTypes: ['ReportBatchItemFailures'],
          maximumRetryAttempts: 1,
        });
        const settlement = await h.processor.process(target, records('a', 'b', 'c'));
        assert.deepEqual(idsOf(settlement), { done: ['a', 'b', 'c'], rejected: [] });
        assert.deepEqual(h.invoker.batches, [
          ['a', 'b', 'c'],
          ['a', 'b', 'c'],
        ]);
      });

  const successes = ['', 'null', '{}', '{"batchItemFailures":[]}', '{"batchItemFailures":null}'];
  for (const answer of successes)
    test(`an answer of ${JSON.stringify(answer)} is a complete success`, async () => {
      const h = harness([ok(answer)]);
      const target = targetOf(STREAM, { functionResponseTypes: ['ReportBatchItemFailures'] });
      const settlement = await h.processor.process(target, records('a', 'b'));
      assert.deepEqual(idsOf(settlement), { done: ['a', 'b'], rejected: [] });
      assert.equal(h.invoker.batches.length, 1);
    });

  test('without ReportBatchItemFailures a named item is ignored', async () => {
    const h = harness([failing(['a'])]);
    const settlement = await h.processor.process(targetOf(QUEUE, {}), records('a', 'b'));
    assert.deepEqual(idsOf(settlement), { done: ['a', 'b'], rejected: [] });
    assert.equal(h.invoker.batches.length, 1);
  });
});

describe('BatchProcessor: MaximumRecordAgeInSeconds', () => {
  const batch = [
    record('old', NOW - 61_000),
    record('edge', NOW - 60_000),
    record('young', NOW - 1_000),
  ];

  test('records older than the limit are not sent but go to OnFailure', async () => {
    const h = harness([ok()]);
    const target = targetOf(STREAM, { maximumRecordAgeInSeconds: 60, onFailure: ON_FAILURE });
    const settlement = await h.processor.process(target, batch);
    assert.deepEqual(idsOf(settlement), { done: ['edge', 'old', 'young'], rejected: [] });
    assert.deepEqual(h.invoker.batches, [['edge', 'young']]);
    const response = onlySent(h, { ids: ['old'], condition: 'RecordAgeExceeded', invokeCount: 0 });
    assert.deepEqual(response, { statusCode: 0, executedVersion: '', functionError: '' });
  });

  test('expired records without a destination are rejected; -1 keeps every record', async () => {
    const expiring = harness([ok()]);
    const limited = targetOf(STREAM, { maximumRecordAgeInSeconds: 60 });
    assert.deepEqual(idsOf(await expiring.processor.process(limited, batch)), {
      done: ['edge', 'young'],
      rejected: ['old'],
    });
    const keeping = harness([ok()]);
    const unlimited = targetOf(STREAM, { maximumRecordAgeInSeconds: -1 });
    assert.deepEqual(idsOf(await keeping.processor.process(unlimited, batch)), {
      done: ['edge', 'old', 'young'],
      rejected: [],
    });
    assert.deepEqual(keeping.invoker.batches, [['old', 'edge', 'young']]);
  });

  test('a record that expires while a retry waits is not sent again', async () => {
    const h = harness(() => functionError(), { advanceClockMs: 61_000 });
    const target = targetOf(STREAM, { maximumRecordAgeInSeconds: 60, onFailure: ON_FAILURE });
    const settlement = await h.processor.process(target, records('a'));
    assert.deepEqual(idsOf(settlement), { done: ['a'], rejected: [] });
    assert.deepEqual(h.invoker.batches, [['a']]);
    assert.equal(h.destination.sent.length, 1);
    const context = h.destination.sent[0]?.record['requestContext'] as Record<string, unknown>;
    assert.equal(context['condition'], 'RecordAgeExceeded');
    assert.equal(context['approximateInvokeCount'], 1);
  });
});
