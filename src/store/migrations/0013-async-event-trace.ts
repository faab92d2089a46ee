/**
 * An asynchronous event's trace (the X-Ray header its attempts and destination continue) and what
 * sent it (`schedule`; null is an Event invoke or a destination). Both nullable: events stored
 * before them run in a new trace, as `async`.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('async_events').addColumn('trace_header', 'text').execute();
  await db.schema.alterTable('async_events').addColumn('trigger', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('async_events').dropColumn('trigger').execute();
  await db.schema.alterTable('async_events').dropColumn('trace_header').execute();
}
