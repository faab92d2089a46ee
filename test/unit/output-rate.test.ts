import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OutputRate } from '../../src/sandbox/output-rate.js';

test('a second’s worth passes at once, then the output waits off what it took beyond', () => {
  let now = 0;
  const rate = new OutputRate(1000, () => now);
  assert.equal(rate.take(600), 0);
  assert.equal(rate.take(400), 0);
  // 500 bytes beyond the bucket: half a second to wait them off.
  assert.equal(rate.take(500), 500);
  now = 500;
  assert.equal(rate.take(0), 0);
  // Refills at the rate, never beyond one second's worth.
  now = 10_000;
  assert.equal(rate.take(1000), 0);
  assert.equal(rate.take(1), 1);
});
