/**
 * Pay-per-use figures and their price. Usage is kept in exact integers — requests, billed
 * milliseconds, and "MiB-milliseconds" (billed ms × configured memory) — so that sums over any
 * period match the invocation records exactly; GB-seconds and prices are derived when read.
 * The default prices are AWS Lambda's published on-demand prices (us-east-1): requests $0.20 per
 * million; duration per GB-second $0.0000166667 (x86_64) and $0.0000133334 (arm64); provisioned
 * concurrency per GB-second $0.0000041667 / $0.0000033334; and the duration of invocations that
 * ran on provisioned concurrency $0.0000097222 / $0.0000077778.
 */
import type { Architecture } from './function-model.js';

/** Prices of one architecture, in dollars per GB-second. */
export interface ArchitecturePrices {
  readonly durationPerGbSecond: number;
  readonly provisionedPerGbSecond: number;
  readonly provisionedDurationPerGbSecond: number;
}

export interface UsagePrices {
  readonly requestsPerMillion: number;
  readonly x86_64: ArchitecturePrices;
  readonly arm64: ArchitecturePrices;
}

export const AWS_LAMBDA_PRICES: UsagePrices = {
  requestsPerMillion: 0.2,
  x86_64: {
    durationPerGbSecond: 0.0000166667,
    provisionedPerGbSecond: 0.0000041667,
    provisionedDurationPerGbSecond: 0.0000097222,
  },
  arm64: {
    durationPerGbSecond: 0.0000133334,
    provisionedPerGbSecond: 0.0000033334,
    provisionedDurationPerGbSecond: 0.0000077778,
  },
};

/** Usage of one function version over some period, in exact units. */
export interface UsageFigures {
  readonly requests: number;
  /** Sum of billed durations (ms). */
  readonly billedMs: number;
  /** Sum of billed ms × memory size (MiB) of every invocation. */
  readonly mibMs: number;
  /** The part of `mibMs` of invocations that ran on provisioned concurrency. */
  readonly provisionedDurationMibMs: number;
  /** Provisioned concurrency kept ready: environments × memory (MiB) × time (ms). */
  readonly provisionedMibMs: number;
}

export const NO_USAGE: UsageFigures = {
  requests: 0,
  billedMs: 0,
  mibMs: 0,
  provisionedDurationMibMs: 0,
  provisionedMibMs: 0,
};

export function addUsage(a: UsageFigures, b: UsageFigures): UsageFigures {
  return {
    requests: a.requests + b.requests,
    billedMs: a.billedMs + b.billedMs,
    mibMs: a.mibMs + b.mibMs,
    provisionedDurationMibMs: a.provisionedDurationMibMs + b.provisionedDurationMibMs,
    provisionedMibMs: a.provisionedMibMs + b.provisionedMibMs,
  };
}

/** MiB-milliseconds as GB-seconds (AWS's GB is 1,024 MB here: a 1,024 MB function for 1 s is 1). */
export function gbSeconds(mibMs: number): number {
  return mibMs / 1024 / 1000;
}

/** The price of some usage, in dollars. */
export interface UsagePrice {
  readonly requests: number;
  readonly duration: number;
  readonly provisioned: number;
  readonly total: number;
}

export function priceOf(
  usage: UsageFigures,
  architecture: Architecture,
  prices: UsagePrices,
): UsagePrice {
  const rates = prices[architecture];
  const requests = (usage.requests / 1_000_000) * prices.requestsPerMillion;
  const onDemandMibMs = usage.mibMs - usage.provisionedDurationMibMs;
  const duration =
    gbSeconds(onDemandMibMs) * rates.durationPerGbSecond +
    gbSeconds(usage.provisionedDurationMibMs) * rates.provisionedDurationPerGbSecond;
  const provisioned = gbSeconds(usage.provisionedMibMs) * rates.provisionedPerGbSecond;
  return { requests, duration, provisioned, total: requests + duration + provisioned };
}

/**
 * Prices from a JSON document (a `--prices` file): any of the fields above, the rest AWS's.
 * Throws with a message naming the field when a value is not a non-negative finite number.
 */
export function parsePrices(document: unknown): UsagePrices {
  const root = objectAt(document, 'the prices');
  const arch = (name: Architecture): ArchitecturePrices => {
    const given = root[name] === undefined ? {} : objectAt(root[name], name);
    for (const key of Object.keys(given)) {
      if (!(key in AWS_LAMBDA_PRICES[name]))
        throw new Error(`unknown field ${key} in the prices of ${name}`);
    }
    const base = AWS_LAMBDA_PRICES[name];
    return {
      durationPerGbSecond: rate(given, 'durationPerGbSecond', name, base.durationPerGbSecond),
      provisionedPerGbSecond: rate(
        given,
        'provisionedPerGbSecond',
        name,
        base.provisionedPerGbSecond,
      ),
      provisionedDurationPerGbSecond: rate(
        given,
        'provisionedDurationPerGbSecond',
        name,
        base.provisionedDurationPerGbSecond,
      ),
    };
  };
  for (const key of Object.keys(root)) {
    if (!['requestsPerMillion', 'x86_64', 'arm64'].includes(key))
      throw new Error(`unknown field ${key} in the prices (requestsPerMillion, x86_64, arm64)`);
  }
  return {
    requestsPerMillion: rate(root, 'requestsPerMillion', '', AWS_LAMBDA_PRICES.requestsPerMillion),
    x86_64: arch('x86_64'),
    arm64: arch('arm64'),
  };
}

function objectAt(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

function rate(
  object: Record<string, unknown>,
  key: string,
  within: string,
  fallback: number,
): number {
  const value = object[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new Error(`${within === '' ? key : `${within}.${key}`} must be a non-negative number`);
  return value;
}
