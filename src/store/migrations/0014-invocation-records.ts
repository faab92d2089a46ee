/**
 * Invocation records (one row per invocation, kept for `--invocation-record-retention`) and
 * hourly usage per function version (requests, billed time and memory-time in exact integers).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('invocation_records')
    .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('function_name', 'text', (c) => c.notNull())
    .addColumn('executed_version', 'text', (c) => c.notNull())
    .addColumn('qualifier', 'text')
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('received_ms', 'integer', (c) => c.notNull())
    .addColumn('start_ms', 'integer', (c) => c.notNull())
    .addColumn('end_ms', 'integer', (c) => c.notNull())
    .addColumn('cold', 'integer', (c) => c.notNull())
    .addColumn('init_duration_ms', 'real')
    .addColumn('duration_ms', 'real', (c) => c.notNull())
    .addColumn('billed_duration_ms', 'integer', (c) => c.notNull())
    .addColumn('memory_size_mib', 'integer', (c) => c.notNull())
    .addColumn('max_memory_used_mib', 'integer', (c) => c.notNull())
    .addColumn('architecture', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('error_type', 'text')
    .addColumn('trace_header', 'text', (c) => c.notNull())
    .addColumn('provisioned', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('invocation_records_by_function')
    .on('invocation_records')
    .columns(['function_name', 'seq'])
    .execute();
  // Filters by outcome or trigger (with or without a function) read an index, not every record.
  for (const columns of [
    ['outcome', 'seq'],
    ['trigger', 'seq'],
    ['function_name', 'outcome', 'seq'],
    ['function_name', 'trigger', 'seq'],
  ]) {
    await db.schema
      .createIndex(`invocation_records_by_${columns.slice(0, -1).join('_')}`)
      .on('invocation_records')
      .columns(columns)
      .execute();
  }
  await db.schema
    .createIndex('invocation_records_by_start')
    .on('invocation_records')
    .column('start_ms')
    .execute();
  await db.schema
    .createIndex('invocation_records_by_request')
    .on('invocation_records')
    .column('request_id')
    .execute();
  await db.schema
    .createTable('usage_hours')
    .addColumn('function_name', 'text', (c) => c.notNull())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('architecture', 'text', (c) => c.notNull())
    .addColumn('hour_ms', 'integer', (c) => c.notNull())
    .addColumn('requests', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('billed_ms', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('mib_ms', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('provisioned_duration_mib_ms', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('provisioned_mib_ms', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('usage_hours_key', [
      'function_name',
      'version',
      'architecture',
      'hour_ms',
    ])
    .execute();
  await sql`CREATE INDEX usage_hours_by_hour ON usage_hours (hour_ms)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('usage_hours').execute();
  await db.schema.dropTable('invocation_records').execute();
}
