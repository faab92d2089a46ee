/**
 * The IAM entities Lamina keeps (users, access keys, roles, policies) and the rules on their names,
 * paths, identifiers and ARNs, as AWS's IAM and STS have them (see docs/guide/identity.md).
 */
import { randomBytes, randomInt } from 'node:crypto';

export interface IamUser {
  readonly userName: string;
  readonly userId: string;
  readonly path: string;
  readonly arn: string;
  readonly createDate: Date;
}

export type AccessKeyStatus = 'Active' | 'Inactive';

export interface AccessKey {
  readonly accessKeyId: string;
  readonly userName: string;
  readonly status: AccessKeyStatus;
  readonly createDate: Date;
}

export interface IamRole {
  readonly roleName: string;
  readonly roleId: string;
  readonly path: string;
  readonly arn: string;
  readonly assumeRolePolicyDocument: string;
  readonly description: string | undefined;
  readonly maxSessionDuration: number;
  readonly createDate: Date;
}

export interface ManagedPolicy {
  readonly policyName: string;
  readonly policyId: string;
  readonly path: string;
  readonly arn: string;
  readonly defaultVersionId: string;
  readonly description: string | undefined;
  readonly createDate: Date;
  readonly updateDate: Date;
  /** AWS's own (`arn:aws:iam::aws:policy/…`): read-only. */
  readonly awsManaged: boolean;
}

export interface PolicyVersion {
  readonly versionId: string;
  readonly document: string;
  readonly isDefaultVersion: boolean;
  readonly createDate: Date;
}

/** Who an inline or attached policy belongs to. */
export type PolicyHolder = { readonly kind: 'user' | 'group' | 'role'; readonly name: string };

export interface IamGroup {
  readonly groupName: string;
  readonly groupId: string;
  readonly path: string;
  readonly arn: string;
  readonly createDate: Date;
}

/** An error of the IAM or STS Query API: AWS's code, HTTP status and message. */
export class QueryApiError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const iamErrors = {
  noSuchEntity: (message: string) => new QueryApiError('NoSuchEntity', 404, message),
  alreadyExists: (message: string) => new QueryApiError('EntityAlreadyExists', 409, message),
  deleteConflict: (message = 'Cannot delete entity, must remove referenced objects first.') =>
    new QueryApiError('DeleteConflict', 409, message),
  limitExceeded: (message: string) => new QueryApiError('LimitExceeded', 409, message),
  malformedPolicy: (message: string) => new QueryApiError('MalformedPolicyDocument', 400, message),
  invalidInput: (message: string) => new QueryApiError('InvalidInput', 400, message),
  validation: (message: string) => new QueryApiError('ValidationError', 400, message),
  accessDenied: (message: string) => new QueryApiError('AccessDenied', 403, message),
};

/** IAM's name pattern for users, roles and policies (`[\w+=,.@-]+`). */
const NAME_RE = /^[\w+=,.@-]+$/;
/** A path: `/`, or `/` + printable ASCII + `/`. */
const PATH_RE = /^(?:\/|\/[\u0021-\u007E]+\/)$/;

/**
 * Checks a name as IAM does; the message is AWS's validation wording
 * (`1 validation error detected: Value 'x' at 'userName' failed to satisfy constraint: …`).
 */
export function checkName(field: string, value: string | undefined, max: number): string {
  if (value === undefined || value === '')
    throw iamErrors.validation(
      `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  if (value.length > max)
    throw iamErrors.validation(
      `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: ` +
        `Member must have length less than or equal to ${max}`,
    );
  if (!NAME_RE.test(value))
    throw iamErrors.validation(
      `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: ` +
        'Member must satisfy regular expression pattern: [\\w+=,.@-]+',
    );
  return value;
}

export function checkPath(value: string | undefined): string {
  if (value === undefined) return '/';
  if (value.length > 512 || !PATH_RE.test(value))
    throw iamErrors.validation(
      `1 validation error detected: Value '${value}' at 'path' failed to satisfy constraint: ` +
        'Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)',
    );
  return value;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A unique id with IAM's prefix: `AIDA` user, `AGPA` group, `AROA` role, `ANPA` policy, `AKIA`/`ASIA` keys. */
export function iamId(
  prefix: 'AIDA' | 'AGPA' | 'AROA' | 'ANPA' | 'AKIA' | 'ASIA',
  length = 21,
): string {
  let id = prefix;
  while (id.length < length) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}

/** A secret access key: 40 characters of base64. */
export function newSecretAccessKey(): string {
  return randomBytes(30).toString('base64');
}

export const iamArn = {
  root: (account: string) => `arn:aws:iam::${account}:root`,
  user: (account: string, path: string, name: string) =>
    `arn:aws:iam::${account}:user${path}${name}`,
  group: (account: string, path: string, name: string) =>
    `arn:aws:iam::${account}:group${path}${name}`,
  role: (account: string, path: string, name: string) =>
    `arn:aws:iam::${account}:role${path}${name}`,
  policy: (account: string, path: string, name: string) =>
    `arn:aws:iam::${account}:policy${path}${name}`,
  assumedRole: (account: string, role: string, session: string) =>
    `arn:aws:sts::${account}:assumed-role/${role}/${session}`,
};
