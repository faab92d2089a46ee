/**
 * Fires the queue refused: tried again with exponential backoff under the schedule's
 * RetryPolicy, until the attempts or the event's age run out, then sent to the dead-letter
 * function; errors that can never pass go there at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  afterFailedTry,
  deadLetterEvent,
  deliveryBackoffMs,
} from '../../src/schedules/delivery-policy.js';

const retryable = { code: 'ResourceConflictException', message: 'Pending', retryable: true };
const missing = {
  code: 'ResourceNotFoundException',
  message: 'Function not found',
  retryable: false,
};
const policy = { maximumRetryAttempts: 3, maximumEventAgeSeconds: 3600 };

test('backoff: 1 s, doubling, at most 5 minutes', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 9, 10, 50].map(deliveryBackoffMs),
    [1000, 2000, 4000, 8000, 256_000, 300_000, 300_000],
  );
});

test('MaximumRetryAttempts retries after the first try, then the dead-letter target', () => {
  const decide = (tries: number) =>
    afterFailedTry({
      tries,
      firstTryMs: 0,
      nowMs: 10_000,
      policy,
      error: retryable,
      roomForMore: true,
    });
  assert.deepEqual(decide(1), { kind: 'retry', atMs: 11_000 });
  assert.deepEqual(decide(3), { kind: 'retry', atMs: 14_000 });
  assert.deepEqual(decide(4), { kind: 'dead-letter', condition: 'MaximumRetryAttemptsExhausted' });
  const none = afterFailedTry({
    tries: 1,
    firstTryMs: 0,
    nowMs: 0,
    policy: { ...policy, maximumRetryAttempts: 0 },
    error: retryable,
    roomForMore: true,
  });
  assert.equal(none.kind, 'dead-letter');
});

test('a retry that would start after the maximum age is not made', () => {
  const decision = afterFailedTry({
    tries: 2,
    firstTryMs: 0,
    nowMs: 3_599_000,
    policy,
    error: retryable,
    roomForMore: true,
  });
  assert.deepEqual(decision, { kind: 'dead-letter', condition: 'MaximumEventAgeExhausted' });
});

test('an error that cannot pass, or a full pending-delivery quota, goes to the dead-letter target', () => {
  const base = { tries: 1, firstTryMs: 0, nowMs: 0, policy };
  assert.equal(afterFailedTry({ ...base, error: missing, roomForMore: true }).kind, 'dead-letter');
  assert.equal(
    afterFailedTry({ ...base, error: retryable, roomForMore: false }).kind,
    'dead-letter',
  );
});

test("the dead-letter event names the schedule, the target, the error and the fire's input", () => {
  const event = deadLetterEvent(
    {
      id: 'f1',
      scheduleArn: 'arn:aws:scheduler:us-east-1:000000000000:schedule/default/s',
      targetArn: 'arn:aws:lambda:us-east-1:000000000000:function:gone',
      payload: '{"k":1}',
      occurrenceMs: Date.parse('2030-01-01T00:00:00Z'),
      tries: 3,
      lastError: missing,
    },
    'MaximumRetryAttemptsExhausted',
    Date.parse('2030-01-01T00:01:00Z'),
  );
  assert.deepEqual(event, {
    version: '1.0',
    timestamp: '2030-01-01T00:01:00.000Z',
    scheduleArn: 'arn:aws:scheduler:us-east-1:000000000000:schedule/default/s',
    targetArn: 'arn:aws:lambda:us-east-1:000000000000:function:gone',
    invocationId: 'f1',
    scheduledTime: '2030-01-01T00:00:00.000Z',
    errorCode: 'ResourceNotFoundException',
    errorMessage: 'Function not found',
    exhaustedRetryCondition: 'MaximumRetryAttemptsExhausted',
    retryAttempts: 2,
    payload: { k: 1 },
  });
});
