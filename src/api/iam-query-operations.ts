/**
 * The IAM and STS operations Lamina serves, as one table: each names the IAM action a caller needs
 * (and on which resource) and turns the request's parameters into the service call and its answer
 * in AWS's XML shape (see docs/guide/identity.md).
 */
import {
  iamArn,
  iamErrors,
  QueryApiError,
  type AccessKey,
  type IamGroup,
  type IamRole,
  type IamUser,
  type ManagedPolicy,
  type PolicyHolder,
} from '../core/iam-model.js';
import type { Authorizer } from '../iam/authorizer.js';
import type { Caller } from '../iam/credential-directory.js';
import type { IamService } from '../iam/iam-service.js';
import type { StsService } from '../iam/sts-service.js';
import {
  QUERY_VERSIONS,
  type QueryParams,
  type QueryService,
  type QueryValue,
} from './query-protocol.js';

/** What the operations use. */
export interface IdentityApi {
  readonly iam: IamService;
  readonly sts: StsService;
  readonly authorizer: Authorizer;
}

export interface QueryCall {
  readonly api: IdentityApi;
  readonly params: QueryParams;
  readonly caller: Caller;
  readonly sourceIp: string | undefined;
}

type Result = Record<string, QueryValue> | undefined;

interface Operation {
  readonly service: QueryService;
  /**
   * The resource the IAM action is checked on (undefined: the operation needs no permission, as
   * GetCallerIdentity, or checks its own, as AssumeRole).
   */
  readonly resource?: (call: QueryCall) => Promise<string> | string;
  readonly run: (call: QueryCall) => Promise<Result> | Result;
}

const userXml = (user: IamUser) => ({
  Path: user.path,
  UserName: user.userName,
  UserId: user.userId,
  Arn: user.arn,
  CreateDate: user.createDate,
});

const roleXml = (role: IamRole, detail: 'create' | 'get' | 'list') => ({
  Path: role.path,
  RoleName: role.roleName,
  RoleId: role.roleId,
  Arn: role.arn,
  CreateDate: role.createDate,
  AssumeRolePolicyDocument: encodeURIComponent(role.assumeRolePolicyDocument),
  Description: role.description,
  MaxSessionDuration: detail === 'create' ? undefined : role.maxSessionDuration,
  RoleLastUsed: detail === 'get' ? {} : undefined,
});

const policyXml = (policy: ManagedPolicy & { attachmentCount?: number }) => ({
  PolicyName: policy.policyName,
  PolicyId: policy.policyId,
  Arn: policy.arn,
  Path: policy.path,
  DefaultVersionId: policy.defaultVersionId,
  AttachmentCount: policy.attachmentCount ?? 0,
  PermissionsBoundaryUsageCount: 0,
  IsAttachable: true,
  Description: policy.description,
  CreateDate: policy.createDate,
  UpdateDate: policy.updateDate,
});

const keyXml = (key: AccessKey) => ({
  UserName: key.userName,
  AccessKeyId: key.accessKeyId,
  Status: key.status,
  CreateDate: key.createDate,
});

/** `MaxItems` (default 100) and `Marker` (where the previous page stopped). */
function page<T>(items: readonly T[], params: QueryParams): { items: T[]; more: Result } {
  const max = Number(params.get('MaxItems') ?? 100);
  if (!Number.isInteger(max) || max < 1 || max > 1000)
    throw iamErrors.validation(
      `1 validation error detected: Value '${params.get('MaxItems') ?? ''}' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000`,
    );
  const start = Number(params.get('Marker') ?? 0);
  if (!Number.isInteger(start) || start < 0) throw iamErrors.invalidInput('Invalid Marker.');
  const slice = items.slice(start, start + max);
  const truncated = start + max < items.length;
  return {
    items: slice,
    more: { IsTruncated: truncated, Marker: truncated ? String(start + max) : undefined },
  };
}

/** The user an operation is about: its `UserName`, or the calling user's own. */
function userNameOf(call: QueryCall): string {
  const name = call.params.get('UserName');
  if (name !== undefined) return name;
  if (call.caller.kind === 'user') return call.caller.userName;
  throw iamErrors.validation('Must specify userName when calling with non-User credentials');
}

async function userArn(call: QueryCall): Promise<string> {
  const name = userNameOf(call);
  const user = await call.api.iam.getUser(name).catch(() => undefined);
  return user?.arn ?? iamArn.user(call.api.iam.accountId, '/', name);
}

