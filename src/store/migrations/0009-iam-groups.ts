/** IAM groups and their members (their policies use the inline and attachment tables of 0008). */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('iam_groups')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('record_json', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('iam_group_members')
    .addColumn('group_name', 'text', (c) => c.notNull())
    .addColumn('user_name', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('iam_group_members_pk', ['group_name', 'user_name'])
    .execute();
  await db.schema
    .createIndex('iam_group_members_user')
    .on('iam_group_members')
    .column('user_name')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('iam_group_members').execute();
  await db.schema.dropTable('iam_groups').execute();
}
