/**
 * The execution roles test functions name (`lambda-role`, `r`): made on a test server before its
 * tests run, trusting Lambda and allowed what functions could do before roles were checked
 * (AWSLambda_FullAccess), so that tests about other things keep their functions' powers.
 */
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  EntityAlreadyExistsException,
  IAMClient,
} from '@aws-sdk/client-iam';
import { LAMBDA_TRUST } from '../../src/iam/execution-roles.js';
import type { IamService } from '../../src/iam/iam-service.js';

export const TEST_ROLE_NAMES = ['lambda-role', 'r'] as const;

const FULL_ACCESS = 'arn:aws:iam::aws:policy/AWSLambda_FullAccess';

/** A trust policy letting the account's own principals (their policies permitting) assume a role. */
export function accountTrust(account: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${account}:root` },
        Action: 'sts:AssumeRole',
      },
    ],
  });
}

/** Through the IAM API of a running server. */
export async function ensureTestRoles(
  endpoint: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
): Promise<void> {
  const iam = new IAMClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  try {
    for (const name of TEST_ROLE_NAMES) {
      try {
        await iam.send(
          new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: LAMBDA_TRUST }),
        );
      } catch (error) {
        if (!(error instanceof EntityAlreadyExistsException)) throw error;
      }
      await iam.send(new AttachRolePolicyCommand({ RoleName: name, PolicyArn: FULL_ACCESS }));
    }
  } finally {
    iam.destroy();
  }
}

/** Straight through the service of a server built in the test's process. */
export async function grantTestRoles(iam: IamService): Promise<void> {
  for (const name of TEST_ROLE_NAMES) {
    if ((await iam.getRole(name).catch(() => undefined)) === undefined)
      await iam.createRole({ roleName: name, assumeRolePolicyDocument: LAMBDA_TRUST });
    await iam.attachPolicy({ kind: 'role', name }, FULL_ACCESS);
  }
}
