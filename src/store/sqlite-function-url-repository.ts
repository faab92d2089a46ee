/** FunctionUrlRepository on the SQLite metadata database (deleted with the function by cascade). */
import type { Kysely, Selectable } from 'kysely';
import type {
  FunctionUrlConfig,
  UrlAuthType,
  UrlCors,
  UrlInvokeMode,
} from '../core/function-url.js';
import type { FunctionUrlRepository } from '../functions/function-url-repository.js';
import type { Database, FunctionUrlsTable } from './database-schema.js';

export class SqliteFunctionUrlRepository implements FunctionUrlRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async get(
    functionName: string,
    qualifier: string | undefined,
  ): Promise<FunctionUrlConfig | undefined> {
    const row = await this.#db
      .selectFrom('function_urls')
      .selectAll()
      .where('function_name', '=', functionName)
      .where('qualifier', '=', qualifier ?? '')
      .executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  async byUrlId(urlId: string): Promise<FunctionUrlConfig | undefined> {
    const row = await this.#db
      .selectFrom('function_urls')
      .selectAll()
      .where('url_id', '=', urlId)
      .executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  async insert(config: FunctionUrlConfig): Promise<boolean> {
    const result = await this.#db
      .insertInto('function_urls')
      .values({
        function_name: config.functionName,
        qualifier: config.qualifier ?? '',
        url_id: config.urlId,
        ...changes(config),
        creation_ms: config.creationMs,
      })
      .onConflict((oc) => oc.columns(['function_name', 'qualifier']).doNothing())
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  async update(config: FunctionUrlConfig): Promise<void> {
    await this.#db
      .updateTable('function_urls')
      .set(changes(config))
      .where('function_name', '=', config.functionName)
      .where('qualifier', '=', config.qualifier ?? '')
      .execute();
  }

  async delete(functionName: string, qualifier: string | undefined): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('function_urls')
      .where('function_name', '=', functionName)
      .where('qualifier', '=', qualifier ?? '')
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async list(
    functionName: string,
    afterQualifier: string | undefined,
    limit: number,
  ): Promise<FunctionUrlConfig[]> {
    let query = this.#db
      .selectFrom('function_urls')
      .selectAll()
      .where('function_name', '=', functionName);
    if (afterQualifier !== undefined) query = query.where('qualifier', '>', afterQualifier);
    const rows = await query.orderBy('qualifier').limit(limit).execute();
    return rows.map(fromRow);
  }
}

function changes(config: FunctionUrlConfig) {
  return {
    auth_type: config.authType,
    invoke_mode: config.invokeMode ?? null,
    cors_json: config.cors === undefined ? null : JSON.stringify(config.cors),
    last_modified_ms: config.lastModifiedMs,
  };
}

function fromRow(row: Selectable<FunctionUrlsTable>): FunctionUrlConfig {
  return {
    functionName: row.function_name,
    qualifier: row.qualifier === '' ? undefined : row.qualifier,
    urlId: row.url_id,
    authType: row.auth_type as UrlAuthType,
    invokeMode: (row.invoke_mode ?? undefined) as UrlInvokeMode | undefined,
    cors: row.cors_json === null ? undefined : (JSON.parse(row.cors_json) as UrlCors),
    creationMs: row.creation_ms,
    lastModifiedMs: row.last_modified_ms,
  };
}
