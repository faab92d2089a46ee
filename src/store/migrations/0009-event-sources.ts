/**
 * Event sources: registered brokers (their connection URL sealed like IAM secrets) and event
 * source mappings (one row each, the mapping as JSON; function and source for lookups).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('brokers')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('record_json', 'text', (c) => c.notNull())
    .addColumn('url_sealed', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('event_source_mappings')
    .addColumn('uuid', 'text', (c) => c.primaryKey())
    .addColumn('function_name', 'text', (c) => c.notNull())
    .addColumn('source_arn', 'text', (c) => c.notNull())
    .addColumn('record_json', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('event_source_mappings_function')
    .on('event_source_mappings')
    .columns(['function_name', 'uuid'])
    .execute();
  await db.schema
    .createIndex('event_source_mappings_source')
    .on('event_source_mappings')
    .columns(['source_arn', 'uuid'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('event_source_mappings').execute();
  await db.schema.dropTable('brokers').execute();
}
