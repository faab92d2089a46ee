/** EventInvokeConfigRepository on the SQLite metadata database. */
import type { Kysely, Selectable } from 'kysely';
import type { EventInvokeConfig } from '../core/event-invoke-config.js';
import type { EventInvokeConfigRepository } from '../functions/event-invoke-config-repository.js';
import type { Database, EventInvokeConfigsTable } from './database-schema.js';

export class SqliteEventInvokeConfigRepository implements EventInvokeConfigRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async get(functionName: string, qualifier: string): Promise<EventInvokeConfig | undefined> {
    const row = await this.#db
      .selectFrom('event_invoke_configs')
      .selectAll()
      .where('function_name', '=', functionName)
      .where('qualifier', '=', qualifier)
      .executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  async put(config: EventInvokeConfig): Promise<void> {
    const changes = {
      maximum_retry_attempts: config.maximumRetryAttempts ?? null,
      maximum_event_age_seconds: config.maximumEventAgeSeconds ?? null,
      on_success: config.onSuccess ?? null,
      on_failure: config.onFailure ?? null,
      last_modified_ms: config.lastModifiedMs,
    };
    await this.#db
      .insertInto('event_invoke_configs')
      .values({ function_name: config.functionName, qualifier: config.qualifier, ...changes })
      .onConflict((oc) => oc.columns(['function_name', 'qualifier']).doUpdateSet(changes))
      .execute();
  }

  async delete(functionName: string, qualifier: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('event_invoke_configs')
      .where('function_name', '=', functionName)
      .where('qualifier', '=', qualifier)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async list(
    functionName: string,
    afterQualifier: string | undefined,
    limit: number,
  ): Promise<EventInvokeConfig[]> {
    let query = this.#db
      .selectFrom('event_invoke_configs')
      .selectAll()
      .where('function_name', '=', functionName);
    if (afterQualifier !== undefined) query = query.where('qualifier', '>', afterQualifier);
    const rows = await query.orderBy('qualifier').limit(limit).execute();
    return rows.map(fromRow);
  }
}

function fromRow(row: Selectable<EventInvokeConfigsTable>): EventInvokeConfig {
  return {
    functionName: row.function_name,
    qualifier: row.qualifier,
    maximumRetryAttempts: row.maximum_retry_attempts ?? undefined,
    maximumEventAgeSeconds: row.maximum_event_age_seconds ?? undefined,
    onSuccess: row.on_success ?? undefined,
    onFailure: row.on_failure ?? undefined,
    lastModifiedMs: row.last_modified_ms,
  };
}
