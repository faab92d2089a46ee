/** Event source mappings and registered brokers on the SQLite metadata database. */
import { sql, type Kysely } from 'kysely';
import type { EventSourceMapping, MappingSource } from '../core/event-source-mapping.js';
import type { Broker, BrokerRepository, MappingRepository } from '../event-sources/ports.js';
import type { Database } from './database-schema.js';
import type { SecretBox } from './secret-box.js';

/** What ListEventSourceMappings' EventSourceArn filter compares with. */
export function sourceArnOf(source: MappingSource): string {
  return source.kind === 'rabbitmq' ? source.brokerArn : source.endpoints.join(',');
}

export class SqliteMappingRepository implements MappingRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async get(uuid: string): Promise<EventSourceMapping | undefined> {
    const row = await this.#db
      .selectFrom('event_source_mappings')
      .select('record_json')
      .where('uuid', '=', uuid)
      .executeTakeFirst();
    return row === undefined ? undefined : (JSON.parse(row.record_json) as EventSourceMapping);
  }

  async put(mapping: EventSourceMapping): Promise<void> {
    const row = {
      function_name: mapping.functionName,
      source_arn: sourceArnOf(mapping.source),
      record_json: JSON.stringify(mapping),
    };
    await this.#db
      .insertInto('event_source_mappings')
      .values({ uuid: mapping.uuid, ...row })
      .onConflict((oc) => oc.column('uuid').doUpdateSet(row))
      .execute();
  }

  async delete(uuid: string): Promise<void> {
    await this.#db.deleteFrom('event_source_mappings').where('uuid', '=', uuid).execute();
  }

  async list(filter: {
    readonly functionName?: string | undefined;
    readonly sourceArn?: string | undefined;
    readonly afterUuid?: string | undefined;
    readonly limit: number;
  }): Promise<EventSourceMapping[]> {
    let query = this.#db.selectFrom('event_source_mappings').select('record_json');
    if (filter.functionName !== undefined)
      query = query.where('function_name', '=', filter.functionName);
    if (filter.sourceArn !== undefined) query = query.where('source_arn', '=', filter.sourceArn);
    if (filter.afterUuid !== undefined) query = query.where('uuid', '>', filter.afterUuid);
    const rows = await query.orderBy('uuid').limit(filter.limit).execute();
    return rows.map((row) => JSON.parse(row.record_json) as EventSourceMapping);
  }

  async all(): Promise<EventSourceMapping[]> {
    const rows = await this.#db
      .selectFrom('event_source_mappings')
      .select('record_json')
      .orderBy('uuid')
      .execute();
    return rows.map((row) => JSON.parse(row.record_json) as EventSourceMapping);
  }

  async patchStatus(
    uuid: string,
    fields: Partial<
      Pick<EventSourceMapping, 'state' | 'stateTransitionReason' | 'lastProcessingResult'>
    >,
  ): Promise<void> {
    let record = sql<string>`record_json`;
    for (const [key, value] of Object.entries(fields))
      if (value !== undefined) record = sql<string>`json_set(${record}, ${`$.${key}`}, ${value})`;
    await this.#db
      .updateTable('event_source_mappings')
      .set({ record_json: record })
      .where('uuid', '=', uuid)
      .where(sql<string>`json_extract(record_json, '$.state')`, '!=', 'Deleting')
      .execute();
  }
}

export class SqliteBrokerRepository implements BrokerRepository {
  readonly #db: Kysely<Database>;
  readonly #box: SecretBox;

  constructor(db: Kysely<Database>, box: SecretBox) {
    this.#db = db;
    this.#box = box;
  }

  async get(name: string): Promise<{ broker: Broker; url: string } | undefined> {
    const row = await this.#db
      .selectFrom('brokers')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    return { broker: JSON.parse(row.record_json) as Broker, url: this.#box.open(row.url_sealed) };
  }

  async insert(broker: Broker, url: string): Promise<boolean> {
    const result = await this.#db
      .insertInto('brokers')
      .values({
        name: broker.name,
        record_json: JSON.stringify(broker),
        url_sealed: this.#box.seal(url),
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  async delete(name: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('brokers').where('name', '=', name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async list(): Promise<Broker[]> {
    const rows = await this.#db
      .selectFrom('brokers')
      .select('record_json')
      .orderBy('name')
      .execute();
    return rows.map((row) => JSON.parse(row.record_json) as Broker);
  }
}
