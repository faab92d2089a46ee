/**
 * CloudWatch metric minutes in SQLite (the MetricStore port): a write records the series it has
 * not seen (their ids are remembered), moves the last minute of the others on in one statement,
 * and inserts its rows in chunks, giving the event loop back between them; reads take one series'
 * rows by minute; pruning deletes in bounded steps, giving the event loop back between them.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import type { Dimension } from '../monitoring/lambda-metric-catalog.js';
import type {
  MetricStore,
  MinuteFigures,
  SeriesMinute,
  StoredSeries,
} from '../monitoring/metric-store.js';
import type { Database } from './database-schema.js';

/** Rows per insert statement (8 columns each, well under SQLite's parameter limit). */
const ROWS_PER_INSERT = 500;
/** New series per insert statement (5 columns each). */
const SERIES_PER_INSERT = 500;
/** Series ids per update of their last minute. */
const IDS_PER_UPDATE = 500;
/** Rows deleted per pruning step. */
const ROWS_PER_PRUNE = 5_000;

export class SqliteMetricStore implements MetricStore {
  readonly #db: Kysely<Database>;
  /** Series ids by key (a series keeps its id until pruned). */
  readonly #ids = new Map<string, number>();

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async write(minutes: readonly SeriesMinute[]): Promise<void> {
    if (minutes.length === 0) return;
    const last = new Map<string, SeriesMinute>();
    for (const minute of minutes) {
      const known = last.get(minute.key);
      if (known === undefined || known.minuteMs < minute.minuteMs) last.set(minute.key, minute);
    }
    // Known series move their last minute on, one statement per minute (a flush has one or two);
    // one a prune deleted meanwhile is not updated, and is recorded again below.
    const unknown = new Map<string, SeriesMinute>();
    // This write's own ids: a prune meanwhile forgets the remembered ones.
    const ids = new Map<string, number>();
    const knownByMinute = new Map<number, Map<number, string>>();
    for (const [key, minute] of last) {
      const id = this.#ids.get(key);
      if (id === undefined) unknown.set(key, minute);
      else {
        ids.set(key, id);
        let sameMinute = knownByMinute.get(minute.minuteMs);
        if (sameMinute === undefined) {
          sameMinute = new Map<number, string>();
          knownByMinute.set(minute.minuteMs, sameMinute);
        }
        sameMinute.set(id, key);
      }
    }
    for (const [minuteMs, byId] of knownByMinute) {
      const known = [...byId.keys()];
      for (let i = 0; i < known.length; i += IDS_PER_UPDATE) {
        const chunk = known.slice(i, i + IDS_PER_UPDATE);
        const updated = await this.#db
          .updateTable('metric_series')
          .set({ last_minute_ms: sql<number>`max(last_minute_ms, ${minuteMs})` })
          .where('id', 'in', chunk)
          .returning('id')
          .execute();
        const seen = new Set(updated.map((row) => row.id));
        for (const id of chunk) {
          const key = byId.get(id);
          const minute = key === undefined ? undefined : last.get(key);
          if (seen.has(id) || key === undefined || minute === undefined) continue;
          this.#ids.delete(key);
          ids.delete(key);
          unknown.set(key, minute);
        }
      }
    }
    // New series are recorded in multi-row statements, their ids remembered.
    const fresh = [...unknown];
    for (let i = 0; i < fresh.length; i += SERIES_PER_INSERT) {
      const rows = await this.#db
        .insertInto('metric_series')
        .values(
          fresh.slice(i, i + SERIES_PER_INSERT).map(([key, minute]) => ({
            series_key: key,
            namespace: minute.namespace,
            metric_name: minute.metric,
            dimensions_json: JSON.stringify(
              minute.dimensions.map((d) => ({ Name: d.name, Value: d.value })),
            ),
            last_minute_ms: minute.minuteMs,
          })),
        )
        .onConflict((oc) =>
          oc.column('series_key').doUpdateSet({
            last_minute_ms: sql`max(last_minute_ms, excluded.last_minute_ms)`,
          }),
        )
        .returning(['id', 'series_key'])
        .execute();
      for (const row of rows) {
        ids.set(row.series_key, row.id);
        this.#ids.set(row.series_key, row.id);
      }
      await yieldToLoop();
    }
    // The rows, a chunk per statement with the event loop given back between them; a write
    // retried after a failure skips the rows it made already (same series, minute and batch).
    for (let i = 0; i < minutes.length; i += ROWS_PER_INSERT) {
      const rows = minutes.slice(i, i + ROWS_PER_INSERT).flatMap((m) => {
        const seriesId = ids.get(m.key);
        if (seriesId === undefined) return [];
        return [
          {
            series_id: seriesId,
            minute_ms: m.minuteMs,
            batch: m.batch,
            sample_count: m.count,
            sum: m.sum,
            minimum: m.min,
            maximum: m.max,
            histogram: Buffer.from(
              m.histogram.buffer,
              m.histogram.byteOffset,
              m.histogram.byteLength,
            ),
          },
        ];
      });
      if (rows.length > 0)
        await this.#db
          .insertInto('metric_minutes')
          .values(rows)
          .onConflict((oc) => oc.doNothing())
          .execute();
      await yieldToLoop();
    }
  }

