/** RegistryLoginRepository on SQLite: one row per registry host, the password sealed. */
import type { Kysely } from 'kysely';
import type { RegistryLogin, RegistryLoginRepository } from '../functions/registry-service.js';
import type { Database } from './database-schema.js';
import type { SecretBox } from './secret-box.js';

export class SqliteRegistryLoginRepository implements RegistryLoginRepository {
  readonly #db: Kysely<Database>;
  readonly #box: SecretBox;

  constructor(db: Kysely<Database>, box: SecretBox) {
    this.#db = db;
    this.#box = box;
  }

  async put(login: RegistryLogin, password: string): Promise<void> {
    const row = { record_json: JSON.stringify(login), password_sealed: this.#box.seal(password) };
    await this.#db
      .insertInto('registry_logins')
      .values({ host: login.host, ...row })
      .onConflict((oc) => oc.column('host').doUpdateSet(row))
      .execute();
  }

  async get(host: string): Promise<{ login: RegistryLogin; password: string } | undefined> {
    const row = await this.#db
      .selectFrom('registry_logins')
      .selectAll()
      .where('host', '=', host)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    return {
      login: JSON.parse(row.record_json) as RegistryLogin,
      password: this.#box.open(row.password_sealed),
    };
  }

  async delete(host: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('registry_logins')
      .where('host', '=', host)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async list(): Promise<RegistryLogin[]> {
    const rows = await this.#db
      .selectFrom('registry_logins')
      .select('record_json')
      .orderBy('host')
      .execute();
    return rows.map((row) => JSON.parse(row.record_json) as RegistryLogin);
  }
}
