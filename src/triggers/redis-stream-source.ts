/**
 * A Redis stream as an ordered event source, modelled on self-managed Kafka: a consumer group
 * named after the mapping (`lamina-<UUID>`) keeps the checkpoint in Redis. Entries are
 * acknowledged (XACK) once their batch is settled; entries read but not acknowledged when the
 * server stopped or died are read again first (the group's pending list) when it starts, so
 * nothing is lost and only the batch in flight is delivered twice. Order is kept per stream, or
 * per the entries' `key` field when ParallelizationFactor is above 1 (lanes by key). An entry's
 * `value` field is the record's value (when it has none, its fields as a JSON object), `key` its
 * key, the other fields its headers. The first URL of REDIS_URLS is used (no cluster or sentinel).
 */
import { Redis } from 'ioredis';
import type { EventSourceMapping, MappingSource } from '../core/event-source-mapping.js';
import type { RecordSource, SourceRecord } from '../event-sources/ports.js';
import { LaneBuffer, laneOf } from './lane-buffer.js';
import { streamBatchInfo, streamEvent } from './stream-event.js';
import { decodedData } from './record-data.js';

/** How long one blocking read waits for new entries (ms): also how soon a close is noticed. */
const BLOCK_MS = 1000;
const CONSUMER = 'lamina';

type StreamSource = Extract<MappingSource, { kind: 'nats' | 'redis' }>;
type Entry = [id: Buffer, fields: Buffer[]];

interface RedisRecord extends SourceRecord {
  readonly lane: number;
}

export async function openRedisStreamSource(
  mapping: EventSourceMapping,
  source: StreamSource,
): Promise<RecordSource> {
  const url = source.endpoints[0] ?? '';
  const options = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 10_000,
    // The supervisor reconnects (and shows the problem); the client does not retry by itself.
    retryStrategy: () => null,
  };
  const reader = new Redis(url, options);
  const writer = new Redis(url, options);
  // Errors also reject the command that met them; the events are handled there.
  reader.on('error', () => undefined);
  writer.on('error', () => undefined);
  try {
    await Promise.all([reader.connect(), writer.connect()]).catch((error: unknown) => {
      throw new Error(`Could not connect to Redis: ${reason(error)}`);
    });
    const type = await writer.type(source.stream);
    if (type !== 'stream')
      throw new Error(
        type === 'none'
          ? `The stream ${source.stream} does not exist.`
          : `${source.stream} is a Redis ${type}, not a stream.`,
      );
    const group = `lamina-${mapping.uuid}`;
    await writer
      .xgroup('CREATE', source.stream, group, startId(mapping))
      .catch((error: unknown) => {
        // The group exists: the mapping resumes from its checkpoint.
        if (!reason(error).startsWith('BUSYGROUP')) throw error;
      });
    const lanes = Math.max(1, mapping.settings.parallelizationFactor ?? 1);
    return new RedisStreamSource(reader, writer, source, group, lanes, mapping.settings.batchSize);
  } catch (error) {
    reader.disconnect();
    writer.disconnect();
    throw error;
  }
}

/** Where a new group starts: the mapping's StartingPosition. */
function startId(mapping: EventSourceMapping): string {
  switch (mapping.settings.startingPosition) {
    case 'LATEST':
      return '$';
    case 'AT_TIMESTAMP': {
      // Entries from that millisecond on: the group starts after the last id of the one before.
      const ms = Math.floor((mapping.settings.startingPositionTimestamp ?? 0) * 1000);
      return ms <= 0 ? '0' : `${ms - 1}-18446744073709551615`;
    }
    default:
      return '0';
  }
}

class RedisStreamSource implements RecordSource {
  readonly ordered = true;
  readonly #reader: Redis;
  readonly #writer: Redis;
  readonly #source: StreamSource;
  readonly #group: string;
  readonly #buffer: LaneBuffer<RedisRecord>;
  readonly #readAhead: number;
  #failure: Error | undefined;
  #interrupted = false;
  #closing = false;