  async series(sinceMs: number): Promise<StoredSeries[]> {
    const rows = await this.#db
      .selectFrom('metric_series')
      .selectAll()
      .where('last_minute_ms', '>=', sinceMs)
      .execute();
    return rows.map((row) => ({
      key: row.series_key,
      namespace: row.namespace,
      metric: row.metric_name,
      dimensions: dimensionsOf(row.dimensions_json),
      lastMinuteMs: row.last_minute_ms,
    }));
  }

  async read(
    key: string,
    fromMs: number,
    toMs: number,
    histograms: boolean,
  ): Promise<MinuteFigures[]> {
    const id = await this.#idOf(key);
    if (id === undefined) return [];
    const rows = await this.#db
      .selectFrom('metric_minutes')
      .select(['minute_ms', 'batch', 'sample_count', 'sum', 'minimum', 'maximum'])
      .$if(histograms, (q) => q.select('histogram'))
      .where('series_id', '=', id)
      .where('minute_ms', '>=', fromMs)
      .where('minute_ms', '<', toMs)
      .orderBy('minute_ms')
      .execute();
    return rows.map((row) => ({
      minuteMs: row.minute_ms,
      batch: row.batch,
      count: row.sample_count,
      sum: row.sum,
      min: row.minimum,
      max: row.maximum,
      histogram: row.histogram ?? new Uint8Array(0),
    }));
  }

  async prune(beforeMs: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const result = await sql`
        DELETE FROM metric_minutes WHERE (series_id, minute_ms, batch) IN (
          SELECT series_id, minute_ms, batch FROM metric_minutes
          WHERE minute_ms < ${beforeMs} LIMIT ${ROWS_PER_PRUNE})`.execute(this.#db);
      const count = Number(result.numAffectedRows ?? 0);
      deleted += count;
      if (count < ROWS_PER_PRUNE) break;
      await yieldToLoop();
    }
    await sql`
      DELETE FROM metric_series WHERE last_minute_ms < ${beforeMs}
        AND NOT EXISTS (SELECT 1 FROM metric_minutes WHERE metric_minutes.series_id = metric_series.id)`.execute(
      this.#db,
    );
    this.#ids.clear();
    return deleted;
  }

  async #idOf(key: string): Promise<number | undefined> {
    const known = this.#ids.get(key);
    if (known !== undefined) return known;
    const row = await this.#db
      .selectFrom('metric_series')
      .select('id')
      .where('series_key', '=', key)
      .executeTakeFirst();
    if (row !== undefined) this.#ids.set(key, row.id);
    return row?.id;
  }
}

/** Dimensions as stored; a row that is not what this store wrote gives none. */
function dimensionsOf(json: string): Dimension[] {
  try {
    const parsed: unknown = JSON.parse(json);
    if (!Array.isArray(parsed)) return [];
    return parsed.flatMap((d: unknown) => {
      const { Name, Value } = (d ?? {}) as { Name?: unknown; Value?: unknown };
      return typeof Name === 'string' && typeof Value === 'string'
        ? [{ name: Name, value: Value }]
        : [];
    });
  } catch {
    return [];
  }
}