async function roleArn(call: QueryCall): Promise<string> {
  const name = call.params.get('RoleName') ?? '';
  const role = await call.api.iam.getRole(name).catch(() => undefined);
  return role?.arn ?? iamArn.role(call.api.iam.accountId, '/', name);
}

const policyArn = (call: QueryCall) => call.params.get('PolicyArn') ?? '*';

async function groupArn(call: QueryCall): Promise<string> {
  const name = call.params.get('GroupName') ?? '';
  const group = await call.api.iam.getGroup(name).catch(() => undefined);
  return group?.arn ?? iamArn.group(call.api.iam.accountId, '/', name);
}

const groupXml = (group: IamGroup) => ({
  Path: group.path,
  GroupName: group.groupName,
  GroupId: group.groupId,
  Arn: group.arn,
  CreateDate: group.createDate,
});

const group = (call: QueryCall): PolicyHolder => ({
  kind: 'group',
  name: call.params.get('GroupName') ?? '',
});
const user = (call: QueryCall): PolicyHolder => ({ kind: 'user', name: userNameOf(call) });
const role = (call: QueryCall): PolicyHolder => ({
  kind: 'role',
  name: call.params.get('RoleName') ?? '',
});
const everything = () => '*';

/** Put/Get/Delete/List inline policies, for users or roles. */
function inlineOperations(
  kind: 'User' | 'Group' | 'Role',
  holder: (call: QueryCall) => PolicyHolder,
  arn: (call: QueryCall) => Promise<string>,
): Record<string, Operation> {
  const nameField = `${kind}Name`;
  return {
    [`Put${kind}Policy`]: {
      service: 'iam',
      resource: arn,
      run: async ({ api, params, ...call }) => {
        await api.iam.putInlinePolicy(holder({ api, params, ...call }), {
          policyName: params.get('PolicyName'),
          policyDocument: params.get('PolicyDocument'),
        });
        return undefined;
      },
    },
    [`Get${kind}Policy`]: {
      service: 'iam',
      resource: arn,
      run: async (call) => {
        const of = holder(call);
        const name = call.params.get('PolicyName');
        const document = await call.api.iam.getInlinePolicy(of, name);
        return {
          [nameField]: of.name,
          PolicyName: name,
          PolicyDocument: encodeURIComponent(document),
        };
      },
    },
    [`Delete${kind}Policy`]: {
      service: 'iam',
      resource: arn,
      run: async (call) => {
        await call.api.iam.deleteInlinePolicy(holder(call), call.params.get('PolicyName'));
        return undefined;
      },
    },
    [`List${kind}Policies`]: {
      service: 'iam',
      resource: arn,
      run: async (call) => {
        const { items, more } = page(
          await call.api.iam.listInlinePolicies(holder(call)),
          call.params,
        );
        return { PolicyNames: items, ...more };
      },
    },
    [`Attach${kind}Policy`]: {
      service: 'iam',
      resource: arn,
      run: async (call) => {
        await call.api.iam.attachPolicy(holder(call), call.params.get('PolicyArn'));
        return undefined;
      },
    },
    [`Detach${kind}Policy`]: {
      service: 'iam',
      resource: arn,
      run: async (call) => {
        await call.api.iam.detachPolicy(holder(call), call.params.get('PolicyArn'));
        return undefined;
      },
    },
    [`ListAttached${kind}Policies`]: {
      service: 'iam',
      resource: arn,
      run: async (call) => {
        const attached = await call.api.iam.listAttachedPolicies(holder(call));
        const { items, more } = page(attached, call.params);
        return {
          AttachedPolicies: items.map((p) => ({ PolicyName: p.policyName, PolicyArn: p.arn })),
          ...more,
        };
      },
    },
  };
}

