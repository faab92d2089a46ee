/**
 * Opens the embedded SQLite metadata database (WAL, synchronous=FULL so a committed write is on
 * disk before the API answers) and brings its schema up to date.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Migration, type MigrationProvider } from 'kysely';
import type { Database } from './database-schema.js';
import * as functions0001 from './migrations/0001-functions.js';
import * as versions0002 from './migrations/0002-versions-aliases.js';
import * as provisioned0004 from './migrations/0004-provisioned-concurrency.js';
import * as asyncEvents0003 from './migrations/0003-async-events.js';

const MIGRATIONS: Record<string, Migration> = {
  '0001-functions': functions0001,
  '0002-versions-aliases': versions0002,
  '0004-provisioned-concurrency': provisioned0004,
  '0003-async-events': asyncEvents0003,
};

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(MIGRATIONS) };

/** Opens (creating if needed) the database file and migrates it to the latest schema. */
export async function openSqliteDatabase(file: string): Promise<Kysely<Database>> {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SqliteDatabase(file);
  // The database holds environment variables (often secrets): owner only.
  if (file !== ':memory:') chmodSync(file, 0o600);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const { error, results } = await new Migrator({
    db,
    provider,
    // Features land on separate branches: a migration numbered below one already run still runs.
    allowUnorderedMigrations: true,
  }).migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error !== undefined || failed !== undefined) {
    await db.destroy();
    const reason =
      error instanceof Error ? error.message : `migration ${failed?.migrationName ?? '?'} failed`;
    throw new Error(`Could not migrate the metadata database ${file}: ${reason}`);
  }
  return db;
}
