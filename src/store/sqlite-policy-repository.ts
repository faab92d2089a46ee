/** PolicyRepository on the SQLite metadata database (deleted with the function by cascade). */
import type { Kysely } from 'kysely';
import type { PolicyStatement, ResourcePolicy } from '../core/resource-policy.js';
import type { PolicyRepository } from '../functions/policy-repository.js';
import type { Database } from './database-schema.js';

export class SqlitePolicyRepository implements PolicyRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async get(
    functionName: string,
    qualifier: string | undefined,
  ): Promise<ResourcePolicy | undefined> {
    const row = await this.#db
      .selectFrom('resource_policies')
      .selectAll()
      .where('function_name', '=', functionName)
      .where('qualifier', '=', qualifier ?? '')
      .executeTakeFirst();
    if (row === undefined) return undefined;
    return {
      functionName,
      qualifier,
      statements: JSON.parse(row.statements_json) as PolicyStatement[],
      revisionId: row.revision_id,
    };
  }

  async put(policy: ResourcePolicy): Promise<void> {
    const changes = {
      statements_json: JSON.stringify(policy.statements),
      revision_id: policy.revisionId,
    };
    await this.#db
      .insertInto('resource_policies')
      .values({ function_name: policy.functionName, qualifier: policy.qualifier ?? '', ...changes })
      .onConflict((oc) => oc.columns(['function_name', 'qualifier']).doUpdateSet(changes))
      .execute();
  }

  async delete(functionName: string, qualifier: string | undefined): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('resource_policies')
      .where('function_name', '=', functionName)
      .where('qualifier', '=', qualifier ?? '')
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
