/**
 * IAM's users, access keys, roles and policies (see docs/guide/identity.md): what the IAM Query API
 * does, in Lamina's terms. Policy documents are checked (compiled) before anything is written.
 */
import type { Clock } from '../core/clock.js';
import {
  checkName,
  checkPath,
  iamArn,
  iamErrors,
  iamId,
  newSecretAccessKey,
  type AccessKey,
  type IamGroup,
  type IamRole,
  type IamUser,
  type ManagedPolicy,
  type PolicyHolder,
  type PolicyVersion,
} from '../core/iam-model.js';
import { compilePolicy, PolicySyntaxError, type PolicyKind } from '../core/policy-document.js';
import { AWS_MANAGED_POLICIES } from './aws-managed-policies.js';
import type { CredentialDirectory } from './credential-directory.js';
import type { IamRepository } from './iam-repository.js';

/** Access keys a user may have at once (AWS's quota). */
const KEYS_PER_USER = 2;
/** Largest documents, in characters without whitespace (AWS's quotas). */
const MAX_CHARS: Record<'userInline' | 'groupInline' | 'roleInline' | 'managed' | 'trust', number> =
  {
    userInline: 2048,
    groupInline: 5120,
    roleInline: 10_240,
    managed: 6144,
    trust: 2048,
  };

export interface IamServiceOptions {
  readonly repository: IamRepository;
  readonly accountId: string;
  readonly clock: Clock;
  /** The keys the server accepts: users' active keys are added and removed here. */
  readonly directory: CredentialDirectory;
  /** Called after every change to users, roles or policies (cached decisions are dropped). */
  readonly onChange: () => void;
}

export class IamService {
  readonly #repository: IamRepository;
  readonly #account: string;
  readonly #clock: Clock;
  readonly #directory: CredentialDirectory;
  readonly #onChange: () => void;

  constructor(options: IamServiceOptions) {
    this.#repository = options.repository;
    this.#account = options.accountId;
    this.#clock = options.clock;
    this.#directory = options.directory;
    this.#onChange = options.onChange;
  }

  /** Puts every user's active keys in the directory (at start). */
  async loadKeys(): Promise<void> {
    for (const user of await this.#repository.listUsers()) {
      for (const key of await this.#repository.listAccessKeys(user.userName)) {
        if (key.status !== 'Active') continue;
        const found = await this.#repository.findAccessKey(key.accessKeyId);
        if (found !== undefined) this.#directory.addUserKey(key.accessKeyId, found.secret, user);
      }
    }
  }

  get accountId(): string {
    return this.#account;
  }

  // Users and their keys.

