/**
 * EventBridge Scheduler: schedule groups, schedules (the record as JSON; the state and the due
 * time of the next fire as columns, for the runner), fires waiting to be delivered again, and the
 * client tokens of recent changes (idempotent retries).
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('schedule_groups')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('record_json', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('schedules')
    .addColumn('group_name', 'text', (c) =>
      c.notNull().references('schedule_groups.name').onDelete('cascade'),
    )
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('due_ms', 'integer')
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addColumn('record_json', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('schedules_pk', ['group_name', 'name'])
    .execute();
  // The runner's question: the earliest due schedules (only enabled ones with a next fire have one).
  await db.schema
    .createIndex('schedules_due')
    .on('schedules')
    .columns(['due_ms'])
    .where(sql.ref('due_ms'), 'is not', null)
    .execute();
  await db.schema
    .createTable('schedule_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('group_name', 'text', (c) => c.notNull())
    .addColumn('schedule_name', 'text', (c) => c.notNull())
    .addColumn('next_try_ms', 'integer', (c) => c.notNull())
    .addColumn('record_json', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('schedule_deliveries_due')
    .on('schedule_deliveries')
    .columns(['next_try_ms'])
    .execute();
  await db.schema
    .createIndex('schedule_deliveries_schedule')
    .on('schedule_deliveries')
    .columns(['group_name', 'schedule_name'])
    .execute();
  await db.schema
    .createTable('scheduler_client_tokens')
    .addColumn('operation', 'text', (c) => c.notNull())
    .addColumn('token', 'text', (c) => c.notNull())
    .addColumn('resource', 'text', (c) => c.notNull())
    .addColumn('used_ms', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('scheduler_client_tokens_pk', ['operation', 'token'])
    .execute();
  await db.schema
    .createIndex('scheduler_client_tokens_used')
    .on('scheduler_client_tokens')
    .columns(['used_ms'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('scheduler_client_tokens').execute();
  await db.schema.dropTable('schedule_deliveries').execute();
  await db.schema.dropTable('schedules').execute();
  await db.schema.dropTable('schedule_groups').execute();
}
