/**
 * What the ordered sources (NATS JetStream, Redis Streams) give a function and an OnFailure
 * record: the event shaped as Lambda's self-managed Kafka event (records grouped by
 * `<stream>-<partition>`), and the batch's place in its stream.
 */
import type { MappingSource } from '../core/event-source-mapping.js';
import type { SourceRecord } from '../event-sources/ports.js';

type StreamSource = Extract<MappingSource, { kind: 'nats' | 'redis' }>;

/** An ordered source's event, shaped as Lambda's self-managed Kafka event. */
export function streamEvent(
  eventSource: string,
  endpoints: readonly string[],
  records: readonly SourceRecord[],
): Record<string, unknown> {
  const grouped: Record<string, unknown[]> = {};
  for (const record of records) {
    const key = `${String(record.event['topic'])}-${record.partition}`;
    (grouped[key] ??= []).push(record.event);
  }
  return { eventSource, bootstrapServers: endpoints.join(','), records: grouped };
}

/** What an OnFailure record says of a batch of an ordered source. */
export function streamBatchInfo(
  name: string,
  source: StreamSource,
  records: readonly SourceRecord[],
): Record<string, unknown> {
  return {
    [name]: {
      stream: source.stream,
      partition: records[0]?.partition ?? '',
      firstOffset: records[0]?.id ?? '',
      lastOffset: records.at(-1)?.id ?? '',
      batchSize: records.length,
      approximateArrivalOfFirstRecord: new Date(records[0]?.arrivalMs ?? 0).toISOString(),
      approximateArrivalOfLastRecord: new Date(records.at(-1)?.arrivalMs ?? 0).toISOString(),
    },
  };
}
