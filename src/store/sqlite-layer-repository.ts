/** LayerRepository on SQLite: `layers` keeps each layer's highest number, `layer_versions` the rows. */
import type { Kysely } from 'kysely';
import type { LayerPolicy, LayerVersionRecord } from '../core/layer-model.js';
import type { LayerRepository } from '../functions/layer-repository.js';
import type { Database } from './database-schema.js';

export class SqliteLayerRepository implements LayerRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async publish(
    layerName: string,
    make: (version: number) => LayerVersionRecord,
  ): Promise<LayerVersionRecord> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('layers')
        .select('last_version')
        .where('name', '=', layerName)
        .executeTakeFirst();
      const version = (row?.last_version ?? 0) + 1;
      if (row === undefined) {
        await trx.insertInto('layers').values({ name: layerName, last_version: version }).execute();
      } else {
        await trx
          .updateTable('layers')
          .set({ last_version: version })
          .where('name', '=', layerName)
          .execute();
      }
      const record = make(version);
      await trx
        .insertInto('layer_versions')
        .values({
          layer_name: layerName,
          version,
          record_json: JSON.stringify(record),
          code_sha256: record.code.sha256Hex,
        })
        .execute();
      return record;
    });
  }

  async get(layerName: string, version: number): Promise<LayerVersionRecord | undefined> {
    const row = await this.#db
      .selectFrom('layer_versions')
      .select('record_json')
      .where('layer_name', '=', layerName)
      .where('version', '=', version)
      .executeTakeFirst();
    return row === undefined ? undefined : parse(row.record_json);
  }

  async versions(layerName: string): Promise<LayerVersionRecord[]> {
    const rows = await this.#db
      .selectFrom('layer_versions')
      .select('record_json')
      .where('layer_name', '=', layerName)
      .orderBy('version', 'desc')
      .execute();
    return rows.map((row) => parse(row.record_json));
  }

  async all(): Promise<LayerVersionRecord[]> {
    const rows = await this.#db
      .selectFrom('layer_versions')
      .select('record_json')
      .orderBy('layer_name')
      .orderBy('version', 'desc')
      .execute();
    return rows.map((row) => parse(row.record_json));
  }

  async delete(layerName: string, version: number): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('layer_versions')
      .where('layer_name', '=', layerName)
      .where('version', '=', version)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async updatePolicy(
    layerName: string,
    version: number,
    change: (current: LayerPolicy | undefined) => LayerPolicy | undefined,
  ): Promise<LayerVersionRecord | undefined> {
    return this.#db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('layer_versions')
        .select('record_json')
        .where('layer_name', '=', layerName)
        .where('version', '=', version)
        .executeTakeFirst();
      if (row === undefined) return undefined;
      const current = parse(row.record_json);
      const next: LayerVersionRecord = { ...current, policy: change(current.policy) };
      await trx
        .updateTable('layer_versions')
        .set({ record_json: JSON.stringify(next) })
        .where('layer_name', '=', layerName)
        .where('version', '=', version)
        .execute();
      return next;
    });
  }
}

function parse(json: string): LayerVersionRecord {
  return JSON.parse(json) as LayerVersionRecord;
}
