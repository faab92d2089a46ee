/**
 * IAM: users, their access keys (secrets sealed), groups and their members, roles, managed and
 * inline policies, attachments.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of ['iam_users', 'iam_groups', 'iam_roles']) {
    await db.schema
      .createTable(table)
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('record_json', 'text', (c) => c.notNull())
      .execute();
  }
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
  await db.schema
    .createTable('iam_access_keys')
    .addColumn('access_key_id', 'text', (c) => c.primaryKey())
    .addColumn('user_name', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('create_date_ms', 'integer', (c) => c.notNull())
    .addColumn('secret_sealed', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('iam_access_keys_user')
    .on('iam_access_keys')
    .column('user_name')
    .execute();
  await db.schema
    .createTable('iam_policies')
    .addColumn('arn', 'text', (c) => c.primaryKey())
    .addColumn('record_json', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('iam_policy_versions')
    .addColumn('arn', 'text', (c) => c.notNull())
    .addColumn('version_id', 'text', (c) => c.notNull())
    .addColumn('record_json', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('iam_policy_versions_pk', ['arn', 'version_id'])
    .execute();
  await db.schema
    .createTable('iam_inline_policies')
    .addColumn('holder_kind', 'text', (c) => c.notNull())
    .addColumn('holder_name', 'text', (c) => c.notNull())
    .addColumn('policy_name', 'text', (c) => c.notNull())
    .addColumn('document', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('iam_inline_policies_pk', [
      'holder_kind',
      'holder_name',
      'policy_name',
    ])
    .execute();
  await db.schema
    .createTable('iam_attachments')
    .addColumn('holder_kind', 'text', (c) => c.notNull())
    .addColumn('holder_name', 'text', (c) => c.notNull())
    .addColumn('policy_arn', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('iam_attachments_pk', ['holder_kind', 'holder_name', 'policy_arn'])
    .execute();
  await db.schema
    .createIndex('iam_attachments_policy')
    .on('iam_attachments')
    .column('policy_arn')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'iam_attachments',
    'iam_inline_policies',
    'iam_policy_versions',
    'iam_policies',
    'iam_access_keys',
    'iam_group_members',
    'iam_roles',
    'iam_groups',
    'iam_users',
  ])
    await db.schema.dropTable(table).execute();
}
