/** FunctionRepository on the SQLite metadata database (Kysely; PostgreSQL-ready queries). */
import { sql, type Kysely, type Transaction } from 'kysely';
import type { FunctionRecord, FunctionVersion } from '../core/function-model.js';
import { LATEST } from '../core/function-model.js';
import { awaitsPreparation } from '../core/function-lifecycle.js';
import type { FunctionRepository, WriteOutcome } from '../functions/function-repository.js';
import type { Database, FunctionsTable, FunctionVersionsTable } from './database-schema.js';

type Row = Omit<FunctionsTable, 'last_version'> & Pick<FunctionVersionsTable, 'record_json'>;

export class SqliteFunctionRepository implements FunctionRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async get(name: string): Promise<FunctionRecord | undefined> {
    return this.#get(this.#db, name);
  }

  async insert(record: FunctionRecord): Promise<WriteOutcome> {
    return this.#db.transaction().execute(async (trx) => {
      const taken = await trx
        .selectFrom('functions')
        .select('name')
        .where('name', '=', record.name)
        .executeTakeFirst();
      if (taken !== undefined) return 'exists';
      await trx
        .insertInto('functions')
        .values({
          name: record.name,
          created_ms: record.createdMs,
          tags_json: JSON.stringify(record.tags),
          reserved_concurrency: record.reservedConcurrency ?? null,
        })
        .execute();
      await trx
        .insertInto('function_versions')
        .values(versionRow(record.name, record.latest))
        .execute();
      return 'written';
    });
  }

  async update(
    name: string,
    change: (current: FunctionRecord) => FunctionRecord,
  ): Promise<FunctionRecord | undefined> {
    return this.#db.transaction().execute(async (trx) => {
      const current = await this.#get(trx, name);
      if (current === undefined) return undefined;
      const next = change(current);
      if (next === current) return current;
      await trx
        .updateTable('functions')
        .set({
          tags_json: JSON.stringify(next.tags),
          reserved_concurrency: next.reservedConcurrency ?? null,
        })
        .where('name', '=', name)
        .execute();
      const { version, ...row } = versionRow(name, next.latest);
      await trx
        .updateTable('function_versions')
        .set(row)
        .where('function_name', '=', name)
        .where('version', '=', version)
        .execute();
      return next;
    });
  }

  async delete(name: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('functions')
      .where('name', '=', name)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async list(afterName: string | undefined, limit: number): Promise<FunctionRecord[]> {
    let query = this.#selectRecords(this.#db);
    if (afterName !== undefined) query = query.where('f.name', '>', afterName);
    const rows = await query.orderBy('f.name').limit(limit).execute();
    return rows.map(toRecord);
  }

  async listAwaitingPreparation(): Promise<FunctionRecord[]> {
    const rows = await this.#selectRecords(this.#db)
      .where('v.awaiting_preparation', '=', 1)
      .orderBy('f.name')
      .execute();
    return rows.map(toRecord);
  }

  async isCodeReferenced(sha256Hex: string): Promise<boolean> {
    const row = await this.#db
      .selectFrom('function_versions')
      .select('function_name')
      .where((eb) =>
        eb.or([eb('code_sha256', '=', sha256Hex), eb('ready_code_sha256', '=', sha256Hex)]),
      )
      .limit(1)
      .executeTakeFirst();
    if (row !== undefined) return true;
    // Layer code: a published layer version, or a function version that uses it (it keeps doing
    // so after the layer version is deleted).
    const layer = await this.#db
      .selectFrom('layer_versions')
      .select('layer_name')
      .where('code_sha256', '=', sha256Hex)
      .limit(1)
      .executeTakeFirst();
    if (layer !== undefined) return true;
    const user = await sql<{ n: number }>`
      SELECT 1 AS n FROM function_versions, json_each(function_versions.record_json, '$.settings.layers') AS l
      WHERE json_extract(l.value, '$.code.sha256Hex') = ${sha256Hex} LIMIT 1`.execute(this.#db);
    return user.rows.length > 0;
  }

  async usage(): Promise<{ functionCount: number; totalCodeBytes: number }> {
    const functions = await this.#db
      .selectFrom('functions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const code = await this.#db
      .selectFrom('function_versions')
      .select((eb) => eb.fn.sum<number>('code_size').as('bytes'))
      .executeTakeFirstOrThrow();
    return { functionCount: Number(functions.n), totalCodeBytes: Number(code.bytes ?? 0) };
  }

  #selectRecords(db: Kysely<Database> | Transaction<Database>) {
    return db
      .selectFrom('functions as f')
      .innerJoin('function_versions as v', (join) =>
        join.onRef('v.function_name', '=', 'f.name').on('v.version', '=', LATEST),
      )
      .select(['f.name', 'f.created_ms', 'f.tags_json', 'f.reserved_concurrency', 'v.record_json']);
  }

  async #get(
    db: Kysely<Database> | Transaction<Database>,
    name: string,
  ): Promise<FunctionRecord | undefined> {
    const row = await this.#selectRecords(db).where('f.name', '=', name).executeTakeFirst();
    return row === undefined ? undefined : toRecord(row);
  }
}

/** The `function_versions` row of a version. */
export function versionRow(name: string, version: FunctionVersion): FunctionVersionsTable {
  return {
    function_name: name,
    version: version.version,
    record_json: JSON.stringify(version),
    code_sha256: version.code.sha256Hex,
    ready_code_sha256: version.readyCode?.sha256Hex ?? null,
    code_size: version.code.sizeBytes,
    awaiting_preparation: awaitsPreparation(version.status) ? 1 : 0,
  };
}

function toRecord(row: Row): FunctionRecord {
  return {
    name: row.name,
    createdMs: row.created_ms,
    tags: JSON.parse(row.tags_json) as Record<string, string>,
    reservedConcurrency: row.reserved_concurrency ?? undefined,
    latest: JSON.parse(row.record_json) as FunctionVersion,
  };
}
