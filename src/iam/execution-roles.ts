/**
 * Functions' execution roles: a function may only name a role that exists and whose trust policy
 * lets Lambda (`lambda.amazonaws.com`) assume it; its own credentials act as a session of that
 * role (session name: the function's name). Roles named by functions made before roles were
 * checked are created at start (see `provision`).
 */
import { lambdaErrors } from '../core/errors.js';
import { iamArn, type IamRole } from '../core/iam-model.js';
import { policyAllows } from '../core/policy-evaluation.js';
import type { Authorizer } from './authorizer.js';
import type { Caller } from './credential-directory.js';
import type { IamService } from './iam-service.js';

const LAMBDA = 'lambda.amazonaws.com';
const CANNOT_ASSUME = 'The role defined for the function cannot be assumed by Lambda.';
/** A trust policy that lets Lambda assume a role (that of roles made for existing functions). */
export const LAMBDA_TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: LAMBDA }, Action: 'sts:AssumeRole' }],
});
const BASIC_EXECUTION = 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';
const LAMBDA_FULL_ACCESS = 'arn:aws:iam::aws:policy/AWSLambda_FullAccess';

export class ExecutionRoles {
  readonly #iam: IamService;
  readonly #authorizer: Authorizer;

  constructor(iam: IamService, authorizer: Authorizer) {
    this.#iam = iam;
    this.#authorizer = authorizer;
  }

  /** Refuses (AWS's InvalidParameterValueException) a role Lambda could not assume. */
  async check(roleArn: string): Promise<void> {
    const role = await this.#role(roleArn);
    if (role === undefined || !this.#trustsLambda(role))
      throw lambdaErrors.invalidParameter(CANNOT_ASSUME);
  }

  /** The caller a function's own credentials are: a session of its role, named after it. */
  async callerOf(functionName: string, roleArn: string): Promise<Caller> {
    const role = await this.#role(roleArn);
    const account = this.#iam.accountId;
    const roleName = role?.roleName ?? roleArn.slice(roleArn.lastIndexOf('/') + 1);
    return {
      kind: 'session',
      // A role gone since: a session of a role with no policies, which may do nothing.
      roleName: role === undefined ? `\u0000missing:${roleArn}` : role.roleName,
      principal: {
        arn: iamArn.assumedRole(account, roleName, functionName),
        account,
        roleArn,
      },
      userId: `${role?.roleId ?? 'AROAUNKNOWN'}:${functionName}`,
      sessionPolicy: undefined,
    };
  }

  /**
   * Makes the roles that functions name and that do not exist (their ARN in this account), each
   * trusting Lambda and holding AWSLambdaBasicExecutionRole, and AWSLambda_FullAccess too when
   * `fullAccess` (what such functions' credentials could do before). Answers the roles it made.
   */
  async provision(roleArns: Iterable<string>, fullAccess: boolean): Promise<string[]> {
    const made: string[] = [];
    for (const arn of new Set(roleArns)) {
      const parsed = parseRoleArn(arn);
      if (parsed === undefined || parsed.account !== this.#iam.accountId) continue;
      if ((await this.#role(arn)) !== undefined) continue;
      const role = await this.#iam.createRole({
        roleName: parsed.name,
        path: parsed.path,
        assumeRolePolicyDocument: LAMBDA_TRUST,
        description: 'Made by Lamina for functions that named it before roles were checked',
      });
      const holder = { kind: 'role', name: role.roleName } as const;
      await this.#iam.attachPolicy(holder, BASIC_EXECUTION);
      if (fullAccess) await this.#iam.attachPolicy(holder, LAMBDA_FULL_ACCESS);
      made.push(role.arn);
    }
    return made;
  }

  async #role(roleArn: string): Promise<IamRole | undefined> {
    const parsed = parseRoleArn(roleArn);
    if (parsed === undefined || parsed.account !== this.#iam.accountId) return undefined;
    const role = await this.#iam.getRole(parsed.name).catch(() => undefined);
    return role?.arn === roleArn ? role : undefined;
  }

  #trustsLambda(role: IamRole): boolean {
    const trust = this.#authorizer.compile(role.assumeRolePolicyDocument, 'trust');
    const account = this.#iam.accountId;
    return (
      policyAllows(trust, {
        principal: { arn: LAMBDA, account, service: LAMBDA },
        action: 'sts:AssumeRole',
        resource: role.arn,
      }) === 'allow'
    );
  }
}

/** `arn:aws:iam::<account>:role/<path/><name>` as its parts. */
function parseRoleArn(arn: string): { account: string; path: string; name: string } | undefined {
  const match =
    /^arn:aws[a-zA-Z-]*:iam::(\d{12}):role(\/(?:[\u0021-\u007E]*\/)?)([\w+=,.@-]+)$/.exec(arn);
  if (match === null) return undefined;
  return { account: match[1] ?? '', path: match[2] ?? '/', name: match[3] ?? '' };
}
