/**
 * STS: who a caller is (GetCallerIdentity, which needs no permission), and temporary credentials
 * of a role (AssumeRole) for callers the role's trust policy and their own policies allow.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { iamArn, iamErrors, iamId, newSecretAccessKey, QueryApiError } from '../core/iam-model.js';
import type { Authorizer } from './authorizer.js';
import type { Caller, CredentialDirectory } from './credential-directory.js';
import type { IamService } from './iam-service.js';

export interface AssumedRole {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
  readonly assumedRoleId: string;
  readonly arn: string;
}

const SESSION_NAME_RE = /^[\w+=,.@-]{2,64}$/;
/** A session policy's size (AWS's packed-policy limit, approximately). */
const SESSION_POLICY_MAX_CHARS = 2048;
/** Live role sessions a server keeps at most (each holds memory until it expires). */
const MAX_SESSIONS = 50_000;

export class StsService {
  readonly #iam: IamService;
  readonly #directory: CredentialDirectory;
  readonly #authorizer: Authorizer;
  readonly #clock: Clock;

  constructor(options: {
    iam: IamService;
    directory: CredentialDirectory;
    authorizer: Authorizer;
    clock: Clock;
  }) {
    this.#iam = options.iam;
    this.#directory = options.directory;
    this.#authorizer = options.authorizer;
    this.#clock = options.clock;
  }

  getCallerIdentity(caller: Caller): { userId: string; account: string; arn: string } {
    return { userId: caller.userId, account: caller.principal.account, arn: caller.principal.arn };
  }

  async assumeRole(
    caller: Caller,
    input: {
      roleArn?: string | undefined;
      roleSessionName?: string | undefined;
      durationSeconds?: string | undefined;
      policy?: string | undefined;
    },
    sourceIp: string | undefined,
  ): Promise<AssumedRole> {
    const sessionName = input.roleSessionName ?? '';
    if (!SESSION_NAME_RE.test(sessionName))
      throw iamErrors.validation(
        `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy ` +
          'constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*',
      );
    const roleName = /^arn:aws:iam::\d{12}:role\/(?:.*\/)?([^/]+)$/.exec(input.roleArn ?? '')?.[1];
    if (roleName === undefined) throw iamErrors.validation(`${input.roleArn ?? ''} is invalid`);
    const role = await this.#iam.getRole(roleName).catch(() => undefined);
    if (role === undefined || role.arn !== input.roleArn)
      throw iamErrors.accessDenied(
        `User: ${caller.principal.arn} is not authorized to perform: sts:AssumeRole on resource: ${input.roleArn ?? ''}`,
      );
    const duration = Number(input.durationSeconds ?? 3600);
    if (!Number.isInteger(duration) || duration < 900 || duration > role.maxSessionDuration)
      throw iamErrors.validation(
        `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`,
      );
    if (input.policy !== undefined) {
      // AWS's limit is on the packed policy; its whitespace-free length is the measure here.
      if (input.policy.replace(/\s/g, '').length > SESSION_POLICY_MAX_CHARS)
        throw new QueryApiError(
          'PackedPolicyTooLarge',
          400,
          `Packed policy consumes more than ${SESSION_POLICY_MAX_CHARS} characters, the allotted space.`,
        );
      this.#authorizer.checkSessionPolicy(input.policy);
    }
    await this.#authorizer.authorizeAssumeRole(caller, role, sourceIp);
    if (this.#directory.sessionCount() >= MAX_SESSIONS)
      throw iamErrors.limitExceeded(
        `Cannot exceed ${MAX_SESSIONS} live role sessions on this server; try again when some have expired.`,
      );
    const expiresMs = Math.floor(this.#clock.now() / 1000) * 1000 + duration * 1000;
    const credentials = {
      accessKeyId: iamId('ASIA', 20),
      secretAccessKey: newSecretAccessKey(),
      sessionToken: randomBytes(96).toString('base64'),
    };
    this.#directory.addSession(credentials.accessKeyId, credentials.secretAccessKey, {
      sessionToken: credentials.sessionToken,
      expiresMs,
      roleName: role.roleName,
      roleArn: role.arn,
      roleId: role.roleId,
      sessionName,
      sessionPolicy: input.policy,
    });
    return {
      ...credentials,
      expiration: new Date(expiresMs),
      assumedRoleId: `${role.roleId}:${sessionName}`,
      arn: iamArn.assumedRole(caller.principal.account, role.roleName, sessionName),
    };
  }
}
