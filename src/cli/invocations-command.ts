/**
 * `lamina invocations`: the records of a server's past invocations (newest first), filtered by
 * function, time, outcome and trigger, as a table or (`--output json`) as the API's JSON; and
 * `lamina usage`: requests, GB-seconds and their price per function version and hour or day.
 */
import { readFileSync } from 'node:fs';
import { parsePrices, type UsagePrices } from '../core/usage-prices.js';
import { table, type EventsClientOptions } from './events-command.js';
import { LaminaApiClient } from './lamina-api-client.js';
import { parseSince } from './logs-command.js';

const API = '/lamina/2026-11-01';

export interface InvocationFilters {
  readonly functionName?: string | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly outcome?: string | undefined;
  readonly trigger?: string | undefined;
  readonly maxItems?: number | undefined;
  readonly marker?: string | undefined;
}

interface InvocationView {
  readonly RequestId: string;
  readonly FunctionName: string;
  readonly ExecutedVersion: string;
  readonly Trigger: string;
  readonly StartTime: string;
  readonly ColdStart: boolean;
  readonly InitDurationMs: number | null;
  readonly DurationMs: number;
  readonly BilledDurationMs: number;
  readonly MemorySizeMB: number;
  readonly MaxMemoryUsedMB: number;
  readonly Outcome: string;
  readonly ErrorType: string | null;
}

/**
 * A time option as the API takes it: a duration back from now (`30m`, `2h`, `7d`) or a time
 * (ISO-8601).
 */
export function timeOption(text: string, nowMs: number): string {
  if (/^\d+\s*[smhd]?$/.test(text.trim())) return new Date(nowMs - parseSince(text)).toISOString();
  const ms = Date.parse(text);
  if (Number.isNaN(ms))
    throw new Error(
      `expected a duration such as 30m, 2h or 7d, or an ISO-8601 time, not '${text}'`,
    );
  return new Date(ms).toISOString();
}

export async function listInvocations(
  options: EventsClientOptions,
  filters: InvocationFilters,
): Promise<void> {
  const now = Date.now();
  const { json } = await new LaminaApiClient(options).request('GET', `${API}/invocations`, {
    FunctionName: filters.functionName,
    Since: filters.since === undefined ? undefined : timeOption(filters.since, now),
    Until: filters.until === undefined ? undefined : timeOption(filters.until, now),
    Outcome: filters.outcome,
    Trigger: filters.trigger,
    MaxItems: filters.maxItems === undefined ? undefined : String(filters.maxItems),
    Marker: filters.marker,
  });
  if (options.output === 'json') return options.write(`${JSON.stringify(json, null, 2)}\n`);
  const page = json as { Invocations: InvocationView[]; NextMarker?: string };
  if (page.Invocations.length === 0) return options.write('No invocations.\n');
  const rows = page.Invocations.map((r) => [
    r.StartTime,
    r.FunctionName,
    r.ExecutedVersion,
    r.RequestId,
    r.Trigger,
    r.ColdStart ? `cold ${(r.InitDurationMs ?? 0).toFixed(0)} ms` : 'warm',
    `${r.DurationMs.toFixed(2)} ms`,
    `${r.BilledDurationMs} ms`,
    `${r.MaxMemoryUsedMB}/${r.MemorySizeMB} MB`,
    r.ErrorType === null ? r.Outcome : `${r.Outcome} ${r.ErrorType}`,
  ]);
  options.write(
    table(
      [
        'START',
        'FUNCTION',
        'VERSION',
        'REQUEST ID',
        'TRIGGER',
        'START TYPE',
        'DURATION',
        'BILLED',
        'MEMORY',
        'OUTCOME',
      ],
      rows,
    ),
  );
  if (page.NextMarker !== undefined)
    options.write(`More invocations: add --marker ${page.NextMarker}\n`);
}

export interface UsageFilters {
  readonly functionName?: string | undefined;
  readonly since?: string | undefined;
  readonly until?: string | undefined;
  readonly by: 'hour' | 'day';
}

interface UsageFiguresView {
  readonly Requests: number;
  readonly GbSeconds: number;
  readonly ProvisionedConcurrencyGbSeconds: number;
  readonly Cost: { readonly Total: number };
}

export async function showUsage(
  options: EventsClientOptions,
  filters: UsageFilters,
): Promise<void> {
  const now = Date.now();
  const { json } = await new LaminaApiClient(options).request('GET', `${API}/usage`, {
    FunctionName: filters.functionName,
    Since: filters.since === undefined ? undefined : timeOption(filters.since, now),
    Until: filters.until === undefined ? undefined : timeOption(filters.until, now),
    By: filters.by,
  });
  if (options.output === 'json') return options.write(`${JSON.stringify(json, null, 2)}\n`);
  const answer = json as {
    Usage: Array<UsageFiguresView & { FunctionName: string; Version: string; PeriodStart: string }>;
    Total: UsageFiguresView;
  };
  if (answer.Usage.length === 0) return options.write('No usage.\n');
  const row = (period: string, fn: string, version: string, u: UsageFiguresView) => [
    period,
    fn,
    version,
    String(u.Requests),
    u.GbSeconds.toFixed(3),
    u.ProvisionedConcurrencyGbSeconds.toFixed(3),
    `$${u.Cost.Total.toFixed(6)}`,
  ];
  const rows = answer.Usage.map((u) =>
    row(
      filters.by === 'day' ? u.PeriodStart.slice(0, 10) : u.PeriodStart.slice(0, 13) + ':00Z',
      u.FunctionName,
      u.Version,
      u,
    ),
  );
  rows.push(row('TOTAL', '', '', answer.Total));
  options.write(
    table(
      ['PERIOD', 'FUNCTION', 'VERSION', 'REQUESTS', 'GB-SECONDS', 'PROVISIONED GB-S', 'PRICE'],
      rows,
    ),
  );
}

/** The `--prices` file of `lamina server`, or AWS's prices when none is given. */
export function pricesFrom(file: string | undefined): UsagePrices {
  if (file === undefined) return parsePrices({});
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`--prices ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    return parsePrices(document);
  } catch (error) {
    throw new Error(`--prices ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
