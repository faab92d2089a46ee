/**
 * Function URL configurations (one per function or alias, found by url id) and resource-based
 * policies (one per function, version or alias). The unqualified function's row has qualifier ''.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('function_urls')
    .addColumn('function_name', 'text', (c) =>
      c.notNull().references('functions.name').onDelete('cascade'),
    )
    .addColumn('qualifier', 'text', (c) => c.notNull())
    .addColumn('url_id', 'text', (c) => c.notNull().unique())
    .addColumn('auth_type', 'text', (c) => c.notNull())
    .addColumn('invoke_mode', 'text')
    .addColumn('cors_json', 'text')
    .addColumn('creation_ms', 'integer', (c) => c.notNull())
    .addColumn('last_modified_ms', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('function_urls_pk', ['function_name', 'qualifier'])
    .execute();
  await db.schema
    .createTable('resource_policies')
    .addColumn('function_name', 'text', (c) =>
      c.notNull().references('functions.name').onDelete('cascade'),
    )
    .addColumn('qualifier', 'text', (c) => c.notNull())
    .addColumn('statements_json', 'text', (c) => c.notNull())
    .addColumn('revision_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('resource_policies_pk', ['function_name', 'qualifier'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('resource_policies').execute();
  await db.schema.dropTable('function_urls').execute();
}
