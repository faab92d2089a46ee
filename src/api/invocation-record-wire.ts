/**
 * Lamina's invocations and usage API on the wire: the query parameters (times as ISO-8601 or epoch
 * milliseconds, outcome and trigger names, pages) checked with AWS-shaped errors, and the JSON
 * views of records and usage.
 */
import { lambdaErrors } from '../core/errors.js';
import {
  INVOCATION_OUTCOMES,
  INVOCATION_TRIGGERS,
  type InvocationOutcomeKind,
  type InvocationTrigger,
} from '../core/invocation-report.js';
import { gbSeconds, type UsageFigures, type UsagePrice } from '../core/usage-prices.js';
import type { StoredInvocation } from '../monitoring/invocation-records.js';
import type { PricedUsage, UsageAnswer } from '../monitoring/invocation-history.js';
import { queryValue, type ApiRequest } from './api-types.js';

/** A time query parameter: ISO-8601, or epoch milliseconds. */
export function timeParam(req: ApiRequest, name: string): number | undefined {
  const text = queryValue(req, name);
  if (text === undefined || text === '') return undefined;
  const ms = /^\d{1,15}$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms) || text.length > 64)
    throw lambdaErrors.invalidParameter(
      `${name} must be an ISO-8601 time or epoch milliseconds, not ${JSON.stringify(text.slice(0, 64))}.`,
    );
  return ms;
}

export function outcomeParam(req: ApiRequest): InvocationOutcomeKind | undefined {
  return oneOf(req, 'Outcome', INVOCATION_OUTCOMES);
}

export function triggerParam(req: ApiRequest): InvocationTrigger | undefined {
  return oneOf(req, 'Trigger', INVOCATION_TRIGGERS);
}

/** `MaxItems` between 1 and `max` (default `fallback`). */
export function pageSizeParam(req: ApiRequest, fallback: number, max: number): number {
  const text = queryValue(req, 'MaxItems');
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d{1,7}$/.test(text) || value < 1 || value > max)
    throw lambdaErrors.invalidParameter(`MaxItems must be a whole number from 1 to ${max}.`);
  return value;
}

/** `Marker`: where the previous page ended. */
export function markerParam(req: ApiRequest): number | undefined {
  const text = queryValue(req, 'Marker');
  if (text === undefined) return undefined;
  if (!/^\d{1,15}$/.test(text)) throw lambdaErrors.invalidParameter('The Marker is not valid.');
  return Number(text);
}

function oneOf<T extends string>(
  req: ApiRequest,
  name: string,
  values: readonly T[],
): T | undefined {
  const text = queryValue(req, name);
  if (text === undefined) return undefined;
  if (!(values as readonly string[]).includes(text))
    throw lambdaErrors.invalidParameter(`${name} must be one of ${values.join(', ')}.`);
  return text as T;
}

export function toInvocationView(r: StoredInvocation): Record<string, unknown> {
  return {
    RequestId: r.requestId,
    FunctionName: r.functionName,
    ExecutedVersion: r.executedVersion,
    Qualifier: r.qualifier ?? null,
    Trigger: r.trigger,
    ReceivedTime: iso(r.receivedMs),
    StartTime: iso(r.startMs),
    EndTime: iso(r.endMs),
    ColdStart: r.cold,
    InitDurationMs: r.initDurationMs ?? null,
    DurationMs: round2(r.durationMs),
    BilledDurationMs: r.billedDurationMs,
    MemorySizeMB: r.memorySizeMiB,
    MaxMemoryUsedMB: r.maxMemoryUsedMiB,
    Architecture: r.architecture,
    Outcome: r.outcome,
    ErrorType: r.errorType ?? null,
    TraceId: r.traceHeader,
    ProvisionedConcurrency: r.provisioned,
  };
}

export function toUsageView(answer: UsageAnswer, by: 'hour' | 'day'): Record<string, unknown> {
  return {
    By: by,
    Usage: answer.rows.map((row: PricedUsage) => ({
      FunctionName: row.functionName,
      Version: row.version,
      Architecture: row.architecture,
      PeriodStart: iso(row.periodMs),
      ...figuresView(row, row.price),
    })),
    Total: figuresView(answer.total, answer.total.price),
    Prices: {
      RequestsPerMillion: answer.prices.requestsPerMillion,
      x86_64: archPrices(answer.prices.x86_64),
      arm64: archPrices(answer.prices.arm64),
    },
  };
}

function figuresView(figures: UsageFigures, price: UsagePrice): Record<string, unknown> {
  return {
    Requests: figures.requests,
    BilledDurationMs: figures.billedMs,
    GbSeconds: gbSeconds(figures.mibMs),
    ProvisionedDurationGbSeconds: gbSeconds(figures.provisionedDurationMibMs),
    ProvisionedConcurrencyGbSeconds: gbSeconds(figures.provisionedMibMs),
    MbMilliseconds: figures.mibMs,
    Cost: {
      Requests: price.requests,
      Duration: price.duration,
      ProvisionedConcurrency: price.provisioned,
      Total: price.total,
    },
  };
}

function archPrices(p: {
  durationPerGbSecond: number;
  provisionedPerGbSecond: number;
  provisionedDurationPerGbSecond: number;
}): Record<string, number> {
  return {
    DurationPerGbSecond: p.durationPerGbSecond,
    ProvisionedConcurrencyPerGbSecond: p.provisionedPerGbSecond,
    ProvisionedDurationPerGbSecond: p.provisionedDurationPerGbSecond,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