  async createUser(input: {
    userName?: string | undefined;
    path?: string | undefined;
  }): Promise<IamUser> {
    const userName = checkName('userName', input.userName, 64);
    const path = checkPath(input.path);
    const user: IamUser = {
      userName,
      userId: iamId('AIDA'),
      path,
      arn: iamArn.user(this.#account, path, userName),
      createDate: this.#now(),
    };
    if (!(await this.#repository.createUser(user)))
      throw iamErrors.alreadyExists(`User with name ${userName} already exists.`);
    return user;
  }

  async getUser(userName: string | undefined): Promise<IamUser> {
    const name = checkName('userName', userName, 64);
    const user = await this.#repository.getUser(name);
    if (user === undefined)
      throw iamErrors.noSuchEntity(`The user with name ${name} cannot be found.`);
    return user;
  }

  listUsers(): Promise<IamUser[]> {
    return this.#repository.listUsers();
  }

  async deleteUser(userName: string | undefined): Promise<void> {
    const user = await this.getUser(userName);
    const holder: PolicyHolder = { kind: 'user', name: user.userName };
    const [keys, inline, attached, groups] = await Promise.all([
      this.#repository.listAccessKeys(user.userName),
      this.#repository.listInlinePolicies(holder),
      this.#repository.listAttachedPolicies(holder),
      this.#repository.listGroupsForUser(user.userName),
    ]);
    if (keys.length > 0 || inline.length > 0 || attached.length > 0 || groups.length > 0)
      throw iamErrors.deleteConflict();
    await this.#repository.deleteUser(user.userName);
    this.#onChange();
  }

  /** A new key of `userName`; its secret is in this answer only. */
  async createAccessKey(userName: string | undefined): Promise<AccessKey & { secret: string }> {
    const user = await this.getUser(userName);
    const existing = await this.#repository.listAccessKeys(user.userName);
    if (existing.length >= KEYS_PER_USER)
      throw iamErrors.limitExceeded(`Cannot exceed quota for AccessKeysPerUser: ${KEYS_PER_USER}`);
    const key: AccessKey = {
      accessKeyId: iamId('AKIA', 20),
      userName: user.userName,
      status: 'Active',
      createDate: this.#now(),
    };
    const secret = newSecretAccessKey();
    await this.#repository.putAccessKey(key, secret);
    this.#directory.addUserKey(key.accessKeyId, secret, user);
    return { ...key, secret };
  }

  async listAccessKeys(userName: string | undefined): Promise<AccessKey[]> {
    const user = await this.getUser(userName);
    return this.#repository.listAccessKeys(user.userName);
  }

  async updateAccessKey(input: {
    userName?: string | undefined;
    accessKeyId?: string | undefined;
    status?: string | undefined;
  }): Promise<void> {
    const key = await this.#keyOf(input.userName, input.accessKeyId);
    if (input.status !== 'Active' && input.status !== 'Inactive')
      throw iamErrors.validation(
        `1 validation error detected: Value ${input.status === undefined ? 'null' : `'${input.status}'`} ` +
          "at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]",
      );
    await this.#repository.updateAccessKey(key.accessKeyId, input.status);
    const found = await this.#repository.findAccessKey(key.accessKeyId);
    if (input.status === 'Inactive' || found === undefined) this.#directory.remove(key.accessKeyId);
    else
      this.#directory.addUserKey(key.accessKeyId, found.secret, await this.getUser(key.userName));
  }

  async deleteAccessKey(input: {
    userName?: string | undefined;
    accessKeyId?: string | undefined;
  }): Promise<void> {
    const key = await this.#keyOf(input.userName, input.accessKeyId);
    await this.#repository.deleteAccessKey(key.accessKeyId);
    this.#directory.remove(key.accessKeyId);
  }

  async #keyOf(userName: string | undefined, accessKeyId: string | undefined): Promise<AccessKey> {
    const user = await this.getUser(userName);
    const keys = await this.#repository.listAccessKeys(user.userName);
    const key = keys.find((k) => k.accessKeyId === accessKeyId);
    if (key === undefined)
      throw iamErrors.noSuchEntity(`The Access Key with id ${accessKeyId ?? ''} cannot be found.`);
    return key;
  }

  // Groups.

  async createGroup(input: {
    groupName?: string | undefined;
    path?: string | undefined;
  }): Promise<IamGroup> {
    const groupName = checkName('groupName', input.groupName, 128);
    const path = checkPath(input.path);
    const group: IamGroup = {
      groupName,
      groupId: iamId('AGPA'),
      path,
      arn: iamArn.group(this.#account, path, groupName),
      createDate: this.#now(),
    };
    if (!(await this.#repository.createGroup(group)))
      throw iamErrors.alreadyExists(`Group with name ${groupName} already exists.`);
    return group;
  }

  async getGroup(groupName: string | undefined): Promise<IamGroup> {
    const name = checkName('groupName', groupName, 128);
    const group = await this.#repository.getGroup(name);
    if (group === undefined)
      throw iamErrors.noSuchEntity(`The group with name ${name} cannot be found.`);
    return group;
  }

  /** A group's members. */
  async usersInGroup(groupName: string | undefined): Promise<IamUser[]> {
    const group = await this.getGroup(groupName);
    const names = await this.#repository.listUsersInGroup(group.groupName);
    const users = await Promise.all(names.map((name) => this.#repository.getUser(name)));
    return users.filter((user): user is IamUser => user !== undefined);
  }

  listGroups(): Promise<IamGroup[]> {
    return this.#repository.listGroups();
  }

  async deleteGroup(groupName: string | undefined): Promise<void> {
    const group = await this.getGroup(groupName);
    const holder: PolicyHolder = { kind: 'group', name: group.groupName };
    const [members, inline, attached] = await Promise.all([
      this.#repository.listUsersInGroup(group.groupName),
      this.#repository.listInlinePolicies(holder),
      this.#repository.listAttachedPolicies(holder),
    ]);
    if (members.length > 0 || inline.length > 0 || attached.length > 0)
      throw iamErrors.deleteConflict();
    await this.#repository.deleteGroup(group.groupName);
    this.#onChange();
  }

  async addUserToGroup(groupName: string | undefined, userName: string | undefined): Promise<void> {
    const group = await this.getGroup(groupName);
    const user = await this.getUser(userName);
    await this.#repository.addUserToGroup(group.groupName, user.userName);
    this.#onChange();
  }

  async removeUserFromGroup(
    groupName: string | undefined,
    userName: string | undefined,
  ): Promise<void> {
    const group = await this.getGroup(groupName);
    const user = await this.getUser(userName);
    if (!(await this.#repository.removeUserFromGroup(group.groupName, user.userName)))
      throw iamErrors.noSuchEntity(
        `The user with name ${user.userName} cannot be found in group ${group.groupName}.`,
      );
    this.#onChange();
  }

  async groupsForUser(userName: string | undefined): Promise<IamGroup[]> {
    const user = await this.getUser(userName);
    const names = await this.#repository.listGroupsForUser(user.userName);
    const groups = await Promise.all(names.map((name) => this.#repository.getGroup(name)));
    return groups.filter((group): group is IamGroup => group !== undefined);
  }

  // Roles.

  async createRole(input: {
    roleName?: string | undefined;
    path?: string | undefined;
    assumeRolePolicyDocument?: string | undefined;
    description?: string | undefined;
    maxSessionDuration?: string | undefined;
  }): Promise<IamRole> {
    const roleName = checkName('roleName', input.roleName, 64);
    const path = checkPath(input.path);
    const document = this.#checkDocument(input.assumeRolePolicyDocument, 'trust', MAX_CHARS.trust);
    await this.#checkPrincipalsExist(document);
    const maxSessionDuration = Number(input.maxSessionDuration ?? 3600);
    if (
      !Number.isInteger(maxSessionDuration) ||
      maxSessionDuration < 3600 ||
      maxSessionDuration > 43_200
    )
      throw iamErrors.validation(
        `1 validation error detected: Value '${input.maxSessionDuration ?? ''}' at 'maxSessionDuration' ` +
          'failed to satisfy constraint: Member must have value less than or equal to 43200',
      );
    const role: IamRole = {
      roleName,
      roleId: iamId('AROA'),
      path,
      arn: iamArn.role(this.#account, path, roleName),
      assumeRolePolicyDocument: document,
      description: input.description,
      maxSessionDuration,
      createDate: this.#now(),
    };
    if (!(await this.#repository.createRole(role)))
      throw iamErrors.alreadyExists(`Role with name ${roleName} already exists.`);
    return role;
  }

  async getRole(roleName: string | undefined): Promise<IamRole> {
    const name = checkName('roleName', roleName, 64);
    const role = await this.#repository.getRole(name);
    if (role === undefined)
      throw iamErrors.noSuchEntity(`The role with name ${name} cannot be found.`);
    return role;
  }

  listRoles(): Promise<IamRole[]> {
    return this.#repository.listRoles();
  }

  async deleteRole(roleName: string | undefined): Promise<void> {
    const role = await this.getRole(roleName);
    const holder: PolicyHolder = { kind: 'role', name: role.roleName };
    const [inline, attached] = await Promise.all([
      this.#repository.listInlinePolicies(holder),
      this.#repository.listAttachedPolicies(holder),
    ]);
    if (inline.length > 0 || attached.length > 0) throw iamErrors.deleteConflict();
    await this.#repository.deleteRole(role.roleName);
    this.#directory.removeSessionsOf(role.roleName);
    this.#onChange();
  }

  async updateAssumeRolePolicy(input: {
    roleName?: string | undefined;
    policyDocument?: string | undefined;
  }): Promise<void> {
    const role = await this.getRole(input.roleName);
    const document = this.#checkDocument(input.policyDocument, 'trust', MAX_CHARS.trust);
    await this.#checkPrincipalsExist(document);
    await this.#repository.updateAssumeRolePolicy(role.roleName, document);
    this.#onChange();
  }

  // Inline policies of users and roles.

  async putInlinePolicy(
    holder: PolicyHolder,
    input: {
      policyName?: string | undefined;
      policyDocument?: string | undefined;
    },
  ): Promise<void> {
    await this.#exists(holder);
    const name = checkName('policyName', input.policyName, 128);
    // AWS's quotas: 2,048 characters for a user's inline policies, 5,120 for a group's.
    const max =
      holder.kind === 'user'
        ? MAX_CHARS.userInline
        : holder.kind === 'group'
          ? MAX_CHARS.groupInline
          : MAX_CHARS.roleInline;
    const document = this.#checkDocument(input.policyDocument, 'identity', max);
    await this.#repository.putInlinePolicy(holder, name, document);
    this.#onChange();
  }

  async getInlinePolicy(holder: PolicyHolder, policyName: string | undefined): Promise<string> {
    await this.#exists(holder);
    const name = checkName('policyName', policyName, 128);
    const document = await this.#repository.getInlinePolicy(holder, name);
    if (document === undefined)
      throw iamErrors.noSuchEntity(`The ${holder.kind} policy with name ${name} cannot be found.`);
    return document;
  }

  async listInlinePolicies(holder: PolicyHolder): Promise<string[]> {
    await this.#exists(holder);
    return this.#repository.listInlinePolicies(holder);
  }

  async deleteInlinePolicy(holder: PolicyHolder, policyName: string | undefined): Promise<void> {
    await this.#exists(holder);
    const name = checkName('policyName', policyName, 128);
    if (!(await this.#repository.deleteInlinePolicy(holder, name)))
      throw iamErrors.noSuchEntity(`The ${holder.kind} policy with name ${name} cannot be found.`);
    this.#onChange();
  }

  // Managed policies.

  async createPolicy(input: {
    policyName?: string | undefined;
    path?: string | undefined;
    policyDocument?: string | undefined;
    description?: string | undefined;
  }): Promise<ManagedPolicy> {
    const policyName = checkName('policyName', input.policyName, 128);
    const path = checkPath(input.path);
    const document = this.#checkDocument(input.policyDocument, 'identity', MAX_CHARS.managed);
    const now = this.#now();
    const policy: ManagedPolicy = {
      policyName,
      policyId: iamId('ANPA'),
      path,
      arn: iamArn.policy(this.#account, path, policyName),
      defaultVersionId: 'v1',
      description: input.description,
      createDate: now,
      updateDate: now,
      awsManaged: false,
    };
    const version: PolicyVersion = {
      versionId: 'v1',
      document,
      isDefaultVersion: true,
      createDate: now,
    };
    if (!(await this.#repository.createPolicy(policy, version)))
      throw iamErrors.alreadyExists(
        `A policy called ${policyName} already exists. Duplicate names are not allowed.`,
      );
    return policy;
  }

  async getPolicy(arn: string | undefined): Promise<ManagedPolicy & { attachmentCount: number }> {
    const policy = await this.#policy(arn);
    return { ...policy, attachmentCount: await this.#repository.attachmentCount(policy.arn) };
  }

  async getPolicyVersion(
    arn: string | undefined,
    versionId: string | undefined,
  ): Promise<PolicyVersion> {
    const policy = await this.#policy(arn);
    const builtIn = AWS_MANAGED_POLICIES.find((p) => p.policy.arn === policy.arn);
    const version =
      builtIn !== undefined && builtIn.version.versionId === versionId
        ? builtIn.version
        : await this.#repository.getPolicyVersion(policy.arn, versionId ?? '');
    if (version === undefined)
      throw iamErrors.noSuchEntity(
        `Policy ${policy.arn} version ${versionId ?? ''} does not exist or is not attachable.`,
      );
    return version;
  }

  /** `scope`: `All` (default), `AWS` or `Local`; `onlyAttached`: only policies attached somewhere. */
  async listPolicies(input: {
    scope?: string | undefined;
    onlyAttached?: string | undefined;
  }): Promise<Array<ManagedPolicy & { attachmentCount: number }>> {
    const scope = input.scope ?? 'All';
    const local = scope === 'AWS' ? [] : await this.#repository.listPolicies();
    const aws = scope === 'Local' ? [] : AWS_MANAGED_POLICIES.map((p) => p.policy);
    const all = await Promise.all(
      [...aws, ...local].map(async (p) => ({
        ...p,
        attachmentCount: await this.#repository.attachmentCount(p.arn),
      })),
    );
    return input.onlyAttached === 'true' ? all.filter((p) => p.attachmentCount > 0) : all;
  }

  async deletePolicy(arn: string | undefined): Promise<void> {
    const policy = await this.#policy(arn);
    if (policy.awsManaged) throw iamErrors.invalidInput('Cannot delete a policy managed by AWS.');
    if ((await this.#repository.attachmentCount(policy.arn)) > 0) throw iamErrors.deleteConflict();
    await this.#repository.deletePolicy(policy.arn);
    this.#onChange();
  }

  async attachPolicy(holder: PolicyHolder, arn: string | undefined): Promise<void> {
    await this.#exists(holder);
    const policy = await this.#policy(arn, 'attach');
    await this.#repository.attachPolicy(holder, policy.arn);
    this.#onChange();
  }

  async detachPolicy(holder: PolicyHolder, arn: string | undefined): Promise<void> {
    await this.#exists(holder);
    const policy = await this.#policy(arn);
    if (!(await this.#repository.detachPolicy(holder, policy.arn)))
      throw iamErrors.noSuchEntity(`Policy ${policy.arn} was not found.`);
    this.#onChange();
  }

  async listAttachedPolicies(holder: PolicyHolder): Promise<ManagedPolicy[]> {
    await this.#exists(holder);
    const arns = await this.#repository.listAttachedPolicies(holder);
    const policies = await Promise.all(arns.map((arn) => this.#policy(arn)));
    return policies;
  }

  /**
   * The documents of a user's (with its groups'), group's or role's policies, inline and
   * attached (for authorization).
   */
  async documentsOf(holder: PolicyHolder): Promise<string[]> {
    const own = await this.#ownDocuments(holder);
    if (holder.kind !== 'user') return own;
    const groups = await this.#repository.listGroupsForUser(holder.name);
    const inherited = await Promise.all(
      groups.map((name) => this.#ownDocuments({ kind: 'group', name })),
    );
    return [...own, ...inherited.flat()];
  }

  async #ownDocuments(holder: PolicyHolder): Promise<string[]> {
    const [inlineNames, attached] = await Promise.all([
      this.#repository.listInlinePolicies(holder),
      this.#repository.listAttachedPolicies(holder),
    ]);
    const inline = await Promise.all(
      inlineNames.map((name) => this.#repository.getInlinePolicy(holder, name)),
    );
    const managed = await Promise.all(
      attached.map(async (arn) => {
        const policy = await this.#policy(arn);
        return (await this.getPolicyVersion(policy.arn, policy.defaultVersionId)).document;
      }),
    );
    return [...inline.filter((d): d is string => d !== undefined), ...managed];
  }

  async #policy(
    arn: string | undefined,
    purpose: 'read' | 'attach' = 'read',
  ): Promise<ManagedPolicy> {
    if (arn === undefined || !/^arn:aws:iam::(?:aws|\d{12}):policy\//.test(arn))
      throw iamErrors.invalidInput(`ARN ${arn ?? ''} is not valid.`);
    const builtIn = AWS_MANAGED_POLICIES.find((p) => p.policy.arn === arn);
    const policy = builtIn?.policy ?? (await this.#repository.getPolicy(arn));
    if (policy === undefined)
      throw iamErrors.noSuchEntity(
        purpose === 'attach'
          ? `Policy ${arn} does not exist or is not attachable.`
          : `Policy ${arn} was not found.`,
      );
    return policy;
  }

  async #exists(holder: PolicyHolder): Promise<void> {
    if (holder.kind === 'user') await this.getUser(holder.name);
    else if (holder.kind === 'group') await this.getGroup(holder.name);
    else await this.getRole(holder.name);
  }

  /**
   * A trust policy may only name users and roles of this account that exist (AWS checks, and
   * refuses the document as malformed).
   */
  async #checkPrincipalsExist(document: string): Promise<void> {
    const parsed = JSON.parse(document) as { Statement?: unknown };
    const statements = Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement];
    for (const statement of statements as Array<{ Principal?: unknown } | undefined>) {
      const principal = statement?.Principal;
      if (typeof principal !== 'object' || principal === null) continue;
      const aws = (principal as { AWS?: unknown }).AWS;
      for (const name of Array.isArray(aws) ? aws : [aws]) {
        if (typeof name !== 'string') continue;
        const match = /^arn:aws[a-zA-Z-]*:iam::(\d{12}):(user|role)\/(?:.*\/)?([^/]+)$/.exec(name);
        if (match === null || match[1] !== this.#account) continue;
        const found =
          match[2] === 'user'
            ? await this.#repository.getUser(match[3] ?? '')
            : await this.#repository.getRole(match[3] ?? '');
        if (found?.arn !== name)
          throw iamErrors.malformedPolicy(`Invalid principal in policy: "AWS":"${name}"`);
      }
    }
  }

  /** The document as sent, once it compiles and fits; AWS's MalformedPolicyDocument otherwise. */
  #checkDocument(document: string | undefined, kind: PolicyKind, maxChars: number): string {
    if (document === undefined || document === '')
      throw iamErrors.validation(
        "1 validation error detected: Value null at 'policyDocument' failed to satisfy constraint: Member must not be null",
      );
    if (document.replace(/\s/g, '').length > maxChars)
      throw iamErrors.limitExceeded(`Cannot exceed quota for PolicySize: ${maxChars}`);
    try {
      compilePolicy(document, kind);
    } catch (error) {
      if (error instanceof PolicySyntaxError) throw iamErrors.malformedPolicy(error.message);
      throw error;
    }
    return document;
  }

  #now(): Date {
    // IAM's dates have whole seconds.
    return new Date(Math.floor(this.#clock.now() / 1000) * 1000);
  }
}
