/**
 * `lamina events list <function> | get <request-id> | replay <request-id>`: the asynchronous
 * events of a server through its events API, as readable text or (`--output json`) as the API's
 * JSON.
 */
import { LaminaApiClient, LaminaApiError, type ApiCredentials } from './lamina-api-client.js';

const API = '/lamina/2026-11-01';

/** Where the server is and how to sign for it. */
export interface EventsClientOptions {
  readonly endpoint: string;
  readonly region: string;
  readonly credentials: ApiCredentials | undefined;
  readonly output: 'text' | 'json';
  readonly write: (text: string) => void;
}

/** One event as the API answers it. */
export interface EventView {
  readonly RequestId: string;
  readonly FunctionArn: string;
  readonly Qualifier: string;
  readonly Status: string;
  readonly Attempts: number;
  readonly Throttles: number;
  readonly EnqueuedTime: string;
  readonly LastAttemptTime: string | null;
  readonly NextAttemptTime?: string;
  readonly FinishedTime?: string;
  readonly Condition: string | null;
  readonly Error: { readonly errorType: string; readonly errorMessage: string } | null;
  readonly Response: unknown;
  readonly ReplayOf?: string;
}

export interface ListOptions {
  readonly status?: string | undefined;
  readonly maxItems?: number | undefined;
  readonly marker?: string | undefined;
}

export async function listEvents(
  options: EventsClientOptions,
  functionName: string,
  list: ListOptions,
): Promise<void> {
  const { json } = await client(options).request(
    'GET',
    `${API}/functions/${encodeURIComponent(functionName)}/async-events`,
    {
      Status: list.status,
      MaxItems: list.maxItems === undefined ? undefined : String(list.maxItems),
      Marker: list.marker,
    },
  );
  if (options.output === 'json') return options.write(`${JSON.stringify(json, null, 2)}\n`);
  const page = json as { AsyncEvents: EventView[]; NextMarker?: string };
  if (page.AsyncEvents.length === 0) {
    options.write(`No events${list.status === undefined ? '' : ` with status ${list.status}`}.\n`);
    return;
  }
  const rows = page.AsyncEvents.map((e) => [
    e.RequestId,
    e.Status,
    String(e.Attempts),
    e.EnqueuedTime,
    e.Error === null ? (e.Condition ?? '') : `${e.Condition ?? ''} ${e.Error.errorType}`.trim(),
  ]);
  options.write(table(['REQUEST ID', 'STATUS', 'ATTEMPTS', 'ENQUEUED', 'OUTCOME'], rows));
  if (page.NextMarker !== undefined)
    options.write(`More events: add --marker ${page.NextMarker}\n`);
}

export async function getEvent(options: EventsClientOptions, requestId: string): Promise<void> {
  const { json } = await client(options).request(
    'GET',
    `${API}/async-events/${encodeURIComponent(requestId)}`,
  );
  if (options.output === 'json') return options.write(`${JSON.stringify(json, null, 2)}\n`);
  const e = json as EventView;
  const lines: Array<[string, string | undefined]> = [
    ['Request id', e.RequestId],
    ['Function', `${e.FunctionArn} (${e.Qualifier})`],
    ['Status', e.Condition === null ? e.Status : `${e.Status} (${e.Condition})`],
    ['Attempts', String(e.Attempts)],
    ['Enqueued', e.EnqueuedTime],
    ['Last attempt', e.LastAttemptTime ?? undefined],
    ['Next attempt', e.NextAttemptTime],
    ['Finished', e.FinishedTime],
    ['Replay of', e.ReplayOf],
    ['Error', e.Error === null ? undefined : `${e.Error.errorType}: ${e.Error.errorMessage}`],
  ];
  for (const [label, value] of lines)
    if (value !== undefined) options.write(`${label.padEnd(14)}${value}\n`);
  if (e.Response !== null) {
    const text = typeof e.Response === 'string' ? e.Response : JSON.stringify(e.Response, null, 2);
    options.write(`Response\n${text.replace(/^/gm, '  ')}\n`);
  }
}

export async function replayEvent(options: EventsClientOptions, requestId: string): Promise<void> {
  const { json } = await client(options).request(
    'POST',
    `${API}/async-events/${encodeURIComponent(requestId)}/replay`,
  );
  if (options.output === 'json') return options.write(`${JSON.stringify(json, null, 2)}\n`);
  const { RequestId } = json as { RequestId: string };
  options.write(`Replayed ${requestId} as ${RequestId} (queued).\n`);
}

/** Text for an API error, with a hint when the server wanted a signature it did not get. */
export function describeApiError(error: unknown, signed: boolean): string {
  if (!(error instanceof LaminaApiError)) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return `${error instanceof Error ? error.message : String(error)}${cause === undefined ? '' : ` (${cause})`}`;
  }
  const hint =
    !signed && error.status === 403
      ? "\nNo credentials were found: set LAMINA_ACCESS_KEY_ID and LAMINA_SECRET_ACCESS_KEY, or pass the server's --data-dir."
      : '';
  return `${error.code}: ${error.message}${hint}`;
}

function client(options: EventsClientOptions): LaminaApiClient {
  return new LaminaApiClient(options);
}

/** Rows as aligned text columns under a header. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}