export const QUERY_OPERATIONS: Readonly<Record<string, Operation>> = {
  CreateUser: {
    service: 'iam',
    resource: (call) =>
      iamArn.user(
        call.api.iam.accountId,
        call.params.get('Path') ?? '/',
        call.params.get('UserName') ?? '',
      ),
    run: async ({ api, params }) => ({
      User: userXml(
        await api.iam.createUser({ userName: params.get('UserName'), path: params.get('Path') }),
      ),
    }),
  },
  GetUser: {
    service: 'iam',
    resource: userArn,
    run: async (call) => ({ User: userXml(await call.api.iam.getUser(userNameOf(call))) }),
  },
  ListUsers: {
    service: 'iam',
    resource: everything,
    run: async ({ api, params }) => {
      const { items, more } = page(await api.iam.listUsers(), params);
      return { Users: items.map(userXml), ...more };
    },
  },
  DeleteUser: {
    service: 'iam',
    resource: userArn,
    run: async (call) => {
      await call.api.iam.deleteUser(userNameOf(call));
      return undefined;
    },
  },
  CreateAccessKey: {
    service: 'iam',
    resource: userArn,
    run: async (call) => {
      const key = await call.api.iam.createAccessKey(userNameOf(call));
      return { AccessKey: { ...keyXml(key), SecretAccessKey: key.secret } };
    },
  },
  ListAccessKeys: {
    service: 'iam',
    resource: userArn,
    run: async (call) => {
      const { items, more } = page(
        await call.api.iam.listAccessKeys(userNameOf(call)),
        call.params,
      );
      return { AccessKeyMetadata: items.map(keyXml), ...more };
    },
  },
  UpdateAccessKey: {
    service: 'iam',
    resource: userArn,
    run: async (call) => {
      await call.api.iam.updateAccessKey({
        userName: userNameOf(call),
        accessKeyId: call.params.get('AccessKeyId'),
        status: call.params.get('Status'),
      });
      return undefined;
    },
  },
  DeleteAccessKey: {
    service: 'iam',
    resource: userArn,
    run: async (call) => {
      await call.api.iam.deleteAccessKey({
        userName: userNameOf(call),
        accessKeyId: call.params.get('AccessKeyId'),
      });
      return undefined;
    },
  },
  CreateRole: {
    service: 'iam',
    resource: (call) =>
      iamArn.role(
        call.api.iam.accountId,
        call.params.get('Path') ?? '/',
        call.params.get('RoleName') ?? '',
      ),
    run: async ({ api, params }) => ({
      Role: roleXml(
        await api.iam.createRole({
          roleName: params.get('RoleName'),
          path: params.get('Path'),
          assumeRolePolicyDocument: params.get('AssumeRolePolicyDocument'),
          description: params.get('Description'),
          maxSessionDuration: params.get('MaxSessionDuration'),
        }),
        'create',
      ),
    }),
  },
  GetRole: {
    service: 'iam',
    resource: roleArn,
    run: async ({ api, params }) => ({
      Role: roleXml(await api.iam.getRole(params.get('RoleName')), 'get'),
    }),
  },
  ListRoles: {
    service: 'iam',
    resource: everything,
    run: async ({ api, params }) => {
      const { items, more } = page(await api.iam.listRoles(), params);
      return { Roles: items.map((r) => roleXml(r, 'list')), ...more };
    },
  },
  DeleteRole: {
    service: 'iam',
    resource: roleArn,
    run: async ({ api, params }) => {
      await api.iam.deleteRole(params.get('RoleName'));
      return undefined;
    },
  },
  UpdateAssumeRolePolicy: {
    service: 'iam',
    resource: roleArn,
    run: async ({ api, params }) => {
      await api.iam.updateAssumeRolePolicy({
        roleName: params.get('RoleName'),
        policyDocument: params.get('PolicyDocument'),
      });
      return undefined;
    },
  },
  ...inlineOperations('User', user, userArn),
  ...inlineOperations('Role', role, roleArn),
  ...inlineOperations('Group', group, groupArn),
  CreateGroup: {
    service: 'iam',
    resource: (call) =>
      iamArn.group(
        call.api.iam.accountId,
        call.params.get('Path') ?? '/',
        call.params.get('GroupName') ?? '',
      ),
    run: async ({ api, params }) => ({
      Group: groupXml(
        await api.iam.createGroup({ groupName: params.get('GroupName'), path: params.get('Path') }),
      ),
    }),
  },
  GetGroup: {
    service: 'iam',
    resource: groupArn,
    run: async ({ api, params }) => {
      const found = await api.iam.getGroup(params.get('GroupName'));
      const { items, more } = page(await api.iam.usersInGroup(found.groupName), params);
      return { Group: groupXml(found), Users: items.map(userXml), ...more };
    },
  },
  ListGroups: {
    service: 'iam',
    resource: everything,
    run: async ({ api, params }) => {
      const { items, more } = page(await api.iam.listGroups(), params);
      return { Groups: items.map(groupXml), ...more };
    },
  },
  DeleteGroup: {
    service: 'iam',
    resource: groupArn,
    run: async ({ api, params }) => {
      await api.iam.deleteGroup(params.get('GroupName'));
      return undefined;
    },
  },
  AddUserToGroup: {
    service: 'iam',
    resource: groupArn,
    run: async ({ api, params }) => {
      await api.iam.addUserToGroup(params.get('GroupName'), params.get('UserName'));
      return undefined;
    },
  },
  RemoveUserFromGroup: {
    service: 'iam',
    resource: groupArn,
    run: async ({ api, params }) => {
      await api.iam.removeUserFromGroup(params.get('GroupName'), params.get('UserName'));
      return undefined;
    },
  },
  ListGroupsForUser: {
    service: 'iam',
    resource: userArn,
    run: async (call) => {
      const groups = await call.api.iam.groupsForUser(userNameOf(call));
      const { items, more } = page(groups, call.params);
      return { Groups: items.map(groupXml), ...more };
    },
  },
  CreatePolicy: {
    service: 'iam',
    resource: (call) =>
      iamArn.policy(
        call.api.iam.accountId,
        call.params.get('Path') ?? '/',
        call.params.get('PolicyName') ?? '',
      ),
    run: async ({ api, params }) => ({
      Policy: policyXml(
        await api.iam.createPolicy({
          policyName: params.get('PolicyName'),
          path: params.get('Path'),
          policyDocument: params.get('PolicyDocument'),
          description: params.get('Description'),
        }),
      ),
    }),
  },
  GetPolicy: {
    service: 'iam',
    resource: policyArn,
    run: async ({ api, params }) => ({
      Policy: policyXml(await api.iam.getPolicy(params.get('PolicyArn'))),
    }),
  },
  GetPolicyVersion: {
    service: 'iam',
    resource: policyArn,
    run: async ({ api, params }) => {
      const version = await api.iam.getPolicyVersion(
        params.get('PolicyArn'),
        params.get('VersionId'),
      );
      return {
        PolicyVersion: {
          Document: encodeURIComponent(version.document),
          VersionId: version.versionId,
          IsDefaultVersion: version.isDefaultVersion,
          CreateDate: version.createDate,
        },
      };
    },
  },
  ListPolicies: {
    service: 'iam',
    resource: everything,
    run: async ({ api, params }) => {
      const policies = await api.iam.listPolicies({
        scope: params.get('Scope'),
        onlyAttached: params.get('OnlyAttached'),
      });
      const { items, more } = page(policies, params);
      return { Policies: items.map(policyXml), ...more };
    },
  },
  DeletePolicy: {
    service: 'iam',
    resource: policyArn,
    run: async ({ api, params }) => {
      await api.iam.deletePolicy(params.get('PolicyArn'));
      return undefined;
    },
  },
  GetCallerIdentity: {
    service: 'sts',
    run: ({ api, caller }) => {
      const identity = api.sts.getCallerIdentity(caller);
      return { UserId: identity.userId, Account: identity.account, Arn: identity.arn };
    },
  },
  AssumeRole: {
    service: 'sts',
    run: async ({ api, params, caller, sourceIp }) => {
      const assumed = await api.sts.assumeRole(
        caller,
        {
          roleArn: params.get('RoleArn'),
          roleSessionName: params.get('RoleSessionName'),
          durationSeconds: params.get('DurationSeconds'),
          policy: params.get('Policy'),
        },
        sourceIp,
      );
      return {
        Credentials: {
          AccessKeyId: assumed.accessKeyId,
          SecretAccessKey: assumed.secretAccessKey,
          SessionToken: assumed.sessionToken,
          Expiration: assumed.expiration,
        },
        AssumedRoleUser: { AssumedRoleId: assumed.assumedRoleId, Arn: assumed.arn },
      };
    },
  },
};

/** Runs one operation for `caller`, authorized first. */
export async function runQueryOperation(
  service: QueryService,
  action: string | undefined,
  call: QueryCall,
): Promise<{ operation: string; result: Result }> {
  const operation = action === undefined ? undefined : QUERY_OPERATIONS[action];
  if (action === undefined || operation === undefined || operation.service !== service) {
    throw new QueryApiError(
      'InvalidAction',
      400,
      `Could not find operation ${action ?? ''} for version ${QUERY_VERSIONS[service]}`,
    );
  }
  if (operation.resource !== undefined) {
    const resource = await operation.resource(call);
    // Attaching and detaching name the policy in `iam:PolicyARN`.
    const policyArn = call.params.get('PolicyArn');
    await call.api.authorizer.authorize(
      call.caller,
      `${service}:${action}`,
      resource,
      call.sourceIp,
      policyArn !== undefined && /^(?:Attach|Detach)/.test(action)
        ? { 'iam:PolicyARN': policyArn }
        : undefined,
    );
  }
  return { operation: action, result: await operation.run(call) };
}
