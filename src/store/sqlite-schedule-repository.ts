/**
 * Schedule groups, schedules, pending deliveries and Scheduler's client tokens on the SQLite
 * metadata database. A change and the token it came with are one commit; a group's deletion
 * takes its schedules (foreign key) and their pending deliveries with it.
 */
import { sql, type Kysely, type SqlBool, type Transaction } from 'kysely';
import type { FireTiming, Schedule, ScheduleGroup } from '../core/schedule.js';
import type { PendingDelivery } from '../schedules/delivery-policy.js';
import type {
  ScheduleKey,
  ScheduleRepository,
  TokenOperation,
  TokenUse,
} from '../schedules/ports.js';
import type { Database } from './database-schema.js';

/** How long a client token is remembered (a retry comes within minutes; AWS does not say). */
export const TOKEN_RETENTION_MS = 24 * 3_600_000;

type Db = Kysely<Database> | Transaction<Database>;

export class SqliteScheduleRepository implements ScheduleRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  // ---- groups ----

  async getGroup(name: string): Promise<ScheduleGroup | undefined> {
    const row = await this.#db
      .selectFrom('schedule_groups')
      .select('record_json')
      .where('name', '=', name)
      .executeTakeFirst();
    return row === undefined ? undefined : (JSON.parse(row.record_json) as ScheduleGroup);
  }

  insertGroup(group: ScheduleGroup, token: TokenUse | undefined): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      const result = await trx
        .insertInto('schedule_groups')
        .values({ name: group.name, record_json: JSON.stringify(group) })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();
      const inserted = (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
      if (inserted) await remember(trx, token);
      return inserted;
    });
  }

  deleteGroup(name: string, token: TokenUse | undefined): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      await trx.deleteFrom('schedule_deliveries').where('group_name', '=', name).execute();
      // Its schedules go with it (ON DELETE CASCADE).
      const result = await trx
        .deleteFrom('schedule_groups')
        .where('name', '=', name)
        .executeTakeFirst();
      const deleted = result.numDeletedRows > 0n;
      if (deleted) await remember(trx, token);
      return deleted;
    });
  }

  async listGroups(filter: {
    readonly prefix?: string | undefined;
    readonly afterName?: string | undefined;
    readonly limit: number;
  }): Promise<ScheduleGroup[]> {
    let query = this.#db.selectFrom('schedule_groups').select('record_json');
    if (filter.prefix !== undefined) query = query.where(startsWith(filter.prefix));
    if (filter.afterName !== undefined) query = query.where('name', '>', filter.afterName);
    const rows = await query.orderBy('name').limit(filter.limit).execute();
    return rows.map((row) => JSON.parse(row.record_json) as ScheduleGroup);
  }

  async countGroups(): Promise<number> {
    const row = await this.#db
      .selectFrom('schedule_groups')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async setGroupTags(
    name: string,
    tags: Readonly<Record<string, string>>,
    nowMs: number,
  ): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('schedule_groups')
        .select('record_json')
        .where('name', '=', name)
        .executeTakeFirst();
      if (row === undefined) return;
      const group = JSON.parse(row.record_json) as ScheduleGroup;
      const changed: ScheduleGroup = { ...group, tags, lastModificationMs: nowMs };
      await trx
        .updateTable('schedule_groups')
        .set({ record_json: JSON.stringify(changed) })
        .where('name', '=', name)
        .execute();
    });
  }

  // ---- schedules ----

  async get(groupName: string, name: string): Promise<Schedule | undefined> {
    const row = await this.#db
      .selectFrom('schedules')
      .select('record_json')
      .where('group_name', '=', groupName)
      .where('name', '=', name)
      .executeTakeFirst();
    return row === undefined ? undefined : (JSON.parse(row.record_json) as Schedule);
  }

  insert(schedule: Schedule, token: TokenUse | undefined): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      const group = await trx
        .selectFrom('schedule_groups')
        .select('name')
        .where('name', '=', schedule.groupName)
        .executeTakeFirst();
      if (group === undefined) return false;
      const result = await trx
        .insertInto('schedules')
        .values(rowOf(schedule))
        .onConflict((oc) => oc.columns(['group_name', 'name']).doNothing())
        .executeTakeFirst();
      const inserted = (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
      if (inserted) await remember(trx, token);
      return inserted;
    });
  }

  replace(schedule: Schedule, token: TokenUse | undefined): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      const { state, due_ms, revision, record_json } = rowOf(schedule);
      const result = await trx
        .updateTable('schedules')
        .set({ state, due_ms, revision, record_json })
        .where('group_name', '=', schedule.groupName)
        .where('name', '=', schedule.name)
        .executeTakeFirst();
      const replaced = result.numUpdatedRows > 0n;
      if (replaced) await remember(trx, token);
      return replaced;
    });
  }

  delete(groupName: string, name: string, token: TokenUse | undefined): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      const result = await trx
        .deleteFrom('schedules')
        .where('group_name', '=', groupName)
        .where('name', '=', name)
        .executeTakeFirst();
      const deleted = result.numDeletedRows > 0n;
      if (deleted) {
        await trx
          .deleteFrom('schedule_deliveries')
          .where('group_name', '=', groupName)
          .where('schedule_name', '=', name)
          .execute();
        await remember(trx, token);
      }
      return deleted;
    });
  }

  async list(filter: {
    readonly groupName?: string | undefined;
    readonly prefix?: string | undefined;
    readonly state?: string | undefined;
    readonly after?: ScheduleKey | undefined;
    readonly limit: number;
  }): Promise<Schedule[]> {
    let query = this.#db.selectFrom('schedules').select('record_json');
    if (filter.groupName !== undefined) query = query.where('group_name', '=', filter.groupName);
    if (filter.prefix !== undefined) query = query.where(startsWith(filter.prefix));
    if (filter.state !== undefined) query = query.where('state', '=', filter.state);
    const after = filter.after;
    if (after !== undefined)
      query = query.where((eb) =>
        eb.or([
          eb('group_name', '>', after.groupName),
          eb.and([eb('group_name', '=', after.groupName), eb('name', '>', after.name)]),
        ]),
      );
    const rows = await query.orderBy('group_name').orderBy('name').limit(filter.limit).execute();
    return rows.map((row) => JSON.parse(row.record_json) as Schedule);
  }

  async count(): Promise<number> {
    const row = await this.#db
      .selectFrom('schedules')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async tokenResource(operation: TokenOperation, token: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('scheduler_client_tokens')
      .select('resource')
      .where('operation', '=', operation)
      .where('token', '=', token)
      .executeTakeFirst();
    return row?.resource;
  }

  // ---- the runner ----

  async due(nowMs: number, limit: number): Promise<Schedule[]> {
    const rows = await this.#db
      .selectFrom('schedules')
      .select('record_json')
      .where('due_ms', 'is not', null)
      .where('due_ms', '<=', nowMs)
      .where('state', '=', 'ENABLED')
      .orderBy('due_ms')
      .limit(limit)
      .execute();
    return rows.map((row) => JSON.parse(row.record_json) as Schedule);
  }

  async nextDueMs(): Promise<number | undefined> {
    const schedule = await this.#db
      .selectFrom('schedules')
      .select((eb) => eb.fn.min<number | null>('due_ms').as('due'))
      .where('due_ms', 'is not', null)
      .where('state', '=', 'ENABLED')
      .executeTakeFirst();
    const delivery = await this.#db
      .selectFrom('schedule_deliveries')
      .select((eb) => eb.fn.min<number | null>('next_try_ms').as('due'))
      .executeTakeFirst();
    const times = [schedule?.due, delivery?.due].filter(
      (due): due is number => typeof due === 'number',
    );
    return times.length === 0 ? undefined : Math.min(...times);
  }

  recordFire(
    fired: Schedule,
    next: FireTiming | 'delete',
    retry: PendingDelivery | undefined,
  ): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      const same = trx
        .selectFrom('schedules')
        .select('record_json')
        .where('group_name', '=', fired.groupName)
        .where('name', '=', fired.name)
        .where('revision', '=', fired.revision);
      const row = await same.executeTakeFirst();
      if (row === undefined) return false;
      if (next === 'delete') {
        await trx
          .deleteFrom('schedules')
          .where('group_name', '=', fired.groupName)
          .where('name', '=', fired.name)
          .execute();
      } else {
        // The stored record, not the one read: only the timing changes here.
        const stored = JSON.parse(row.record_json) as Schedule;
        const updated: Schedule = { ...stored, nextFireMs: next.nextFireMs, dueMs: next.dueMs };
        await trx
          .updateTable('schedules')
          .set({ due_ms: next.dueMs ?? null, record_json: JSON.stringify(updated) })
          .where('group_name', '=', fired.groupName)
          .where('name', '=', fired.name)
          .execute();
      }
      if (retry !== undefined) await putDelivery(trx, retry);
      return true;
    });
  }

  async dueDeliveries(nowMs: number, limit: number): Promise<PendingDelivery[]> {
    const rows = await this.#db
      .selectFrom('schedule_deliveries')
      .select('record_json')
      .where('next_try_ms', '<=', nowMs)
      .orderBy('next_try_ms')
      .limit(limit)
      .execute();
    return rows.map((row) => JSON.parse(row.record_json) as PendingDelivery);
  }

  putDelivery(delivery: PendingDelivery): Promise<void> {
    return putDelivery(this.#db, delivery);
  }

  async deleteDelivery(id: string): Promise<void> {
    await this.#db.deleteFrom('schedule_deliveries').where('id', '=', id).execute();
  }

  async countDeliveries(): Promise<number> {
    const row = await this.#db
      .selectFrom('schedule_deliveries')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

function rowOf(schedule: Schedule) {
  return {
    group_name: schedule.groupName,
    name: schedule.name,
    state: schedule.state,
    due_ms: schedule.state === 'ENABLED' ? (schedule.dueMs ?? null) : null,
    revision: schedule.revision,
    record_json: JSON.stringify(schedule),
  };
}

async function putDelivery(db: Db, delivery: PendingDelivery): Promise<void> {
  const row = {
    group_name: delivery.groupName,
    schedule_name: delivery.scheduleName,
    next_try_ms: delivery.nextTryMs,
    record_json: JSON.stringify(delivery),
  };
  await db
    .insertInto('schedule_deliveries')
    .values({ id: delivery.id, ...row })
    .onConflict((oc) => oc.column('id').doUpdateSet(row))
    .execute();
}

/** Remembers a client token with the change it came with; forgets tokens past the retention. */
async function remember(trx: Transaction<Database>, token: TokenUse | undefined): Promise<void> {
  if (token === undefined) return;
  await trx
    .deleteFrom('scheduler_client_tokens')
    .where('used_ms', '<', token.nowMs - TOKEN_RETENTION_MS)
    .execute();
  const row = { resource: token.resource, used_ms: token.nowMs };
  await trx
    .insertInto('scheduler_client_tokens')
    .values({ operation: token.operation, token: token.token, ...row })
    .onConflict((oc) => oc.columns(['operation', 'token']).doUpdateSet(row))
    .execute();
}

/** Names that start with `prefix`, case-sensitively (LIKE folds ASCII case in SQLite). */
function startsWith(prefix: string) {
  return sql<SqlBool>`substr(name, 1, ${prefix.length}) = ${prefix}`;
}
