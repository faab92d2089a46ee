/**
 * Reading asynchronous events through Lamina's events API, and waiting (with a deadline) for one:
 * on every committed change when the server runs in the test's process, else by polling.
 */
import { LaminaApiClient, type ApiCredentials } from '../../src/cli/lamina-api-client.js';
import type { EventView } from '../../src/cli/events-command.js';
import { poll, untilChanged } from './poll.js';

export type { EventView };

const API = '/lamina/2026-11-01';

export class EventsApi {
  readonly client: LaminaApiClient;
  /** Tells of every committed change to the events (in-process servers); else states are polled. */
  readonly #changes: ((listener: () => void) => () => void) | undefined;

  constructor(
    endpoint: string,
    credentials?: ApiCredentials,
    changes?: (listener: () => void) => () => void,
  ) {
    this.client = new LaminaApiClient({ endpoint, region: 'us-east-1', credentials });
    this.#changes = changes;
  }

  /** Reads until `ready` holds: after every change when told of them, else every 50 ms. */
  #until<T>(
    read: () => Promise<T>,
    ready: (value: T) => boolean,
    deadlineMs: number,
    what: string,
  ) {
    return this.#changes === undefined
      ? poll(read, ready, deadlineMs, what)
      : untilChanged(read, ready, this.#changes, deadlineMs, what);
  }

  async get(requestId: string): Promise<EventView> {
    return (await this.client.request('GET', `${API}/async-events/${requestId}`)).json as EventView;
  }

  /** A function's events, newest first (up to 1,000 unless `query` says otherwise). */
  async list(functionName: string, query: Record<string, string> = {}): Promise<EventView[]> {
    const { json } = await this.client.request(
      'GET',
      `${API}/functions/${encodeURIComponent(functionName)}/async-events`,
      { MaxItems: '1000', ...query },
    );
    return (json as { AsyncEvents: EventView[] }).AsyncEvents;
  }

  /** Waits until `ready(event)` holds; fails with the last state after `deadlineMs`. */
  async waitFor(
    requestId: string,
    ready: (event: EventView) => boolean,
    deadlineMs = 60_000,
  ): Promise<EventView> {
    return this.#until(() => this.get(requestId), ready, deadlineMs, `event ${requestId}`);
  }

  /** Waits until a function's event list satisfies `ready(events)`. */
  async waitForList(
    functionName: string,
    ready: (events: EventView[]) => boolean,
    deadlineMs = 60_000,
  ): Promise<EventView[]> {
    return this.#until(
      () => this.list(functionName),
      ready,
      deadlineMs,
      `events of ${functionName}`,
    );
  }
}

/** Epoch ms of a Lambda-format time (`2026-11-21T19:06:32.563+0000`). */
export function epochMs(time: string | null | undefined): number {
  if (time === null || time === undefined) throw new Error('no time');
  return Date.parse(time.replace('+0000', 'Z'));
}
