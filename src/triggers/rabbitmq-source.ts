/**
 * A RabbitMQ queue as an event source (AMQP 0-9-1, amqplib): one connection and channel per
 * mapping, consuming with manual acknowledgement and a prefetch of twice the mapping's batch size
 * (times its concurrency). Messages stay unacknowledged until their batch is settled: processed ones are
 * acknowledged, rejected ones are rejected without requeueing (to the queue's dead-letter exchange
 * when it has one); a connection that ends before puts them back in the queue. The function sees
 * AWS's `aws:rmq` event.
 */
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import type { Clock } from '../core/clock.js';
import type { EventSourceMapping, MappingSource } from '../core/event-source-mapping.js';
import type { RecordSource, SourceRecord } from '../event-sources/ports.js';
import { decodedData } from './record-data.js';

/** amqplib's heartbeat (s): a broker gone silent is noticed within about twice this. */
const HEARTBEAT_SECONDS = 10;
const CONNECT_TIMEOUT_MS = 10_000;

/** The URL of `brokerUrl` on another virtual host. */
export function onVirtualHost(brokerUrl: string, virtualHost: string | undefined): string {
  if (virtualHost === undefined) return brokerUrl;
  const url = new URL(brokerUrl);
  url.pathname = `/${encodeURIComponent(virtualHost)}`;
  return url.toString();
}

/** The URL with a heartbeat, unless it sets its own. */
function withHeartbeat(brokerUrl: string): string {
  const url = new URL(brokerUrl);
  if (!url.searchParams.has('heartbeat'))
    url.searchParams.set('heartbeat', String(HEARTBEAT_SECONDS));
  return url.toString();
}

/** The virtual host a URL names (`/` when its path is empty). */
export function virtualHostOf(brokerUrl: string): string {
  const path = new URL(brokerUrl).pathname;
  return path === '' || path === '/' ? '/' : decodeURIComponent(path.slice(1));
}

interface Delivery extends SourceRecord {
  readonly message: ConsumeMessage;
}

export async function openRabbitMqSource(
  mapping: EventSourceMapping,
  source: Extract<MappingSource, { kind: 'rabbitmq' }>,
  brokerUrl: string,
  clock: Clock,
): Promise<RecordSource> {
  const url = withHeartbeat(onVirtualHost(brokerUrl, source.virtualHost));
  const virtualHost = source.virtualHost ?? virtualHostOf(brokerUrl);
  let model: ChannelModel;
  try {
    model = await connect(url, { timeout: CONNECT_TIMEOUT_MS });
  } catch (error) {
    throw new Error(`Could not connect to the broker: ${reason(error)}`, { cause: error });
  }
  try {
    const channel = await model.createChannel();
    await channel.checkQueue(source.queue).catch((error: unknown) => {
      throw new Error(
        `The queue ${source.queue} does not exist on virtual host ${virtualHost}: ${reason(error)}`,
      );
    });
    const { settings } = mapping;
    // Twice what the batches under way hold: the next batch is there when one is settled.
    const prefetch = Math.min(
      65_535,
      2 * settings.batchSize * Math.max(1, settings.maximumConcurrency ?? 1),
    );
    await channel.prefetch(prefetch);
    return await RabbitMqSource.start(model, channel, mapping, source, virtualHost, clock);
  } catch (error) {
    await model.close().catch(() => undefined);
    throw error;
  }
}

class RabbitMqSource implements RecordSource {
  readonly ordered = false;
  readonly #model: ChannelModel;
  readonly #channel: Channel;
  readonly #source: Extract<MappingSource, { kind: 'rabbitmq' }>;
  readonly #key: string;
  readonly #buffer: Delivery[] = [];
  /** When a message arrived (its age for MaximumRecordAgeInSeconds) is read from the server's clock. */
  readonly #clock: Clock;
  #failure: Error | undefined;
  #interrupted = false;
  #consumerTag: string | undefined;
  /** Pending `next` calls, woken by a delivery, a failure or an interrupt. */
  readonly #waiters = new Set<() => void>();

  private constructor(
    model: ChannelModel,
    channel: Channel,
    source: Extract<MappingSource, { kind: 'rabbitmq' }>,
    virtualHost: string,
    clock: Clock,
  ) {
    this.#clock = clock;
    this.#model = model;
    this.#channel = channel;
    this.#source = source;
    this.#key = `${source.queue}::${virtualHost}`;
    const fail = (error: Error | undefined) => {
      this.#failure ??= error ?? new Error('The broker closed the connection.');
      this.#wake();
    };
    model.on('error', (error: Error) => fail(error));
    model.on('close', (error?: Error) => fail(error));
    channel.on('error', (error: Error) => fail(error));
    channel.on('close', () => fail(undefined));
  }

  static async start(
    model: ChannelModel,
    channel: Channel,
    mapping: EventSourceMapping,
    source: Extract<MappingSource, { kind: 'rabbitmq' }>,
    virtualHost: string,
    clock: Clock,
  ): Promise<RabbitMqSource> {
    const self = new RabbitMqSource(model, channel, source, virtualHost, clock);
    const reply = await channel.consume(
      source.queue,
      (message) => {
        if (message === null) {
          self.#failure ??= new Error(`The broker cancelled consumption of ${source.queue}.`);
          self.#wake();
          return;
        }
        self.#buffer.push(self.#record(message));
        self.#wake();
      },
      { noAck: false, consumerTag: `lamina-${mapping.uuid}-${Date.now().toString(36)}` },
    );
    self.#consumerTag = reply.consumerTag;
    return self;
  }

