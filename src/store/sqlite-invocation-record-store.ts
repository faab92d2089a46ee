/**
 * Invocation records and hourly usage in SQLite. A batch of records and the usage they add are
 * written in one transaction (records in multi-row inserts, usage as one upsert per hour and
 * version), so the usage of every hour is exactly the sum of its records.
 */
import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { Architecture } from '../core/function-model.js';
import type {
  InvocationOutcomeKind,
  InvocationReport,
  InvocationTrigger,
} from '../core/invocation-report.js';
import type {
  InvocationQuery,
  InvocationRecordStore,
  ProvisionedAccrual,
  StoredInvocation,
  UsageQuery,
  UsageRow,
} from '../monitoring/invocation-records.js';
import type { Database, InvocationRecordsTable } from './database-schema.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Rows per insert statement (20 columns each: well under SQLite's 32,766 parameters). */
const ROWS_PER_INSERT = 500;

type UsageAddition = {
  function_name: string;
  version: string;
  architecture: string;
  hour_ms: number;
  requests: number;
  billed_ms: number;
  mib_ms: number;
  provisioned_duration_mib_ms: number;
  provisioned_mib_ms: number;
};

export class SqliteInvocationRecordStore implements InvocationRecordStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async append(
    reports: readonly InvocationReport[],
    accruals: readonly ProvisionedAccrual[],
  ): Promise<void> {
    if (reports.length === 0 && accruals.length === 0) return;
    const usage = usageOf(reports, accruals);
    await this.#db.transaction().execute(async (trx) => {
      for (let i = 0; i < reports.length; i += ROWS_PER_INSERT) {
        const rows = reports.slice(i, i + ROWS_PER_INSERT).map(rowOf);
        await trx.insertInto('invocation_records').values(rows).execute();
      }
      for (const add of usage) {
        await trx
          .insertInto('usage_hours')
          .values(add)
          .onConflict((oc) =>
            oc.columns(['function_name', 'version', 'architecture', 'hour_ms']).doUpdateSet({
              requests: sql`requests + excluded.requests`,
              billed_ms: sql`billed_ms + excluded.billed_ms`,
              mib_ms: sql`mib_ms + excluded.mib_ms`,
              provisioned_duration_mib_ms: sql`provisioned_duration_mib_ms + excluded.provisioned_duration_mib_ms`,
              provisioned_mib_ms: sql`provisioned_mib_ms + excluded.provisioned_mib_ms`,
            }),
          )
          .execute();
      }
    });
  }

  async list(query: InvocationQuery): Promise<StoredInvocation[]> {
    let select = this.#db.selectFrom('invocation_records').selectAll();
    if (query.functionName !== undefined)
      select = select.where('function_name', '=', query.functionName);
    if (query.requestId !== undefined) select = select.where('request_id', '=', query.requestId);
    if (query.sinceMs !== undefined) select = select.where('start_ms', '>=', query.sinceMs);
    if (query.untilMs !== undefined) select = select.where('start_ms', '<', query.untilMs);
    if (query.outcome !== undefined) select = select.where('outcome', '=', query.outcome);
    if (query.trigger !== undefined) select = select.where('trigger', '=', query.trigger);
    if (query.beforeSeq !== undefined) select = select.where('seq', '<', query.beforeSeq);
    const rows = await select.orderBy('seq', 'desc').limit(query.limit).execute();
    return rows.map(recordOf);
  }

  async usage(query: UsageQuery): Promise<UsageRow[]> {
    const size = query.by === 'day' ? DAY_MS : HOUR_MS;
    const period = sql<number>`hour_ms - (hour_ms % ${size})`;
    let select = this.#db
      .selectFrom('usage_hours')
      .select([
        'function_name',
        'version',
        'architecture',
        period.as('period_ms'),
        sql<number>`sum(requests)`.as('requests'),
        sql<number>`sum(billed_ms)`.as('billed_ms'),
        sql<number>`sum(mib_ms)`.as('mib_ms'),
        sql<number>`sum(provisioned_duration_mib_ms)`.as('provisioned_duration_mib_ms'),
        sql<number>`sum(provisioned_mib_ms)`.as('provisioned_mib_ms'),
      ]);
    if (query.functionName !== undefined)
      select = select.where('function_name', '=', query.functionName);
    if (query.sinceMs !== undefined) select = select.where('hour_ms', '>=', query.sinceMs);
    if (query.untilMs !== undefined) select = select.where('hour_ms', '<', query.untilMs);
    const rows = await select
      .groupBy(['function_name', 'version', 'architecture', sql`period_ms`])
      .orderBy(sql`period_ms`)
      .orderBy('function_name')
      .orderBy('version')
      .execute();
    return rows.map((row) => ({
      functionName: row.function_name,
      version: row.version,
      architecture: row.architecture as Architecture,
      periodMs: Number(row.period_ms),
      requests: Number(row.requests),
      billedMs: Number(row.billed_ms),
      mibMs: Number(row.mib_ms),
      provisionedDurationMibMs: Number(row.provisioned_duration_mib_ms),
      provisionedMibMs: Number(row.provisioned_mib_ms),
    }));
  }

  async pruneRecords(cutoffMs: number, max: number): Promise<number> {
    // In bounded steps: one large delete would hold the event loop (and the database) too long.
    const result = await this.#db
      .deleteFrom('invocation_records')
      .where(
        'seq',
        'in',
        this.#db
          .selectFrom('invocation_records')
          .select('seq')
          .where('start_ms', '<', cutoffMs)
          .limit(max),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async pruneUsage(cutoffMs: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('usage_hours')
      .where('hour_ms', '<', cutoffMs)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function rowOf(r: InvocationReport): Insertable<InvocationRecordsTable> {
  return {
    request_id: r.requestId,
    function_name: r.functionName,
    executed_version: r.executedVersion,
    qualifier: r.qualifier ?? null,
    trigger: r.trigger,
    received_ms: r.receivedMs,
    start_ms: r.startMs,
    end_ms: r.endMs,
    cold: r.cold ? 1 : 0,
    init_duration_ms: r.initDurationMs ?? null,
    duration_ms: r.durationMs,
    billed_duration_ms: r.billedDurationMs,
    memory_size_mib: r.memorySizeMiB,
    max_memory_used_mib: r.maxMemoryUsedMiB,
    architecture: r.architecture,
    outcome: r.outcome,
    error_type: r.errorType ?? null,
    trace_header: r.traceHeader,
    provisioned: r.provisioned ? 1 : 0,
  };
}

function recordOf(row: Selectable<InvocationRecordsTable>): StoredInvocation {
  return {
    seq: row.seq,
    requestId: row.request_id,
    functionName: row.function_name,
    executedVersion: row.executed_version,
    qualifier: row.qualifier ?? undefined,
    trigger: row.trigger as InvocationTrigger,
    receivedMs: row.received_ms,
    startMs: row.start_ms,
    endMs: row.end_ms,
    cold: row.cold === 1,
    initDurationMs: row.init_duration_ms ?? undefined,
    durationMs: row.duration_ms,
    billedDurationMs: row.billed_duration_ms,
    memorySizeMiB: row.memory_size_mib,
    maxMemoryUsedMiB: row.max_memory_used_mib,
    architecture: row.architecture as Architecture,
    outcome: row.outcome as InvocationOutcomeKind,
    errorType: row.error_type ?? undefined,
    traceHeader: row.trace_header,
    provisioned: row.provisioned === 1,
  };
}

/** The usage a batch adds, one addition per function, version, architecture and hour. */
function usageOf(
  reports: readonly InvocationReport[],
  accruals: readonly ProvisionedAccrual[],
): UsageAddition[] {
  const additions = new Map<string, UsageAddition>();
  const at = (name: string, version: string, architecture: string, hourMs: number) => {
    const key = `${name}\u0000${version}\u0000${architecture}\u0000${hourMs}`;
    let add = additions.get(key);
    if (add === undefined) {
      add = {
        function_name: name,
        version,
        architecture,
        hour_ms: hourMs,
        requests: 0,
        billed_ms: 0,
        mib_ms: 0,
        provisioned_duration_mib_ms: 0,
        provisioned_mib_ms: 0,
      };
      additions.set(key, add);
    }
    return add;
  };
  for (const r of reports) {
    const add = at(r.functionName, r.executedVersion, r.architecture, hourOf(r.startMs));
    const mibMs = r.billedDurationMs * r.memorySizeMiB;
    add.requests += 1;
    add.billed_ms += r.billedDurationMs;
    add.mib_ms += mibMs;
    if (r.provisioned) add.provisioned_duration_mib_ms += mibMs;
  }
  for (const a of accruals) {
    at(a.functionName, a.version, a.architecture, a.hourMs).provisioned_mib_ms += Math.round(
      a.mibMs,
    );
  }
  return [...additions.values()];
}

function hourOf(ms: number): number {
  return ms - (ms % HOUR_MS);
}
