/** IamRepository on the SQLite metadata database; secret access keys are sealed (SecretBox). */
import type { Kysely } from 'kysely';
import type {
  AccessKey,
  AccessKeyStatus,
  IamGroup,
  IamRole,
  IamUser,
  ManagedPolicy,
  PolicyHolder,
  PolicyVersion,
} from '../core/iam-model.js';
import type { IamRepository } from '../iam/iam-repository.js';
import type { Database } from './database-schema.js';
import type { SecretBox } from './secret-box.js';

/** Records are stored as JSON with their dates as ISO strings. */
function encode(record: object): string {
  return JSON.stringify(record);
}

function decode<T>(json: string, dates: readonly string[]): T {
  const record = JSON.parse(json) as Record<string, unknown>;
  for (const field of dates) record[field] = new Date(record[field] as string);
  return record as T;
}

const USER_DATES = ['createDate'];
type NamedTable = 'iam_users' | 'iam_groups' | 'iam_roles';
const POLICY_DATES = ['createDate', 'updateDate'];

export class SqliteIamRepository implements IamRepository {
  readonly #db: Kysely<Database>;
  readonly #secrets: SecretBox;

  constructor(db: Kysely<Database>, secrets: SecretBox) {
    this.#db = db;
    this.#secrets = secrets;
  }

  createUser(user: IamUser): Promise<boolean> {
    return this.#insertNamed('iam_users', user.userName, user);
  }

  getUser(userName: string): Promise<IamUser | undefined> {
    return this.#getNamed<IamUser>('iam_users', userName);
  }

  listUsers(): Promise<IamUser[]> {
    return this.#listNamed<IamUser>('iam_users');
  }

  deleteUser(userName: string): Promise<void> {
    return this.#deleteNamed('iam_users', userName);
  }

  async putAccessKey(key: AccessKey, secret: string): Promise<void> {
    await this.#db
      .insertInto('iam_access_keys')
      .values({
        access_key_id: key.accessKeyId,
        user_name: key.userName,
        status: key.status,
        create_date_ms: key.createDate.getTime(),
        secret_sealed: this.#secrets.seal(secret),
      })
      .execute();
  }

  async listAccessKeys(userName: string): Promise<AccessKey[]> {
    const rows = await this.#db
      .selectFrom('iam_access_keys')
      .selectAll()
      .where('user_name', '=', userName)
      .orderBy('create_date_ms')
      .execute();
    return rows.map(accessKeyOf);
  }

