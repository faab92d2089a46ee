/** Usage figures and their price: AWS's published rates, provisioned rates, and `--prices` files. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AWS_LAMBDA_PRICES,
  gbSeconds,
  parsePrices,
  priceOf,
  type UsageFigures,
} from '../../src/core/usage-prices.js';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);

test('a million 1 GB invocations of 1 s cost what AWS publishes', () => {
  const usage: UsageFigures = {
    requests: 1_000_000,
    billedMs: 1_000_000_000,
    mibMs: 1024 * 1_000_000_000,
    provisionedDurationMibMs: 0,
    provisionedMibMs: 0,
  };
  assert.equal(gbSeconds(usage.mibMs), 1_000_000);
  const x86 = priceOf(usage, 'x86_64', AWS_LAMBDA_PRICES);
  close(x86.requests, 0.2);
  close(x86.duration, 16.6667);
  close(x86.total, 16.8667);
  close(priceOf(usage, 'arm64', AWS_LAMBDA_PRICES).duration, 13.3334);
});

test('invocations on provisioned concurrency and the concurrency kept are priced at their rates', () => {
  const usage: UsageFigures = {
    requests: 2,
    billedMs: 2000,
    mibMs: 2 * 1024 * 1000,
    provisionedDurationMibMs: 1024 * 1000,
    provisionedMibMs: 1024 * 3_600_000,
  };
  const price = priceOf(usage, 'x86_64', AWS_LAMBDA_PRICES);
  close(price.duration, 0.0000166667 + 0.0000097222);
  close(price.provisioned, 3600 * 0.0000041667);
  close(price.total, price.requests + price.duration + price.provisioned);
});

test('a prices file overrides what it names and keeps AWS rates for the rest', () => {
  const prices = parsePrices({ requestsPerMillion: 0, arm64: { durationPerGbSecond: 0.00001 } });
  assert.equal(prices.requestsPerMillion, 0);
  assert.equal(prices.arm64.durationPerGbSecond, 0.00001);
  assert.equal(prices.arm64.provisionedPerGbSecond, AWS_LAMBDA_PRICES.arm64.provisionedPerGbSecond);
  assert.deepEqual(prices.x86_64, AWS_LAMBDA_PRICES.x86_64);
  assert.deepEqual(parsePrices({}), AWS_LAMBDA_PRICES);
});

test('bad prices files are refused with the field named', () => {
  assert.throws(() => parsePrices([]), /must be a JSON object/);
  assert.throws(() => parsePrices({ requestsPerMillion: -1 }), /requestsPerMillion must be/);
  assert.throws(
    () => parsePrices({ x86_64: { durationPerGbSecond: 'cheap' } }),
    /x86_64\.durationPerGbSecond/,
  );
  assert.throws(
    () => parsePrices({ x86_64: { durationPerGbSecnd: 1 } }),
    /unknown field durationPerGbSecnd/,
  );
  assert.throws(() => parsePrices({ mips: {} }), /unknown field mips/);
});
