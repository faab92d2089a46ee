/** Where IAM's users, keys, roles and policies are kept (the port the store implements). */
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

export interface IamRepository {
  /** False when a user of that name exists. */
  createUser(user: IamUser): Promise<boolean>;
  getUser(userName: string): Promise<IamUser | undefined>;
  listUsers(): Promise<IamUser[]>;
  deleteUser(userName: string): Promise<void>;

  /** Stores a key with its secret (kept encrypted). */
  putAccessKey(key: AccessKey, secret: string): Promise<void>;
  listAccessKeys(userName: string): Promise<AccessKey[]>;
  /** A key and its secret, by id. */
  findAccessKey(accessKeyId: string): Promise<{ key: AccessKey; secret: string } | undefined>;
  updateAccessKey(accessKeyId: string, status: AccessKeyStatus): Promise<void>;
  deleteAccessKey(accessKeyId: string): Promise<void>;

  /** False when a group of that name exists. */
  createGroup(group: IamGroup): Promise<boolean>;
  getGroup(groupName: string): Promise<IamGroup | undefined>;
  listGroups(): Promise<IamGroup[]>;
  deleteGroup(groupName: string): Promise<void>;
  addUserToGroup(groupName: string, userName: string): Promise<void>;
  /** False when the user was not in the group. */
  removeUserFromGroup(groupName: string, userName: string): Promise<boolean>;
  listGroupsForUser(userName: string): Promise<string[]>;
  listUsersInGroup(groupName: string): Promise<string[]>;

  /** False when a role of that name exists. */
  createRole(role: IamRole): Promise<boolean>;
  getRole(roleName: string): Promise<IamRole | undefined>;
  listRoles(): Promise<IamRole[]>;
  deleteRole(roleName: string): Promise<void>;
  updateAssumeRolePolicy(roleName: string, document: string): Promise<void>;

  putInlinePolicy(holder: PolicyHolder, policyName: string, document: string): Promise<void>;
  getInlinePolicy(holder: PolicyHolder, policyName: string): Promise<string | undefined>;
  listInlinePolicies(holder: PolicyHolder): Promise<string[]>;
  /** False when there was none. */
  deleteInlinePolicy(holder: PolicyHolder, policyName: string): Promise<boolean>;

  /** False when a policy with that ARN exists. */
  createPolicy(policy: ManagedPolicy, version: PolicyVersion): Promise<boolean>;
  getPolicy(arn: string): Promise<ManagedPolicy | undefined>;
  getPolicyVersion(arn: string, versionId: string): Promise<PolicyVersion | undefined>;
  listPolicies(): Promise<ManagedPolicy[]>;
  deletePolicy(arn: string): Promise<void>;

  attachPolicy(holder: PolicyHolder, policyArn: string): Promise<void>;
  /** False when it was not attached. */
  detachPolicy(holder: PolicyHolder, policyArn: string): Promise<boolean>;
  listAttachedPolicies(holder: PolicyHolder): Promise<string[]>;
  attachmentCount(policyArn: string): Promise<number>;
}
