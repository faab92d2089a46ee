/**
 * Telemetry of one environment: the events Lambda produces (`{time, type, record}`), buffered per
 * subscriber as its subscription asks (maxItems, maxBytes, timeoutMs) and delivered off the invoke
 * path through a `TelemetrySender`, one batch in flight per subscriber. Events emitted during
 * init are kept and given to subscribers as they subscribe (they subscribe during init, after it
 * started). When a subscriber's buffer overflows, the newest events are dropped and the next batch
 * starts with `platform.logsDropped`.
 */
import type { TelemetryCategory, TelemetrySubscription } from '../core/extension-protocol.js';
import type { TelemetrySender } from './ports.js';

/** Events only the Logs API (2020-08-15) knows, and those only the Telemetry API knows. */
const LOGS_ONLY = new Set(['platform.end', 'platform.fault', 'platform.logsSubscription']);
const TELEMETRY_ONLY = new Set([
  'platform.initStart',
  'platform.initRuntimeDone',
  'platform.initReport',
  'platform.telemetrySubscription',
  'platform.restoreStart',
  'platform.restoreRuntimeDone',
  'platform.restoreReport',
]);
/** Buffered bytes a subscriber may hold, as a multiple of its batch size, before dropping. */
const OVERFLOW_FACTOR = 4;
const RETRIES = 3;
const INIT_BACKLOG = 1000;

interface TelemetryEvent {
  readonly type: string;
  readonly category: TelemetryCategory;
  readonly json: string;
}

class Subscriber {
  readonly name: string;
  readonly subscription: TelemetrySubscription;
  readonly #send: (events: readonly string[]) => Promise<void>;
  readonly #buffer: string[] = [];
  #bytes = 0;
  #dropped = { records: 0, bytes: 0 };
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> | undefined;
  #closed = false;

  constructor(
    name: string,
    subscription: TelemetrySubscription,
    send: (events: readonly string[]) => Promise<void>,
  ) {
    this.name = name;
    this.subscription = subscription;
    this.#send = send;
  }

  wants(event: TelemetryEvent): boolean {
    const { api, schemaVersion, categories } = this.subscription;
    if (!categories.includes(event.category)) return false;
    if (api === 'telemetry') return !LOGS_ONLY.has(event.type);
    if (TELEMETRY_ONLY.has(event.type)) return false;
    return event.type !== 'platform.runtimeDone' || schemaVersion >= '2021-03-18';
  }

  add(json: string): void {
    if (this.#closed) return;
    const size = Buffer.byteLength(json);
    if (this.#bytes + size > this.subscription.maxBytes * OVERFLOW_FACTOR) {
      this.#dropped.records += 1;
      this.#dropped.bytes += size;
      return;
    }
    this.#buffer.push(json);
    this.#bytes += size;
    if (
      this.#buffer.length >= this.subscription.maxItems ||
      this.#bytes >= this.subscription.maxBytes
    ) {
      this.#flush();
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => this.#flush(), this.subscription.timeoutMs);
    }
  }

  /** Stops the timer; buffered events are sent once more if anything is left. */
  close(): void {
    this.#flush();
    this.#closed = true;
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#sending !== undefined || this.#buffer.length === 0) return;
    const batch = this.#takeBatch();
    this.#sending = this.#deliver(batch).finally(() => {
      this.#sending = undefined;
      // What arrived meanwhile goes next (also after close: closing sends what is left).
      if (this.#buffer.length > 0) {
        this.#timer = setTimeout(() => this.#flush(), 0);
      }
    });
  }

  #takeBatch(): string[] {
    const batch: string[] = [];
    if (this.#dropped.records > 0) {
      batch.push(logsDropped(this.#dropped.records, this.#dropped.bytes));
      this.#dropped = { records: 0, bytes: 0 };
    }
    let bytes = 0;
    while (this.#buffer.length > 0 && batch.length < this.subscription.maxItems) {
      const next = this.#buffer[0] ?? '';
      const size = Buffer.byteLength(next);
      if (batch.length > 0 && bytes + size > this.subscription.maxBytes) break;
      batch.push(next);
      bytes += size;
      this.#bytes -= size;
      this.#buffer.shift();
    }
    return batch;
  }

  async #deliver(batch: readonly string[]): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.#send(batch);
        return;
      } catch {
        if (attempt >= RETRIES || this.#closed) {
          this.#dropped.records += batch.length;
          this.#dropped.bytes += batch.reduce((n, e) => n + Buffer.byteLength(e), 0);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt).unref());
      }
    }
  }
}

function logsDropped(records: number, bytes: number): string {
  return JSON.stringify({
    time: new Date().toISOString(),
    type: 'platform.logsDropped',
    record: {
      reason:
        'Some logs were dropped because the downstream consumer is slower than the logs production rate',
      droppedRecords: records,
      droppedBytes: bytes,
    },
  });
}

export class TelemetryHub {
  readonly #sender: TelemetrySender | undefined;
  readonly #now: () => number;
  readonly #subscribers = new Map<string, Subscriber>();
  #backlog: TelemetryEvent[] | undefined = [];

  /** `sender` undefined: nothing can be delivered into this environment (subscriptions still work). */
  constructor(sender: TelemetrySender | undefined, now: () => number) {
    this.#sender = sender;
    this.#now = now;
  }

  /** Adds (or replaces) the subscription of an extension and hands it the init backlog. */
  subscribe(extension: string, subscription: TelemetrySubscription): void {
    this.#subscribers.get(extension)?.close();
    const sender = this.#sender;
    const subscriber = new Subscriber(extension, subscription, (events) =>
      sender === undefined ? Promise.resolve() : sender.send(subscription.destination, events),
    );
    this.#subscribers.set(extension, subscriber);
    for (const event of this.#backlog ?? [])
      if (subscriber.wants(event)) subscriber.add(event.json);
    const confirmation =
      subscription.api === 'telemetry'
        ? 'platform.telemetrySubscription'
        : 'platform.logsSubscription';
    this.emit('platform', confirmation, {
      name: extension,
      state: 'Subscribed',
      types: subscription.categories,
    });
  }

  /** Init is over: events are no longer kept for later subscribers. */
  endInit(): void {
    this.#backlog = undefined;
  }

  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  /** Whether an emitted event would go anywhere (during init, or to a subscriber). */
  get listening(): boolean {
    return this.#backlog !== undefined || this.#subscribers.size > 0;
  }

  emit(category: TelemetryCategory, type: string, record: unknown): void {
    if (!this.listening) return;
    const json = JSON.stringify({ time: new Date(this.#now()).toISOString(), type, record });
    const event: TelemetryEvent = { type, category, json };
    if (this.#backlog !== undefined && this.#backlog.length < INIT_BACKLOG)
      this.#backlog.push(event);
    for (const subscriber of this.#subscribers.values())
      if (subscriber.wants(event)) subscriber.add(json);
  }

  /** Sends what is buffered and stops (the environment is going away). */
  close(): void {
    for (const subscriber of this.#subscribers.values()) subscriber.close();
    this.#backlog = undefined;
  }
}