  constructor(
    reader: Redis,
    writer: Redis,
    source: StreamSource,
    group: string,
    lanes: number,
    batchSize: number,
  ) {
    this.#reader = reader;
    this.#writer = writer;
    this.#source = source;
    this.#group = group;
    this.#buffer = new LaneBuffer(lanes);
    this.#readAhead = Math.min(10_000, batchSize * lanes * 2);
    for (const client of [reader, writer])
      client.on('end', () => this.#fail(new Error('The Redis connection closed.')));
    void this.#read();
  }

  async #read(): Promise<void> {
    try {
      // First what this consumer read and did not acknowledge before (a stop or a crash).
      let pendingFrom: string | undefined = '0';
      while (!this.#closing) {
        if (this.#buffer.size >= this.#readAhead) {
          await this.#buffer.changed();
          continue;
        }
        const count = this.#readAhead - this.#buffer.size;
        const reply = (await (pendingFrom === undefined
          ? this.#reader.xreadgroupBuffer(
              'GROUP',
              this.#group,
              CONSUMER,
              'COUNT',
              count,
              'BLOCK',
              BLOCK_MS,
              'STREAMS',
              this.#source.stream,
              '>',
            )
          : this.#reader.xreadgroupBuffer(
              'GROUP',
              this.#group,
              CONSUMER,
              'COUNT',
              count,
              'STREAMS',
              this.#source.stream,
              pendingFrom,
            ))) as Array<[Buffer, Entry[]]> | null;
        const entries = reply?.[0]?.[1] ?? [];
        if (pendingFrom !== undefined)
          pendingFrom = entries.length === 0 ? undefined : entries.at(-1)?.[0].toString();
        for (const entry of entries) {
          const record = this.#record(entry);
          if (record !== undefined) this.#buffer.push(record.lane, record);
        }
      }
    } catch (error) {
      if (!this.#closing) this.#fail(error instanceof Error ? error : new Error(String(error)));
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
    return items;
  }

  eventOf(records: readonly SourceRecord[]): Record<string, unknown> {
    return streamEvent('SelfManagedRedis', this.#source.endpoints, records);
  }

  batchInfoOf(records: readonly SourceRecord[]): Record<string, unknown> {
    return streamBatchInfo('RedisBatchInfo', this.#source, records);
  }

  async settle(done: readonly SourceRecord[], rejected: readonly SourceRecord[]): Promise<void> {
    // A record given up (sent to OnFailure or not) is passed, as on a Lambda stream.
    const settled = [...done, ...rejected] as RedisRecord[];
    if (settled.length > 0)
      await this.#writer.xack(this.#source.stream, this.#group, ...settled.map((r) => r.id));
    for (const lane of new Set(settled.map((r) => r.lane))) this.#buffer.release(lane);
  }

  interrupt(): void {
    this.#interrupted = true;
    this.#buffer.wake();
  }

  async close(): Promise<void> {
    this.interrupt();
    this.#closing = true;
    this.#buffer.close();
    // Entries read and not acknowledged stay in the group's pending list for the next start.
    this.#reader.disconnect();
    await this.#writer.quit().catch(() => undefined);
  }

  #fail(error: Error): void {
    if (this.#closing) return;
    this.#failure ??= error;
    this.#buffer.wake();
  }

  /** An entry as a record; undefined for one that is not a stream entry (a deleted one). */
  #record([idBytes, fields]: Entry): RedisRecord | undefined {
    if (!Array.isArray(fields)) return undefined;
    const id = idBytes.toString();
    const map = new Map<string, Buffer>();
    for (let i = 0; i + 1 < fields.length; i += 2)
      map.set(fields[i]?.toString() ?? '', fields[i + 1] ?? Buffer.alloc(0));
    const value =
      map.get('value') ??
      Buffer.from(JSON.stringify(Object.fromEntries([...map].map(([k, v]) => [k, v.toString()]))));
    const key = map.get('key');
    const headers: Array<Record<string, number[]>> = [];
    for (const [name, bytes] of map)
      if (name !== 'value' && name !== 'key') headers.push({ [name]: [...bytes] });
    const timestamp = Number(id.split('-')[0]);
    const event = {
      topic: this.#source.stream,
      partition: 0,
      offset: id,
      timestamp,
      timestampType: 'LOG_APPEND_TIME',
      ...(key === undefined ? {} : { key: key.toString('base64') }),
      value: value.toString('base64'),
      headers,
    };
    return {
      id,
      partition: '0',
      arrivalMs: timestamp,
      event,
      filterView: {
        ...event,
        ...(key === undefined ? {} : { key: decodedData(key) }),
        value: decodedData(value),
      },
      lane: laneOf(key?.toString('base64') ?? '', this.#buffer.laneCount),
    };
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
