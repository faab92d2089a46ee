/**
 * A NATS JetStream stream as an ordered event source, modelled on self-managed Kafka: a durable
 * pull consumer named after the mapping (`lamina-<UUID>`, like Lambda's consumer group id) keeps
 * the checkpoint in the broker, so a restart resumes where the mapping was. Records are
 * acknowledged once their batch is settled (a record sent to the OnFailure function, or given
 * up, is terminated); records of one subject keep their order (ParallelizationFactor lanes by
 * subject). Records held longer than the consumer's ack wait (a batch being retried) are kept
 * with progress acks; on an orderly close the records not yet processed are handed back at once.
 */
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { EventSourceMapping, MappingSource } from '../core/event-source-mapping.js';
import type { RecordSource, SourceRecord } from '../event-sources/ports.js';
import { LaneBuffer, laneOf } from './lane-buffer.js';
import { decodedData } from './record-data.js';
import { streamBatchInfo, streamEvent } from './stream-event.js';

/** How long the broker waits for an ack before delivering a record again (ns). */
const ACK_WAIT_NS = 30_000_000_000;
/** Progress acks of held records, well within the ack wait. */
const PROGRESS_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;

type StreamSource = Extract<MappingSource, { kind: 'nats' | 'redis' }>;

interface NatsRecord extends SourceRecord {
  readonly message: JsMsg;
  readonly lane: number;
}

export async function openNatsStreamSource(
  mapping: EventSourceMapping,
  source: StreamSource,
): Promise<RecordSource> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: [...source.endpoints],
      timeout: CONNECT_TIMEOUT_MS,
      reconnect: false,
      name: `lamina-${mapping.uuid}`,
    });
  } catch (error) {
    throw new Error(`Could not connect to NATS: ${reason(error)}`, { cause: error });
  }
  try {
    const durable = `lamina-${mapping.uuid}`;
    const lanes = Math.max(1, mapping.settings.parallelizationFactor ?? 1);
    const maxAckPending = Math.min(20_000, mapping.settings.batchSize * lanes * 4);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.info(source.stream).catch((error: unknown) => {
      throw new Error(`The stream ${source.stream} does not exist: ${reason(error)}`);
    });
    const existing = await jsm.consumers.info(source.stream, durable).catch(() => undefined);
    if (existing === undefined)
      await jsm.consumers.add(source.stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        ack_wait: ACK_WAIT_NS,
        max_ack_pending: maxAckPending,
        ...startingPoint(mapping),
      });
    else if (existing.config.max_ack_pending !== maxAckPending)
      await jsm.consumers.update(source.stream, durable, { max_ack_pending: maxAckPending });
    const consumer = await jetstream(nc).consumers.get(source.stream, durable);
    const messages = await consumer.consume({ max_messages: maxAckPending });
    return new NatsStreamSource(nc, messages, source, lanes);
  } catch (error) {
    await nc.close().catch(() => undefined);
    throw error;
  }
}

/** The consumer's first record: the mapping's StartingPosition (used once, when it is made). */
function startingPoint(mapping: EventSourceMapping) {
  switch (mapping.settings.startingPosition) {
    case 'LATEST':
      return { deliver_policy: DeliverPolicy.New };
    case 'AT_TIMESTAMP':
      return {
        deliver_policy: DeliverPolicy.StartTime,
        opt_start_time: new Date(
          (mapping.settings.startingPositionTimestamp ?? 0) * 1000,
        ).toISOString(),
      };
    default:
      return { deliver_policy: DeliverPolicy.All };
  }
}

class NatsStreamSource implements RecordSource {
  readonly ordered = true;
  readonly #nc: NatsConnection;
  readonly #messages: ConsumerMessages;
  readonly #source: StreamSource;
  readonly #buffer: LaneBuffer<NatsRecord>;
  /** Records given out and not yet settled. */
  readonly #held = new Set<NatsRecord>();
  readonly #progress: NodeJS.Timeout;
  #failure: Error | undefined;
  #interrupted = false;

  constructor(nc: NatsConnection, messages: ConsumerMessages, source: StreamSource, lanes: number) {
    this.#nc = nc;
    this.#messages = messages;
    this.#source = source;
    this.#buffer = new LaneBuffer(lanes);
    this.#progress = setInterval(() => {
      for (const record of this.#held) record.message.working();
    }, PROGRESS_MS);
    this.#progress.unref();
    void this.#read();
    void nc.closed().then((error) => {
      this.#failure ??= error ?? new Error('The NATS connection closed.');
      this.#buffer.wake();
    });
  }

  async #read(): Promise<void> {
    try {
      for await (const message of this.#messages) {
        const record = this.#record(message);
        this.#buffer.push(record.lane, record);
      }
    } catch (error) {
      this.#failure ??= error instanceof Error ? error : new Error(String(error));
      this.#buffer.wake();
    }
  }

  async next(max: number, windowMs: number): Promise<SourceRecord[]> {
    const { items } = await this.#buffer.take(
      max,
      windowMs,
      () => this.#interrupted || this.#failure !== undefined,
    );
    if (this.#interrupted) return [];
    if (items.length === 0 && this.#failure !== undefined) throw this.#failure;
    for (const item of items) this.#held.add(item);
    return items;
  }

  eventOf(records: readonly SourceRecord[]): Record<string, unknown> {
    return streamEvent('SelfManagedNATS', this.#source.endpoints, records);
  }

  batchInfoOf(records: readonly SourceRecord[]): Record<string, unknown> {
    return streamBatchInfo('NATSBatchInfo', this.#source, records);
  }

  settle(done: readonly SourceRecord[], rejected: readonly SourceRecord[]): Promise<void> {
    for (const record of done) (record as NatsRecord).message.ack();
    for (const record of rejected) (record as NatsRecord).message.term('rejected by Lamina');
    const lanes = new Set<number>();
    for (const record of [...done, ...rejected]) {
      this.#held.delete(record as NatsRecord);
      lanes.add((record as NatsRecord).lane);
    }
    for (const lane of lanes) this.#buffer.release(lane);
    return Promise.resolve();
  }

  interrupt(): void {
    this.#interrupted = true;
    this.#buffer.wake();
  }

  async close(): Promise<void> {
    this.interrupt();
    clearInterval(this.#progress);
    // Records not processed go back to the broker now rather than after the ack wait.
    for (const record of [...this.#buffer.drain(), ...this.#held]) record.message.nak();
    this.#buffer.close();
    await this.#messages.close().catch(() => undefined);
    await this.#nc.drain().catch(() => undefined);
  }

  #record(message: JsMsg): NatsRecord {
    const headers: Array<Record<string, number[]>> = [];
    for (const [name, values] of message.headers ?? [])
      for (const value of values) headers.push({ [name]: [...Buffer.from(value, 'utf8')] });
    const event = {
      topic: this.#source.stream,
      partition: message.subject,
      offset: message.seq,
      timestamp: message.time.getTime(),
      timestampType: 'LOG_APPEND_TIME',
      value: Buffer.from(message.data).toString('base64'),
      headers,
    };
    return {
      id: String(message.seq),
      partition: message.subject,
      arrivalMs: message.time.getTime(),
      event,
      filterView: { ...event, value: decodedData(message.data) },
      message,
      lane: laneOf(message.subject, this.#buffer.laneCount),
    };
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
