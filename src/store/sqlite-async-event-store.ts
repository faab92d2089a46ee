/**
 * The asynchronous queue on the SQLite metadata database. Every write goes through one group
 * commit, so a burst of accepted events (and the workers' claims and results) share fsyncs.
 */
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { AsyncCondition, AsyncEvent, AsyncEventStatus } from '../async/async-event.js';
import type { AsyncEventPage, AsyncEventStore } from '../async/ports.js';
import type { AsyncEventsTable, Database } from './database-schema.js';
import { GroupCommit } from './group-commit.js';

type Row = Omit<AsyncEventsTable, 'seq'>;

/** Rows per INSERT statement (SQLite allows 32,766 bound values; a row has 23). */
const INSERT_CHUNK = 500;

/** Candidate rows read per event claimed (the rest may be of functions out of room). */
const CANDIDATES_PER_CLAIM = 8;

export class SqliteAsyncEventStore implements AsyncEventStore {
  readonly #db: Kysely<Database>;
  readonly #writes: GroupCommit<Database>;
  /** New events waiting for the next commit, written by one multi-row INSERT. */
  #rows: Row[] = [];
  #rowsWritten: Promise<void> | undefined;
  readonly #watchers = new Set<() => void>();

  constructor(db: Kysely<Database>) {
    this.#db = db;
    this.#writes = new GroupCommit(db, () => this.#committed());
  }

  /**
   * Calls `listener` after every commit (of inserts, claims, updates, prunes), so that waiting
   * for an event's state needs no polling; returns what removes it.
   */
  onChange(listener: () => void): () => void {
    this.#watchers.add(listener);
    return () => this.#watchers.delete(listener);
  }

  #committed(): void {
    for (const watcher of [...this.#watchers]) {
      try {
        watcher();
      } catch {
        // a listener's failure is its own: the writes are committed
      }
    }
  }

  insert(events: readonly AsyncEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    this.#rows.push(...events.map(toRow));
    // All events inserted before the next commit share one statement in it.
    this.#rowsWritten ??= this.#writes.submit(async (trx) => {
      const rows = this.#rows;
      this.#rows = [];
      this.#rowsWritten = undefined;
      for (let i = 0; i < rows.length; i += INSERT_CHUNK)
        await trx
          .insertInto('async_events')
          .values(rows.slice(i, i + INSERT_CHUNK))
          .execute();
    });
    return this.#rowsWritten;
  }

  claimDue(
    nowMs: number,
    limit: number,
    excluded: readonly string[],
    roomFor: (functionName: string) => number,
  ): Promise<AsyncEvent[]> {
    return this.#writes.submit(async (trx) => {
      let query = trx
        .selectFrom('async_events')
        .selectAll()
        .where('next_attempt_ms', 'is not', null)
        .where('next_attempt_ms', '<=', nowMs);
      if (excluded.length > 0) query = query.where('function_name', 'not in', [...excluded]);
      // More candidates than `limit`: some may belong to functions with less room than events.
      const candidates = await query
        .orderBy('next_attempt_ms')
        .orderBy('seq')
        .limit(limit * CANDIDATES_PER_CLAIM)
        .execute();
      const taken = new Map<string, number>();
      const rows = [];
      for (const row of candidates) {
        if (rows.length >= limit) break;
        const n = taken.get(row.function_name) ?? 0;
        if (n >= roomFor(row.function_name)) continue;
        taken.set(row.function_name, n + 1);
        rows.push(row);
      }
      if (rows.length === 0) return [];
      await trx
        .updateTable('async_events')
        .set({ status: 'Running', next_attempt_ms: null })
        .where(
          'seq',
          'in',
          rows.map((r) => r.seq),
        )
        .execute();
      return rows.map((row) => fromRow({ ...row, status: 'Running', next_attempt_ms: null }));
    });
  }

  async nextDueMs(excluded: readonly string[]): Promise<number | undefined> {
    let query = this.#db
      .selectFrom('async_events')
      .select('next_attempt_ms')
      .where('next_attempt_ms', 'is not', null);
    if (excluded.length > 0) query = query.where('function_name', 'not in', [...excluded]);
    const row = await query.orderBy('next_attempt_ms').limit(1).executeTakeFirst();
    return row?.next_attempt_ms ?? undefined;
  }

  /** Events waiting to run (Queued or Retrying), counted on the due-time index (metrics). */
  async waitingCount(): Promise<number> {
    const row = await this.#db
      .selectFrom('async_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('next_attempt_ms', 'is not', null)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  update(event: AsyncEvent, followUps: readonly AsyncEvent[]): Promise<void> {
    return this.#writes.submit(async (trx) => {
      await updateRow(trx, event);
      if (followUps.length > 0)
        await trx.insertInto('async_events').values(followUps.map(toRow)).execute();
    });
  }

  async get(requestId: string): Promise<AsyncEvent | undefined> {
    const row = await this.#db
      .selectFrom('async_events')
      .selectAll()
      .where('request_id', '=', requestId)
      .executeTakeFirst();
    return row === undefined ? undefined : fromRow(row);
  }

  async list(
    functionName: string,
    status: AsyncEventStatus | undefined,
    beforeCursor: number | undefined,
    limit: number,
  ): Promise<AsyncEventPage> {
    let query = this.#db
      .selectFrom('async_events')
      .selectAll()
      .where('function_name', '=', functionName);
    if (status !== undefined) query = query.where('status', '=', status);
    if (beforeCursor !== undefined) query = query.where('seq', '<', beforeCursor);
    const rows = await query
      .orderBy('seq', 'desc')
      .limit(limit + 1)
      .execute();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      events: page.map(fromRow),
      nextCursor: rows.length > limit && last !== undefined ? last.seq : undefined,
    };
  }

  requeueRunning(nowMs: number): Promise<number> {
    return this.#writes.submit(async (trx) => {
      const requeued = async (status: AsyncEventStatus, attempted: boolean) =>
        trx
          .updateTable('async_events')
          .set({ status, next_attempt_ms: nowMs })
          .where('status', '=', 'Running')
          .where('attempts', attempted ? '>' : '=', 0)
          .executeTakeFirst();
      const a = await requeued('Queued', false);
      const b = await requeued('Retrying', true);
      return Number(a.numUpdatedRows + b.numUpdatedRows);
    });
  }

  pruneFinished(cutoffMs: number): Promise<number> {
    return this.#writes.submit(async (trx) => {
      const result = await trx
        .deleteFrom('async_events')
        .where('finished_ms', 'is not', null)
        .where('finished_ms', '<', cutoffMs)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }

  /** Resolves once every write submitted so far is committed (for orderly stops). */
  flush(): Promise<void> {
    return this.#writes.drain();
  }
}

