/** ProvisionedConcurrencyRepository on SQLite (rows go with their function: ON DELETE CASCADE). */
import type { Kysely, Selectable } from 'kysely';
import type {
  ProvisionedConcurrencyConfig,
  ProvisionedConcurrencyRepository,
} from '../functions/provisioned-concurrency-repository.js';
import type { Database, ProvisionedConcurrencyTable } from './database-schema.js';

export class SqliteProvisionedConcurrencyRepository implements ProvisionedConcurrencyRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async get(
    functionName: string,
    qualifier: string,
  ): Promise<ProvisionedConcurrencyConfig | undefined> {
    const row = await this.#db
      .selectFrom('provisioned_concurrency')
      .selectAll()
      .where('function_name', '=', functionName)
      .where('qualifier', '=', qualifier)
      .executeTakeFirst();
    return row === undefined ? undefined : config(row);
  }

  async put(value: ProvisionedConcurrencyConfig): Promise<void> {
    const row = {
      function_name: value.functionName,
      qualifier: value.qualifier,
      requested: value.requested,
      last_modified_ms: value.lastModifiedMs,
    };
    await this.#db
      .insertInto('provisioned_concurrency')
      .values(row)
      .onConflict((c) =>
        c.columns(['function_name', 'qualifier']).doUpdateSet({
          requested: row.requested,
          last_modified_ms: row.last_modified_ms,
        }),
      )
      .execute();
  }

  async delete(functionName: string, qualifier: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('provisioned_concurrency')
      .where('function_name', '=', functionName)
      .where('qualifier', '=', qualifier)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async list(
    functionName: string,
    after: string | undefined,
    limit: number,
  ): Promise<ProvisionedConcurrencyConfig[]> {
    let query = this.#db
      .selectFrom('provisioned_concurrency')
      .selectAll()
      .where('function_name', '=', functionName);
    if (after !== undefined) query = query.where('qualifier', '>', after);
    const rows = await query.orderBy('qualifier').limit(limit).execute();
    return rows.map(config);
  }

  async all(): Promise<ProvisionedConcurrencyConfig[]> {
    const rows = await this.#db.selectFrom('provisioned_concurrency').selectAll().execute();
    return rows.map(config);
  }
}

function config(row: Selectable<ProvisionedConcurrencyTable>): ProvisionedConcurrencyConfig {
  return {
    functionName: row.function_name,
    qualifier: row.qualifier,
    requested: row.requested,
    lastModifiedMs: row.last_modified_ms,
  };
}
