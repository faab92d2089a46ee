/** Container registry logins: one per registry host, the password sealed like IAM secrets. */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('registry_logins')
    .addColumn('host', 'text', (c) => c.primaryKey())
    .addColumn('record_json', 'text', (c) => c.notNull())
    .addColumn('password_sealed', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('registry_logins').execute();
}