  async next(max: number, windowMs: number): Promise<SourceRecord[]> {
    await this.#until(() => this.#buffer.length > 0);
    if (this.#buffer.length > 0 && this.#buffer.length < max && windowMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.#until(() => this.#buffer.length >= max),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, windowMs);
        }),
      ]);
      clearTimeout(timer);
    }
    if (this.#interrupted) return [];
    if (this.#buffer.length === 0 && this.#failure !== undefined) throw this.#failure;
    return this.#buffer.splice(0, max);
  }

  eventOf(records: readonly SourceRecord[]): Record<string, unknown> {
    return {
      eventSource: 'aws:rmq',
      eventSourceArn: this.#source.brokerArn,
      rmqMessagesByQueue: { [this.#key]: records.map((record) => record.event) },
    };
  }

  batchInfoOf(records: readonly SourceRecord[]): Record<string, unknown> {
    return {
      RabbitMQBatchInfo: {
        brokerArn: this.#source.brokerArn,
        queue: this.#key,
        batchSize: records.length,
        approximateArrivalOfFirstRecord: new Date(records[0]?.arrivalMs ?? 0).toISOString(),
        approximateArrivalOfLastRecord: new Date(records.at(-1)?.arrivalMs ?? 0).toISOString(),
      },
    };
  }

  async settle(done: readonly SourceRecord[], rejected: readonly SourceRecord[]): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    for (const record of done) this.#channel.ack((record as Delivery).message);
    for (const record of rejected) this.#channel.nack((record as Delivery).message, false, false);
    return Promise.resolve();
  }

  interrupt(): void {
    this.#interrupted = true;
    this.#wake();
  }

  async close(): Promise<void> {
    this.interrupt();
    const tag = this.#consumerTag;
    if (tag !== undefined) await this.#channel.cancel(tag).catch(() => undefined);
    // Unacknowledged messages go back to the queue when the connection closes.
    await this.#model.close().catch(() => undefined);
  }

  #record(message: ConsumeMessage): Delivery {
    // Properties are whatever the publisher sent: each is shown only with its AMQP type.
    const props: Record<string, unknown> = { ...message.properties };
    const text = (key: string) => (typeof props[key] === 'string' ? props[key] : null);
    const number = (key: string) => (typeof props[key] === 'number' ? props[key] : null);
    const timestamp = props['timestamp'];
    const basicProperties = {
      contentType: text('contentType'),
      contentEncoding: text('contentEncoding'),
      headers: headersOf(props['headers']),
      deliveryMode: number('deliveryMode'),
      priority: number('priority'),
      correlationId: text('correlationId'),
      replyTo: text('replyTo'),
      expiration: text('expiration'),
      messageId: text('messageId'),
      timestamp: typeof timestamp === 'number' ? javaMediumDate(timestamp) : null,
      type: text('type'),
      userId: text('userId'),
      appId: text('appId'),
      clusterId: text('clusterId'),
      bodySize: message.content.length,
    };
    const event = {
      basicProperties,
      redelivered: message.fields.redelivered,
      data: message.content.toString('base64'),
    };
    const messageId = basicProperties.messageId;
    const id =
      messageId !== null && messageId !== '' ? messageId : `delivery-${message.fields.deliveryTag}`;
    return {
      id,
      partition: this.#key,
      arrivalMs: this.#clock.now(),
      event,
      filterView: { ...event, data: decodedData(message.content) },
      message,
    };
  }

  async #until(ready: () => boolean): Promise<void> {
    while (!ready() && this.#failure === undefined && !this.#interrupted)
      await new Promise<void>((resolve) => {
        this.#waiters.add(resolve);
      });
  }

  #wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) waiter();
  }
}

/** AMQP headers as Lambda shows them: byte strings as `{"bytes":[…]}`, numbers as they are. */
function headersOf(headers: unknown): Record<string, unknown> | null {
  if (headers === null || typeof headers !== 'object') return null;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = headerValue(value);
  return out;
}

function headerValue(value: unknown): unknown {
  if (typeof value === 'string') return { bytes: [...Buffer.from(value, 'utf8')] };
  if (Buffer.isBuffer(value)) return { bytes: [...value] };
  if (Array.isArray(value)) return value.map(headerValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = headerValue(v);
    return out;
  }
  return value;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** An AMQP timestamp (epoch seconds) the way Lambda's example shows it: `Jan 1, 1970, 12:33:41 AM` (UTC). */
export function javaMediumDate(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const hours = d.getUTCHours();
  const twelve = hours % 12 === 0 ? 12 : hours % 12;
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${MONTHS[d.getUTCMonth()] ?? ''} ${d.getUTCDate()}, ${d.getUTCFullYear()}, ` +
    `${twelve}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${hours < 12 ? 'AM' : 'PM'}`
  );
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
