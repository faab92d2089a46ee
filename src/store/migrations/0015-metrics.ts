/**
 * CloudWatch metrics at one-minute resolution: the series seen (metric and dimensions, with the
 * last minute each had data, for ListMetrics) and one row per series, minute and write of the
 * server's memory (rows of one minute are merged when read). Rows are clustered by series and
 * minute, the order every read and the retention prune walk them in.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('metric_series')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('series_key', 'text', (c) => c.notNull().unique())
    .addColumn('namespace', 'text', (c) => c.notNull())
    .addColumn('metric_name', 'text', (c) => c.notNull())
    .addColumn('dimensions_json', 'text', (c) => c.notNull())
    .addColumn('last_minute_ms', 'integer', (c) => c.notNull())
    .execute();
  await sql`
    CREATE TABLE metric_minutes (
      series_id INTEGER NOT NULL,
      minute_ms INTEGER NOT NULL,
      batch INTEGER NOT NULL,
      sample_count REAL NOT NULL,
      sum REAL NOT NULL,
      minimum REAL NOT NULL,
      maximum REAL NOT NULL,
      histogram BLOB NOT NULL,
      PRIMARY KEY (series_id, minute_ms, batch)
    ) WITHOUT ROWID`.execute(db);
  await sql`CREATE INDEX metric_minutes_by_minute ON metric_minutes (minute_ms)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('metric_minutes').execute();
  await db.schema.dropTable('metric_series').execute();
}