async function updateRow(trx: Transaction<Database>, event: AsyncEvent): Promise<void> {
  const { request_id, ...changes } = toRow(event);
  await trx.updateTable('async_events').set(changes).where('request_id', '=', request_id).execute();
}

function toRow(event: AsyncEvent): Row {
  return {
    request_id: event.requestId,
    function_name: event.functionName,
    qualifier: event.qualifier ?? null,
    payload: event.payload,
    client_context: event.clientContext ?? null,
    status: event.status,
    attempts: event.attempts,
    backoffs: event.backoffs,
    throttles: event.throttles,
    enqueued_ms: event.enqueuedMs,
    last_attempt_ms: event.lastAttemptMs ?? null,
    next_attempt_ms: event.nextAttemptMs ?? null,
    finished_ms: event.finishedMs ?? null,
    condition: event.condition ?? null,
    error_type: event.error?.errorType ?? null,
    error_message: event.error?.errorMessage ?? null,
    response: event.response ?? null,
    executed_version: event.executedVersion ?? null,
    function_error: event.functionError ?? null,
    replay_of: event.replayOf ?? null,
    limits_json: event.limits === undefined ? null : JSON.stringify(event.limits),
    trace_header: event.traceHeader ?? null,
    // 'async' is what a missing value means (events stored before the column).
    trigger: event.trigger === 'async' ? null : event.trigger,
  };
}

function fromRow(row: Selectable<AsyncEventsTable>): AsyncEvent {
  return {
    requestId: row.request_id,
    functionName: row.function_name,
    qualifier: row.qualifier ?? undefined,
    payload: Buffer.from(row.payload),
    clientContext: row.client_context ?? undefined,
    status: row.status as AsyncEventStatus,
    attempts: row.attempts,
    backoffs: row.backoffs,
    throttles: row.throttles,
    enqueuedMs: row.enqueued_ms,
    lastAttemptMs: row.last_attempt_ms ?? undefined,
    nextAttemptMs: row.next_attempt_ms ?? undefined,
    finishedMs: row.finished_ms ?? undefined,
    condition: (row.condition ?? undefined) as AsyncCondition | undefined,
    error:
      row.error_type === null
        ? undefined
        : { errorType: row.error_type, errorMessage: row.error_message ?? '' },
    response: row.response === null ? undefined : Buffer.from(row.response),
    executedVersion: row.executed_version ?? undefined,
    functionError: row.function_error ?? undefined,
    replayOf: row.replay_of ?? undefined,
    limits:
      row.limits_json === null ? undefined : (JSON.parse(row.limits_json) as AsyncEvent['limits']),
    traceHeader: row.trace_header ?? undefined,
    trigger: row.trigger === 'schedule' ? 'schedule' : 'async',
  };
}
