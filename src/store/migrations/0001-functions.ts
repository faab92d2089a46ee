/** Functions and their versions (only `$LATEST` rows until versions are published). */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('functions')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('created_ms', 'integer', (c) => c.notNull())
    .addColumn('tags_json', 'text', (c) => c.notNull())
    .addColumn('reserved_concurrency', 'integer')
    .execute();
  await db.schema
    .createTable('function_versions')
    .addColumn('function_name', 'text', (c) =>
      c.notNull().references('functions.name').onDelete('cascade'),
    )
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('record_json', 'text', (c) => c.notNull())
    .addColumn('code_sha256', 'text', (c) => c.notNull())
    .addColumn('ready_code_sha256', 'text')
    .addColumn('code_size', 'integer', (c) => c.notNull())
    .addColumn('awaiting_preparation', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('function_versions_pk', ['function_name', 'version'])
    .execute();
  await db.schema
    .createIndex('function_versions_code')
    .on('function_versions')
    .column('code_sha256')
    .execute();
  await db.schema
    .createIndex('function_versions_ready_code')
    .on('function_versions')
    .column('ready_code_sha256')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('function_versions').execute();
  await db.schema.dropTable('functions').execute();
}
