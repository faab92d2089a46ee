/** VersionRepository and AliasRepository on the SQLite metadata database. */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { AliasRecord, FunctionVersion } from '../core/function-model.js';
import { LATEST } from '../core/function-model.js';
import type { AliasRepository, VersionRepository } from '../functions/version-repository.js';
import type { Database } from './database-schema.js';
import { versionRow } from './sqlite-function-repository.js';

export class SqliteVersionRepository implements VersionRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async get(functionName: string, version: string): Promise<FunctionVersion | undefined> {
    if (version === LATEST) return undefined;
    const row = await this.#db
      .selectFrom('function_versions')
      .select('record_json')
      .where('function_name', '=', functionName)
      .where('version', '=', version)
      .executeTakeFirst();
    return row === undefined ? undefined : (JSON.parse(row.record_json) as FunctionVersion);
  }

  async list(
    functionName: string,
    afterVersion: number,
    limit: number,
  ): Promise<FunctionVersion[]> {
    const rows = await this.#db
      .selectFrom('function_versions')
      .select('record_json')
      .where('function_name', '=', functionName)
      .where('version', '!=', LATEST)
      .where(sql<number>`cast(version as integer)`, '>', afterVersion)
      .orderBy(sql`cast(version as integer)`)
      .limit(limit)
      .execute();
    return rows.map((row) => JSON.parse(row.record_json) as FunctionVersion);
  }

  async publish(
    functionName: string,
    decide: (
      latest: FunctionVersion,
      newest: FunctionVersion | undefined,
      next: number,
    ) => FunctionVersion | undefined,
  ): Promise<{ version: FunctionVersion; created: boolean } | undefined> {
    return this.#db.transaction().execute(async (trx) => {
      const fn = await trx
        .selectFrom('functions')
        .select('last_version')
        .where('name', '=', functionName)
        .executeTakeFirst();
      if (fn === undefined) return undefined;
      const versions = await trx
        .selectFrom('function_versions')
        .select(['version', 'record_json'])
        .where('function_name', '=', functionName)
        .execute();
      const latest = versions.find((v) => v.version === LATEST);
      if (latest === undefined) return undefined;
      const published = versions
        .filter((v) => v.version !== LATEST)
        .sort((a, b) => Number(b.version) - Number(a.version))[0];
      const newest =
        published === undefined
          ? undefined
          : (JSON.parse(published.record_json) as FunctionVersion);
      const next = fn.last_version + 1;
      const version = decide(JSON.parse(latest.record_json) as FunctionVersion, newest, next);
      if (version === undefined) {
        if (newest === undefined) return undefined;
        return { version: newest, created: false };
      }
      await trx.insertInto('function_versions').values(versionRow(functionName, version)).execute();
      await trx
        .updateTable('functions')
        .set({ last_version: next })
        .where('name', '=', functionName)
        .execute();
      return { version, created: true };
    });
  }

  async update(
    functionName: string,
    version: string,
    change: (current: FunctionVersion) => FunctionVersion,
  ): Promise<FunctionVersion | undefined> {
    if (version === LATEST) return undefined;
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('function_versions')
        .select('record_json')
        .where('function_name', '=', functionName)
        .where('version', '=', version)
        .executeTakeFirst();
      if (row === undefined) return undefined;
      const next = change(JSON.parse(row.record_json) as FunctionVersion);
      await trx
        .updateTable('function_versions')
        .set({ record_json: JSON.stringify(next) })
        .where('function_name', '=', functionName)
        .where('version', '=', version)
        .execute();
      return next;
    });
  }

  async delete(functionName: string, version: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('function_versions')
      .where('function_name', '=', functionName)
      .where('version', '=', version)
      .where('version', '!=', LATEST)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}

export class SqliteAliasRepository implements AliasRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async get(functionName: string, alias: string): Promise<AliasRecord | undefined> {
    const row = await this.#db
      .selectFrom('aliases')
      .select('record_json')
      .where('function_name', '=', functionName)
      .where('name', '=', alias)
      .executeTakeFirst();
    return row === undefined ? undefined : (JSON.parse(row.record_json) as AliasRecord);
  }

  async insert(functionName: string, alias: AliasRecord): Promise<'written' | 'exists'> {
    const result = await this.#db
      .insertInto('aliases')
      .values({ function_name: functionName, name: alias.name, record_json: JSON.stringify(alias) })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n ? 'written' : 'exists';
  }

  async update(
    functionName: string,
    alias: string,
    change: (current: AliasRecord) => AliasRecord,
  ): Promise<AliasRecord | undefined> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('aliases')
        .select('record_json')
        .where('function_name', '=', functionName)
        .where('name', '=', alias)
        .executeTakeFirst();
      if (row === undefined) return undefined;
      const next = change(JSON.parse(row.record_json) as AliasRecord);
      await trx
        .updateTable('aliases')
        .set({ record_json: JSON.stringify(next) })
        .where('function_name', '=', functionName)
        .where('name', '=', alias)
        .execute();
      return next;
    });
  }

  async delete(functionName: string, alias: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('aliases')
      .where('function_name', '=', functionName)
      .where('name', '=', alias)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async list(
    functionName: string,
    afterName: string | undefined,
    limit: number,
  ): Promise<AliasRecord[]> {
    let query = this.#db
      .selectFrom('aliases')
      .select('record_json')
      .where('function_name', '=', functionName);
    if (afterName !== undefined) query = query.where('name', '>', afterName);
    const rows = await query.orderBy('name').limit(limit).execute();
    return rows.map((row) => JSON.parse(row.record_json) as AliasRecord);
  }
}