  async findAccessKey(
    accessKeyId: string,
  ): Promise<{ key: AccessKey; secret: string } | undefined> {
    const row = await this.#db
      .selectFrom('iam_access_keys')
      .selectAll()
      .where('access_key_id', '=', accessKeyId)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    return { key: accessKeyOf(row), secret: this.#secrets.open(row.secret_sealed) };
  }

  async updateAccessKey(accessKeyId: string, status: AccessKeyStatus): Promise<void> {
    await this.#db
      .updateTable('iam_access_keys')
      .set({ status })
      .where('access_key_id', '=', accessKeyId)
      .execute();
  }

  async deleteAccessKey(accessKeyId: string): Promise<void> {
    await this.#db.deleteFrom('iam_access_keys').where('access_key_id', '=', accessKeyId).execute();
  }

  createGroup(group: IamGroup): Promise<boolean> {
    return this.#insertNamed('iam_groups', group.groupName, group);
  }

  getGroup(groupName: string): Promise<IamGroup | undefined> {
    return this.#getNamed<IamGroup>('iam_groups', groupName);
  }

  listGroups(): Promise<IamGroup[]> {
    return this.#listNamed<IamGroup>('iam_groups');
  }

  deleteGroup(groupName: string): Promise<void> {
    return this.#deleteNamed('iam_groups', groupName);
  }

  async addUserToGroup(groupName: string, userName: string): Promise<void> {
    await this.#db
      .insertInto('iam_group_members')
      .values({ group_name: groupName, user_name: userName })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  async removeUserFromGroup(groupName: string, userName: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('iam_group_members')
      .where('group_name', '=', groupName)
      .where('user_name', '=', userName)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async listGroupsForUser(userName: string): Promise<string[]> {
    const rows = await this.#db
      .selectFrom('iam_group_members')
      .select('group_name')
      .where('user_name', '=', userName)
      .orderBy('group_name')
      .execute();
    return rows.map((row) => row.group_name);
  }

  async listUsersInGroup(groupName: string): Promise<string[]> {
    const rows = await this.#db
      .selectFrom('iam_group_members')
      .select('user_name')
      .where('group_name', '=', groupName)
      .orderBy('user_name')
      .execute();
    return rows.map((row) => row.user_name);
  }

  createRole(role: IamRole): Promise<boolean> {
    return this.#insertNamed('iam_roles', role.roleName, role);
  }

  getRole(roleName: string): Promise<IamRole | undefined> {
    return this.#getNamed<IamRole>('iam_roles', roleName);
  }

  listRoles(): Promise<IamRole[]> {
    return this.#listNamed<IamRole>('iam_roles');
  }

  deleteRole(roleName: string): Promise<void> {
    return this.#deleteNamed('iam_roles', roleName);
  }

  async updateAssumeRolePolicy(roleName: string, document: string): Promise<void> {
    const role = await this.getRole(roleName);
    if (role === undefined) return;
    await this.#db
      .updateTable('iam_roles')
      .set({ record_json: encode({ ...role, assumeRolePolicyDocument: document }) })
      .where('name', '=', roleName)
      .execute();
  }

  async putInlinePolicy(holder: PolicyHolder, policyName: string, document: string): Promise<void> {
    await this.#db
      .insertInto('iam_inline_policies')
      .values({
        holder_kind: holder.kind,
        holder_name: holder.name,
        policy_name: policyName,
        document,
      })
      .onConflict((oc) =>
        oc.columns(['holder_kind', 'holder_name', 'policy_name']).doUpdateSet({ document }),
      )
      .execute();
  }

  async getInlinePolicy(holder: PolicyHolder, policyName: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('iam_inline_policies')
      .select('document')
      .where('holder_kind', '=', holder.kind)
      .where('holder_name', '=', holder.name)
      .where('policy_name', '=', policyName)
      .executeTakeFirst();
    return row?.document;
  }

  async listInlinePolicies(holder: PolicyHolder): Promise<string[]> {
    const rows = await this.#db
      .selectFrom('iam_inline_policies')
      .select('policy_name')
      .where('holder_kind', '=', holder.kind)
      .where('holder_name', '=', holder.name)
      .orderBy('policy_name')
      .execute();
    return rows.map((row) => row.policy_name);
  }

  async deleteInlinePolicy(holder: PolicyHolder, policyName: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('iam_inline_policies')
      .where('holder_kind', '=', holder.kind)
      .where('holder_name', '=', holder.name)
      .where('policy_name', '=', policyName)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async createPolicy(policy: ManagedPolicy, version: PolicyVersion): Promise<boolean> {
    return this.#db.transaction().execute(async (trx) => {
      const result = await trx
        .insertInto('iam_policies')
        .values({ arn: policy.arn, record_json: encode(policy) })
        .onConflict((oc) => oc.column('arn').doNothing())
        .executeTakeFirst();
      if ((result.numInsertedOrUpdatedRows ?? 0n) === 0n) return false;
      await trx
        .insertInto('iam_policy_versions')
        .values({ arn: policy.arn, version_id: version.versionId, record_json: encode(version) })
        .execute();
      return true;
    });
  }

  async getPolicy(arn: string): Promise<ManagedPolicy | undefined> {
    const row = await this.#db
      .selectFrom('iam_policies')
      .select('record_json')
      .where('arn', '=', arn)
      .executeTakeFirst();
    return row === undefined ? undefined : decode<ManagedPolicy>(row.record_json, POLICY_DATES);
  }

  async getPolicyVersion(arn: string, versionId: string): Promise<PolicyVersion | undefined> {
    const row = await this.#db
      .selectFrom('iam_policy_versions')
      .select('record_json')
      .where('arn', '=', arn)
      .where('version_id', '=', versionId)
      .executeTakeFirst();
    return row === undefined ? undefined : decode<PolicyVersion>(row.record_json, USER_DATES);
  }

  async listPolicies(): Promise<ManagedPolicy[]> {
    const rows = await this.#db
      .selectFrom('iam_policies')
      .select('record_json')
      .orderBy('arn')
      .execute();
    return rows.map((row) => decode<ManagedPolicy>(row.record_json, POLICY_DATES));
  }

  async deletePolicy(arn: string): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await trx.deleteFrom('iam_policy_versions').where('arn', '=', arn).execute();
      await trx.deleteFrom('iam_policies').where('arn', '=', arn).execute();
    });
  }

  async attachPolicy(holder: PolicyHolder, policyArn: string): Promise<void> {
    await this.#db
      .insertInto('iam_attachments')
      .values({ holder_kind: holder.kind, holder_name: holder.name, policy_arn: policyArn })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  async detachPolicy(holder: PolicyHolder, policyArn: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('iam_attachments')
      .where('holder_kind', '=', holder.kind)
      .where('holder_name', '=', holder.name)
      .where('policy_arn', '=', policyArn)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async listAttachedPolicies(holder: PolicyHolder): Promise<string[]> {
    const rows = await this.#db
      .selectFrom('iam_attachments')
      .select('policy_arn')
      .where('holder_kind', '=', holder.kind)
      .where('holder_name', '=', holder.name)
      .orderBy('policy_arn')
      .execute();
    return rows.map((row) => row.policy_arn);
  }

  async attachmentCount(policyArn: string): Promise<number> {
    const row = await this.#db
      .selectFrom('iam_attachments')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('policy_arn', '=', policyArn)
      .executeTakeFirst();
    return Number(row?.count ?? 0);
  }

  /** Users, groups and roles: a record by name. False when the name is taken. */
  async #insertNamed(table: NamedTable, name: string, record: object): Promise<boolean> {
    const result = await this.#db
      .insertInto(table)
      .values({ name, record_json: encode(record) })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  async #getNamed<T>(table: NamedTable, name: string): Promise<T | undefined> {
    const row = await this.#db
      .selectFrom(table)
      .select('record_json')
      .where('name', '=', name)
      .executeTakeFirst();
    return row === undefined ? undefined : decode<T>(row.record_json, USER_DATES);
  }

  async #listNamed<T>(table: NamedTable): Promise<T[]> {
    const rows = await this.#db.selectFrom(table).select('record_json').orderBy('name').execute();
    return rows.map((row) => decode<T>(row.record_json, USER_DATES));
  }

  async #deleteNamed(table: NamedTable, name: string): Promise<void> {
    await this.#db.deleteFrom(table).where('name', '=', name).execute();
  }
}

function accessKeyOf(row: {
  access_key_id: string;
  user_name: string;
  status: string;
  create_date_ms: number;
}): AccessKey {
  return {
    accessKeyId: row.access_key_id,
    userName: row.user_name,
    status: row.status as AccessKeyStatus,
    createDate: new Date(row.create_date_ms),
  };
}
