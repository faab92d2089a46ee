/** Provisioned concurrency configurations, one per version or alias. */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('provisioned_concurrency')
    .addColumn('function_name', 'text', (c) =>
      c.notNull().references('functions.name').onDelete('cascade'),
    )
    .addColumn('qualifier', 'text', (c) => c.notNull())
    .addColumn('requested', 'integer', (c) => c.notNull())
    .addColumn('last_modified_ms', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('provisioned_concurrency_pk', ['function_name', 'qualifier'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('provisioned_concurrency').execute();
}
