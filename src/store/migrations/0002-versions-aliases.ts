/** Published versions' counter and aliases. */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('functions')
    .addColumn('last_version', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createTable('aliases')
    .addColumn('function_name', 'text', (c) =>
      c.notNull().references('functions.name').onDelete('cascade'),
    )
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('record_json', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('aliases_pk', ['function_name', 'name'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('aliases').execute();
  await db.schema.alterTable('functions').dropColumn('last_version').execute();
}
