/** Layers: the highest version number each layer reached, and the published layer versions. */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('layers')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('last_version', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('layer_versions')
    .addColumn('layer_name', 'text', (c) => c.notNull().references('layers.name'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('record_json', 'text', (c) => c.notNull())
    .addColumn('code_sha256', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('layer_versions_pk', ['layer_name', 'version'])
    .execute();
  await db.schema
    .createIndex('layer_versions_code')
    .on('layer_versions')
    .column('code_sha256')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('layer_versions').execute();
  await db.schema.dropTable('layers').execute();
}
