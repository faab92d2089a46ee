/** Reading asynchronous events through Lamina's events API, and waiting (with a deadline) for one. */
import { LaminaApiClient, type ApiCredentials } from '../../src/cli/lamina-api-client.js';
import type { EventView } from '../../src/cli/events-command.js';
import { poll } from './poll.js';

export type { EventView };

const API = '/lamina/2026-11-01';

export class EventsApi {
  readonly client: LaminaApiClient;

  constructor(endpoint: string, credentials?: ApiCredentials) {
    this.client = new LaminaApiClient({ endpoint, region: 'us-east-1', credentials });
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

  /** Polls until `ready(event)` holds; fails with the last state after `deadlineMs`. */
  async waitFor(
    requestId: string,
    ready: (event: EventView) => boolean,
    deadlineMs = 60_000,
  ): Promise<EventView> {
    return poll(() => this.get(requestId), ready, deadlineMs, `event ${requestId}`);
  }

  /** Polls a function's event list until `ready(events)` holds. */
  async waitForList(
    functionName: string,
    ready: (events: EventView[]) => boolean,
    deadlineMs = 60_000,
  ): Promise<EventView[]> {
    return poll(() => this.list(functionName), ready, deadlineMs, `events of ${functionName}`);
  }
}

/** Epoch ms of a Lambda-format time (`2026-11-21T19:06:32.563+0000`). */
export function epochMs(time: string | null | undefined): number {
  if (time === null || time === undefined) throw new Error('no time');
  return Date.parse(time.replace('+0000', 'Z'));
}
