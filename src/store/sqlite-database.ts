/**
 * Opens the embedded SQLite metadata database (WAL, synchronous=FULL so a committed write is on
 * disk before the API answers) and brings its schema up to date.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  Kysely,
  Migrator,
  SqliteDialect,
  type Migration,
  type MigrationProvider,
  type SqliteDatabase as KyselySqlite,
} from 'kysely';
import type { Database } from './database-schema.js';
import * as functions0001 from './migrations/0001-functions.js';
import * as versions0002 from './migrations/0002-versions-aliases.js';
import * as provisioned0004 from './migrations/0004-provisioned-concurrency.js';
import * as asyncEvents0003 from './migrations/0003-async-events.js';
import * as functionUrls0005 from './migrations/0005-function-urls-policies.js';
import * as layers0006 from './migrations/0006-layers.js';
import * as throttles0007 from './migrations/0007-async-event-throttles.js';
import * as iam0008 from './migrations/0008-iam.js';
import * as eventSources0009 from './migrations/0009-event-sources.js';
import * as schedules0010 from './migrations/0010-schedules.js';
import * as asyncEventLimits0011 from './migrations/0011-async-event-limits.js';
import * as registryLogins0012 from './migrations/0012-registry-logins.js';
import * as asyncEventTrace0013 from './migrations/0013-async-event-trace.js';
import * as invocationRecords0014 from './migrations/0014-invocation-records.js';
import * as metrics0015 from './migrations/0015-metrics.js';

const MIGRATIONS: Record<string, Migration> = {
  '0001-functions': functions0001,
  '0002-versions-aliases': versions0002,
  '0004-provisioned-concurrency': provisioned0004,
  '0003-async-events': asyncEvents0003,
  '0005-function-urls-policies': functionUrls0005,
  '0006-layers': layers0006,
  '0007-async-event-throttles': throttles0007,
  '0008-iam': iam0008,
  '0009-event-sources': eventSources0009,
  '0010-schedules': schedules0010,
  '0011-async-event-limits': asyncEventLimits0011,
  '0012-registry-logins': registryLogins0012,
  '0013-async-event-trace': asyncEventTrace0013,
  '0014-invocation-records': invocationRecords0014,
  '0015-metrics': metrics0015,
};

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(MIGRATIONS) };

/**
 * Opens (creating if needed) the database file and migrates it to the latest schema.
 * `synchronous: 'NORMAL'` opens a connection whose commits are not synced to disk one by one (in
 * WAL mode, a crash may lose the last commits but never corrupts the file): for what the server
 * writes often and may lose the last moments of (invocation records, metrics), so that their
 * commits do not hold the event loop for an fsync every time.
 */
export async function openSqliteDatabase(
  file: string,
  synchronous: 'FULL' | 'NORMAL' = 'FULL',
): Promise<Kysely<Database>> {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SqliteDatabase(file);
  // The database holds environment variables (often secrets): owner only.
  if (file !== ':memory:') chmodSync(file, 0o600);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${synchronous}`);
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
  });
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

/** Prepared statements kept for reuse, by SQL text (least recently used dropped first). */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely prepares every query afresh; preparing costs more than running the small queries Lamina
 * makes, so statements are kept and reused (the single connection runs one query at a time).
 */
function withStatementCache(sqlite: SqliteDatabase.Database): KyselySqlite {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare: (sql) => {
      let statement = cache.get(sql);
      if (statement === undefined) {
        statement = sqlite.prepare(sql);
        if (cache.size >= STATEMENT_CACHE_SIZE) {
          const oldest = cache.keys().next().value;
          if (oldest !== undefined) cache.delete(oldest);
        }
      } else {
        cache.delete(sql);
      }
      cache.set(sql, statement);
      return statement;
    },
  };
}
