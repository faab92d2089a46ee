/** Limits an asynchronous event's sender set on its retries (a schedule's RetryPolicy), as JSON. */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('async_events').addColumn('limits_json', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('async_events').dropColumn('limits_json').execute();
}
