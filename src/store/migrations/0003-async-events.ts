/** The asynchronous queue (`async_events`) and per-qualifier EventInvokeConfigs. */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('async_events')
    // Insertion order: the newest-first listing and its markers.
    .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('request_id', 'text', (c) => c.notNull().unique())
    // No foreign key: an event outlives a deleted function (it then fails, visibly).
    .addColumn('function_name', 'text', (c) => c.notNull())
    .addColumn('qualifier', 'text')
    .addColumn('payload', 'blob', (c) => c.notNull())
    .addColumn('client_context', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('backoffs', 'integer', (c) => c.notNull())
    .addColumn('enqueued_ms', 'integer', (c) => c.notNull())
    .addColumn('last_attempt_ms', 'integer')
    .addColumn('next_attempt_ms', 'integer')
    .addColumn('finished_ms', 'integer')
    .addColumn('condition', 'text')
    .addColumn('error_type', 'text')
    .addColumn('error_message', 'text')
    .addColumn('response', 'blob')
    .addColumn('executed_version', 'text')
    .addColumn('function_error', 'text')
    .addColumn('replay_of', 'text')
    .execute();
  // Waiting events by due time (only they have one).
  await db.schema
    .createIndex('async_events_due')
    .on('async_events')
    .columns(['next_attempt_ms'])
    .where(sql.ref('next_attempt_ms'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('async_events_function')
    .on('async_events')
    .columns(['function_name', 'seq'])
    .execute();
  await db.schema
    .createIndex('async_events_finished')
    .on('async_events')
    .columns(['finished_ms'])
    .where(sql.ref('finished_ms'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('async_events_running')
    .on('async_events')
    .columns(['status'])
    .where(sql.ref('status'), '=', 'Running')
    .execute();

  await db.schema
    .createTable('event_invoke_configs')
    .addColumn('function_name', 'text', (c) =>
      c.notNull().references('functions.name').onDelete('cascade'),
    )
    .addColumn('qualifier', 'text', (c) => c.notNull())
    .addColumn('maximum_retry_attempts', 'integer')
    .addColumn('maximum_event_age_seconds', 'integer')
    .addColumn('on_success', 'text')
    .addColumn('on_failure', 'text')
    .addColumn('last_modified_ms', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('event_invoke_configs_pk', ['function_name', 'qualifier'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('event_invoke_configs').execute();
  await db.schema.dropTable('async_events').execute();
}
