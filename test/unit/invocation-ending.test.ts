/** How a streamed response's end becomes an invocation outcome, and which endings kill. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { boundedErrorType, streamEndingOf } from '../../src/environment/invocation-ending.js';
import { streamErrorOf } from '../../src/environment/streaming-invocation.js';

const errorOf = (payload: Buffer) => JSON.parse(payload.toString()) as Record<string, unknown>;

describe('streamEndingOf', () => {
  test('a complete stream is a success that keeps the environment', () => {
    const ending = streamEndingOf('r', { kind: 'complete', bytes: 10 });
    assert.equal(ending.outcome.kind, 'success');
    assert.equal(ending.failure, undefined);
  });

  test('error trailers are a function error (type from the trailer, else from the body)', () => {
    const body = Buffer.from('{"errorType":"RangeError","errorMessage":"broke","trace":[]}');
    const ending = streamEndingOf('r', { kind: 'error', errorType: 'RangeError', body, bytes: 3 });
    assert.deepEqual(ending.outcome, {
      kind: 'function-error',
      payload: body,
      errorType: 'RangeError',
    });
    assert.equal(ending.failure, undefined);
    const untyped = streamEndingOf('r', { kind: 'error', errorType: undefined, body, bytes: 3 });
    assert.equal(
      untyped.outcome.kind === 'function-error' && untyped.outcome.errorType,
      'RangeError',
    );
  });

  test('oversized and truncated streams are platform errors that kill the environment', () => {
    const large = streamEndingOf('r1', { kind: 'too-large', bytes: 300, limit: 200 });
    assert.equal(large.failure, 'error');
    if (large.outcome.kind !== 'function-error') assert.fail('expected an error');
    assert.deepEqual(errorOf(large.outcome.payload), {
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage:
        'RequestId: r1 Error: Response payload size exceeded maximum allowed payload size (200 bytes).',
    });
    const cut = streamEndingOf('r2', { kind: 'truncated', bytes: 4 });
    assert.equal(cut.failure, 'error');
    assert.equal(
      cut.outcome.kind === 'function-error' && cut.outcome.errorType,
      'Runtime.TruncatedResponse',
    );
  });
});

describe('streamErrorOf', () => {
  test('type and message from the error payload; the text when it is not JSON', () => {
    const payload = Buffer.from(
      '{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: x Error: Task timed out after 1.00 seconds"}',
    );
    assert.deepEqual(
      streamErrorOf({ kind: 'function-error', errorType: 'Sandbox.Timedout', payload }),
      {
        errorType: 'Sandbox.Timedout',
        errorMessage: 'RequestId: x Error: Task timed out after 1.00 seconds',
        payload,
      },
    );
    const raw = Buffer.from('plain failure');
    assert.equal(
      streamErrorOf({ kind: 'function-error', errorType: 'X', payload: raw })?.errorMessage,
      'plain failure',
    );
    assert.equal(
      streamErrorOf({ kind: 'success', payload: raw, contentType: undefined }),
      undefined,
    );
  });
});

test('an error type the function chose is bounded and printable', () => {
  const huge = 'A'.repeat(5_000_000);
  const body = Buffer.from(JSON.stringify({ errorType: huge, errorMessage: 'x' }));
  const ending = streamEndingOf('r', { kind: 'error', errorType: undefined, body, bytes: 3 });
  assert.equal(ending.outcome.kind === 'function-error' && ending.outcome.errorType.length, 128);
  const odd = streamEndingOf('r', { kind: 'error', errorType: 'Bad\nType\u00e9', body, bytes: 3 });
  assert.equal(odd.outcome.kind === 'function-error' && odd.outcome.errorType, 'Bad?Type?');
  const empty = streamEndingOf('r', { kind: 'error', errorType: '', body, bytes: 3 });
  assert.equal(empty.outcome.kind === 'function-error' && empty.outcome.errorType, 'Unhandled');
  assert.equal(boundedErrorType('Runtime.ExitError'), 'Runtime.ExitError');
});
