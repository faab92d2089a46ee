/** How many times each asynchronous event was throttled in all (its `Throttles`). */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('async_events')
    .addColumn('throttles', 'integer', (c) => c.notNull().defaultTo(sql`0`))
    .execute();
}
