/** The asynchronous queue's pure rules: backoff, retries, expiry, the state machine, the record. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  IllegalTransitionError,
  newEvent,
  transition,
  type AsyncEvent,
} from '../../src/async/async-event.js';
import { classify, functionErrorOf } from '../../src/async/async-dispatcher.js';
import { invocationRecord } from '../../src/async/invocation-record.js';
import {
  afterAttempt,
  backoffDelayMs,
  beforeAttempt,
  destinationFor,
  retryDelayMs,
  narrowedBy,
  settingsOf,
  type AsyncSettings,
  type AttemptOutcome,
} from '../../src/async/retry-policy.js';
import { LambdaError } from '../../src/core/errors.js';

const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);
const MIN = 60_000;
const DEFAULTS: AsyncSettings = settingsOf(undefined);

function queued(payload = '{"n":1}'): AsyncEvent {
  return newEvent({
    requestId: 'req-1',
    functionName: 'fn',
    qualifier: undefined,
    payload: Buffer.from(payload),
    clientContext: undefined,
    nowMs: T0,
  });
}

const running = (event: AsyncEvent) => transition(event, 'Running', { nextAttemptMs: undefined });

const functionError: AttemptOutcome = {
  kind: 'function-error',
  response: Buffer.from('{"errorType":"Error","errorMessage":"boom"}'),
  executedVersion: '$LATEST',
  error: { errorType: 'Error', errorMessage: 'boom' },
};
const throttled: AttemptOutcome = {
  kind: 'retry-later',
  error: { errorType: 'TooManyRequestsException', errorMessage: 'Rate Exceeded.' },
};
const success: AttemptOutcome = {
  kind: 'success',
  response: Buffer.from('{"ok":true}'),
  executedVersion: '3',
};

describe('async retry policy', () => {
  test('defaults: two retries, six hours, no destinations', () => {
    assert.deepEqual(DEFAULTS, {
      maximumRetryAttempts: 2,
      maximumEventAgeMs: 21_600_000,
      onSuccess: undefined,
      onFailure: undefined,
    });
    const set = settingsOf({
      functionName: 'fn',
      qualifier: '$LATEST',
      maximumRetryAttempts: 0,
      maximumEventAgeSeconds: undefined,
      onSuccess: 'arn:aws:lambda:us-east-1:000000000000:function:ok',
      onFailure: undefined,
      lastModifiedMs: T0,
    });
    assert.equal(set.maximumRetryAttempts, 0);
    assert.equal(set.maximumEventAgeMs, 21_600_000);
    assert.equal(set.onSuccess, 'arn:aws:lambda:us-east-1:000000000000:function:ok');
  });

  test("a sender's limits (a schedule's RetryPolicy) narrow the settings, never widen them", () => {
    const table: Array<[number, number, number, number]> = [
      // limit retries, limit age (s) → retries, age (ms)
      [0, 60, 0, 60_000],
      [185, 86_400, 2, 21_600_000],
      [1, 3_600, 1, 3_600_000],
    ];
    for (const [retries, age, wantRetries, wantAgeMs] of table) {
      const narrowed = narrowedBy(DEFAULTS, {
        maximumRetryAttempts: retries,
        maximumEventAgeSeconds: age,
      });
      assert.deepEqual(
        [narrowed.maximumRetryAttempts, narrowed.maximumEventAgeMs],
        [wantRetries, wantAgeMs],
      );
      assert.equal(narrowed.onFailure, DEFAULTS.onFailure);
    }
    assert.equal(narrowedBy(DEFAULTS, undefined), DEFAULTS);
  });

  test('throttle and platform backoff: 1 s doubling to a 5 min ceiling', () => {
    const table: Array<[number, number]> = [
      [1, 1_000],
      [2, 2_000],
      [3, 4_000],
      [8, 128_000],
      [9, 256_000],
      [10, 300_000],
      [40, 300_000],
      [1000, 300_000],
    ];
    for (const [backoffs, expected] of table) assert.equal(backoffDelayMs(backoffs), expected);
  });

  test('function-error retries wait about 1 min, then 2 min', () => {
    assert.equal(retryDelayMs(1), MIN);
    assert.equal(retryDelayMs(2), 2 * MIN);
  });

  test('a function error is retried twice, 1 and 2 minutes apart, then fails (RetriesExhausted)', () => {
    let event = afterAttempt(running(queued()), functionError, DEFAULTS, T0 + 100);
    assert.equal(event.status, 'Retrying');
    assert.equal(event.attempts, 1);
    assert.equal(event.nextAttemptMs, T0 + 100 + MIN);
    assert.deepEqual(event.error, { errorType: 'Error', errorMessage: 'boom' });
    event = afterAttempt(running(event), functionError, DEFAULTS, T0 + MIN + 200);
    assert.equal(event.status, 'Retrying');
    assert.equal(event.attempts, 2);
    assert.equal(event.nextAttemptMs, T0 + MIN + 200 + 2 * MIN);
    event = afterAttempt(running(event), functionError, DEFAULTS, T0 + 3 * MIN + 300);
    assert.equal(event.status, 'Failed');
    assert.equal(event.condition, 'RetriesExhausted');
    assert.equal(event.attempts, 3);
    assert.equal(event.functionError, 'Unhandled');
    assert.equal(event.nextAttemptMs, undefined);
    assert.equal(event.finishedMs, T0 + 3 * MIN + 300);
  });

  test('MaximumRetryAttempts 0 fails at the first function error', () => {
    const settings = { ...DEFAULTS, maximumRetryAttempts: 0 };
    const event = afterAttempt(running(queued()), functionError, settings, T0);
    assert.equal(event.status, 'Failed');
    assert.equal(event.attempts, 1);
  });

  test('throttles do not use an attempt; they back off and keep the event Queued', () => {
    let event = afterAttempt(running(queued()), throttled, DEFAULTS, T0);
    assert.equal(event.status, 'Queued');
    assert.equal(event.attempts, 0);
    assert.equal(event.backoffs, 1);
    assert.equal(event.nextAttemptMs, T0 + 1_000);
    event = afterAttempt(running(event), throttled, DEFAULTS, T0 + 1_000);
    assert.equal(event.nextAttemptMs, T0 + 1_000 + 2_000);
    assert.equal(event.attempts, 0);
    // After a real run the backoff starts again from 1 s, and the status is Retrying.
    event = afterAttempt(running(event), functionError, DEFAULTS, T0 + 5_000);
    assert.equal(event.backoffs, 0);
    event = afterAttempt(running(event), throttled, DEFAULTS, T0 + MIN + 5_000);
    assert.equal(event.status, 'Retrying');
    assert.equal(event.attempts, 1);
    assert.equal(event.nextAttemptMs, T0 + MIN + 6_000);
  });

  test('a backoff never schedules past the expiry time', () => {
    const settings = { ...DEFAULTS, maximumEventAgeMs: MIN };
    const event = { ...running(queued()), backoffs: 20 };
    assert.equal(afterAttempt(event, throttled, settings, T0 + 10_000).nextAttemptMs, T0 + MIN);
  });

  test('events too old when claimed expire without running (EventAgeExceeded)', () => {
    const event = running(queued());
    assert.equal(beforeAttempt(event, DEFAULTS, undefined, T0 + 6 * 3_600_000 - 1), undefined);
    const expired = beforeAttempt(event, DEFAULTS, undefined, T0 + 6 * 3_600_000);
    assert.equal(expired?.status, 'Expired');
    assert.equal(expired?.condition, 'EventAgeExceeded');
    assert.equal(expired?.attempts, 0);
  });

  test('a retry that would start after the maximum age is not made: the event expires now', () => {
    const settings = { ...DEFAULTS, maximumEventAgeMs: MIN };
    const event = afterAttempt(running(queued()), functionError, settings, T0 + 1);
    assert.equal(event.status, 'Expired');
    assert.equal(event.condition, 'EventAgeExceeded');
    assert.equal(event.attempts, 1);
    // With room for the 1-minute retry it is retried.
    const roomy = { ...DEFAULTS, maximumEventAgeMs: 2 * MIN };
    assert.equal(afterAttempt(running(queued()), functionError, roomy, T0).status, 'Retrying');
  });

  test('reserved concurrency 0 sends events to the failure path without running', () => {
    const failed = beforeAttempt(running(queued()), DEFAULTS, 0, T0);
    assert.equal(failed?.status, 'Failed');
    assert.equal(failed?.condition, 'RetriesExhausted');
    assert.equal(failed?.attempts, 0);
    assert.equal(failed?.error?.errorType, 'TooManyRequestsException');
    assert.equal(beforeAttempt(running(queued()), DEFAULTS, 1, T0), undefined);
  });

  test('the function gone: refused, Failed without an attempt', () => {
    const event = afterAttempt(
      running(queued()),
      { kind: 'refused', error: { errorType: 'ResourceNotFoundException', errorMessage: 'gone' } },
      DEFAULTS,
      T0,
    );
    assert.equal(event.status, 'Failed');
    assert.equal(event.attempts, 0);
  });

  test('the state machine rejects illegal transitions by name', () => {
    const event = queued();
    assert.throws(() => transition(event, 'Succeeded'), IllegalTransitionError);
    const done = afterAttempt(running(event), success, DEFAULTS, T0);
    assert.equal(done.status, 'Succeeded');
    assert.throws(
      () => transition(done, 'Running'),
      /Succeeded → Running is not a legal transition/,
    );
    assert.throws(() => afterAttempt(event, success, DEFAULTS, T0), IllegalTransitionError);
  });

  test('destinations: OnSuccess for Succeeded, OnFailure for Failed and Expired, none while waiting', () => {
    const settings = { ...DEFAULTS, onSuccess: 'S', onFailure: 'F' };
    assert.equal(
      destinationFor(afterAttempt(running(queued()), success, settings, T0), settings),
      'S',
    );
    const failed = afterAttempt(
      running(queued()),
      functionError,
      { ...settings, maximumRetryAttempts: 0 },
      T0,
    );
    assert.equal(destinationFor(failed, settings), 'F');
    const expired = beforeAttempt(running(queued()), settings, undefined, T0 + 7 * 3_600_000);
    assert.ok(expired !== undefined);
    assert.equal(destinationFor(expired, settings), 'F');
    assert.equal(
      destinationFor(afterAttempt(running(queued()), throttled, settings, T0), settings),
      undefined,
    );
  });

  test('the invocation record of a success, of a failure, and of an event that never ran', () => {
    const arn = 'arn:aws:lambda:us-east-1:000000000000:function:fn:$LATEST';
    const ok = afterAttempt(running(queued()), success, DEFAULTS, T0 + 5);
    assert.deepEqual(invocationRecord(ok, arn), {
      version: '1.0',
      timestamp: new Date(T0 + 5).toISOString(),
      requestContext: {
        requestId: 'req-1',
        functionArn: arn,
        condition: 'Success',
        approximateInvokeCount: 1,
      },
      requestPayload: { n: 1 },
      responseContext: { statusCode: 200, executedVersion: '3' },
      responsePayload: { ok: true },
    });
    const failed = afterAttempt(
      running(queued('')),
      functionError,
      { ...DEFAULTS, maximumRetryAttempts: 0 },
      T0,
    );
    const record = invocationRecord(failed, arn);
    assert.equal(record.requestContext.condition, 'RetriesExhausted');
    assert.deepEqual(record.requestPayload, {});
    assert.deepEqual(record.responseContext, {
      statusCode: 200,
      executedVersion: '$LATEST',
      functionError: 'Unhandled',
    });
    assert.deepEqual(record.responsePayload, { errorType: 'Error', errorMessage: 'boom' });
    const never = beforeAttempt(running(queued()), DEFAULTS, undefined, T0 + 7 * 3_600_000);
    assert.ok(never !== undefined);
    const bare = invocationRecord(never, arn);
    assert.equal(bare.requestContext.condition, 'EventAgeExceeded');
    assert.equal(bare.requestContext.approximateInvokeCount, 0);
    assert.equal('responseContext' in bare, false);
    assert.equal('responsePayload' in bare, false);
  });

  test('classification of invoke failures: throttles and platform errors wait, a missing function fails', () => {
    const throttle = classify(
      new LambdaError('TooManyRequestsException', 'Rate Exceeded.', {
        reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
      }),
    );
    assert.deepEqual(throttle, {
      kind: 'retry-later',
      error: {
        errorType: 'TooManyRequestsException',
        errorMessage: 'Rate Exceeded. (ReservedFunctionConcurrentInvocationLimitExceeded)',
      },
    });
    assert.equal(
      classify(new LambdaError('ResourceConflictException', 'Pending')).kind,
      'retry-later',
    );
    assert.equal(classify(new Error('sandbox failed')).kind, 'retry-later');
    assert.equal(classify(new LambdaError('ServiceException', 'x')).kind, 'retry-later');
    assert.equal(classify(new LambdaError('ResourceNotFoundException', 'gone')).kind, 'refused');
  });

  test('function error documents: Node, Python, platform, and not JSON', () => {
    assert.deepEqual(
      functionErrorOf(Buffer.from('{"errorType":"Error","errorMessage":"x","trace":[]}')),
      {
        errorType: 'Error',
        errorMessage: 'x',
      },
    );
    assert.deepEqual(
      functionErrorOf(
        Buffer.from(
          '{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: 1 Error: Task timed out after 1.00 seconds"}',
        ),
      ),
      {
        errorType: 'Sandbox.Timedout',
        errorMessage: 'RequestId: 1 Error: Task timed out after 1.00 seconds',
      },
    );
    assert.deepEqual(functionErrorOf(Buffer.from('oops')), {
      errorType: 'Unhandled',
      errorMessage: 'oops',
    });
  });
});
