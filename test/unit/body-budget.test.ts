/** Unit tests of the budget of request-body bytes in flight. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BodyBudget,
  bodyBudgetExceeded,
  bodyFits,
  LARGE_BODY_BYTES,
} from '../../src/core/body-budget.js';

const MiB = 1024 * 1024;

describe('bodyFits', () => {
  test('a body fits while the total stays within the budget', () => {
    assert.equal(bodyFits(10 * MiB, 0, 1 * MiB, 16 * MiB), true);
    assert.equal(bodyFits(15 * MiB, 0, 1 * MiB, 16 * MiB), true);
    assert.equal(bodyFits(15 * MiB, 0, 1 * MiB + 1, 16 * MiB), false);
  });

  test('a request alone always fits, whatever its size', () => {
    assert.equal(bodyFits(0, 0, 70 * MiB, 16 * MiB), true);
    assert.equal(bodyFits(30 * MiB, 30 * MiB, 40 * MiB, 16 * MiB), true);
    assert.equal(bodyFits(30 * MiB + 1, 30 * MiB, 1, 16 * MiB), false);
  });

  test('uploads larger than an Invoke payload leave the last quarter to smaller bodies', () => {
    const budget = 256 * MiB;
    // 150 MiB held by others: a 69 MB upload would pass 192 MiB (three quarters).
    assert.equal(bodyFits(150 * MiB, 0, 69_000_000, budget), false);
    assert.equal(bodyFits(100 * MiB, 0, 69_000_000, budget), true);
    // An invoke payload may use that quarter.
    assert.equal(bodyFits(200 * MiB, 0, LARGE_BODY_BYTES, budget), true);
    assert.equal(bodyFits(255 * MiB, 0, 1 * MiB, budget), true);
    // A body growing past the size of an Invoke payload is an upload from then on.
    assert.equal(bodyFits(200 * MiB, LARGE_BODY_BYTES, 1, budget), false);
  });

  test('nothing more always fits', () => {
    assert.equal(bodyFits(300 * MiB, 0, 0, 256 * MiB), true);
  });
});

describe('BodyBudget and BodyClaim', () => {
  test('claims take and give back; a refused take takes nothing', () => {
    const budget = new BodyBudget(16 * MiB);
    const first = budget.open();
    const second = budget.open();
    assert.equal(first.take(10 * MiB), true);
    assert.equal(second.take(4 * MiB), true);
    assert.equal(second.take(3 * MiB), false);
    assert.equal(second.heldBytes, 4 * MiB);
    assert.equal(budget.inFlightBytes, 14 * MiB);
    first.release();
    assert.equal(budget.inFlightBytes, 4 * MiB);
    assert.equal(second.take(3 * MiB), true);
    second.release();
    assert.equal(budget.inFlightBytes, 0);
  });

  test('release is idempotent, and a released claim takes nothing more', () => {
    const budget = new BodyBudget(16 * MiB);
    const claim = budget.open();
    claim.take(MiB);
    claim.release();
    claim.release();
    assert.equal(budget.inFlightBytes, 0);
    assert.equal(claim.take(1), false);
    assert.equal(budget.inFlightBytes, 0);
  });

  test('a released claim reports the bytes that arrived, not those it held', () => {
    const reported: number[] = [];
    const budget = new BodyBudget(100 * MiB, (bytes) => reported.push(bytes));
    const declared = budget.open();
    declared.take(69 * MiB);
    declared.received(MiB);
    declared.release();
    const refused = budget.open();
    refused.release();
    assert.deepEqual(reported, [MiB]);
  });

  test('the default budget is 256 MiB', () => {
    assert.equal(new BodyBudget().limitBytes, 256 * MiB);
  });

  test('the refusal is a retryable throttle with a reason and Retry-After', () => {
    const error = bodyBudgetExceeded();
    assert.equal(error.code, 'TooManyRequestsException');
    assert.equal(error.spec.status, 429);
    assert.deepEqual(error.extras, { reason: 'CallerRateLimitExceeded', retryAfterSeconds: 1 });
  });
});

describe('BodyBudget.until', () => {
  test('resolves at once when the bytes in flight already satisfy the check', async () => {
    await new BodyBudget(100).until((bytes) => bytes === 0);
  });

  test('resolves when a claim takes or gives back bytes that satisfy it', async () => {
    const budget = new BodyBudget(100);
    const claim = budget.open();
    const taken = budget.until((bytes) => bytes === 60);
    assert.ok(claim.take(60));
    await taken;
    const drained = budget.until((bytes) => bytes === 0);
    claim.release();
    await drained;
    assert.equal(budget.inFlightBytes, 0);
  });
});
