/**
 * IAM and STS at the server's endpoint, driven by the real AWS CLI and the SDK's IAM and STS
 * clients: an administrator (the root key pair) creates a read-only user whose key can list
 * functions but not delete one; a role that may first not invoke and then may, assumed with STS;
 * explicit denies; a function's resource policy granting a user; an AWS_IAM function URL; AWS's
 * errors for bad input; keys deactivated take effect at once; users and keys survive a restart,
 * and the database holds no secret in the clear.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  DeleteRoleCommand,
  DetachRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteUserCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  AddPermissionCommand,
  CreateFunctionCommand,
  CreateFunctionUrlConfigCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  InvokeCommand,
  ListFunctionsCommand,
  PublishVersionCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { awsCommand } from '../helpers/aws-cli.js';
import { deploy, invokeJson } from '../helpers/functions.js';
import { failureOf, lambdaClient } from '../helpers/lambda-client.js';
import { accountTrust } from '../helpers/test-roles.js';
import { signedUrlRequest } from '../helpers/url-request.js';
import {
  startServer,
  tempDir,
  TEST_CREDENTIALS,
  type ServerProcess,
} from '../helpers/server-process.js';

const ACCOUNT = '000000000000';

interface Keys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

const clientOptions = (endpoint: string, credentials: Keys) => ({
  endpoint,
  region: 'us-east-1',
  credentials,
  maxAttempts: 1,
});

const allow = (action: string | string[], resource = '*') =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: action, Resource: resource }],
  });

describe('identity: IAM users, roles and policies, STS', () => {
  const dir = tempDir();
  const home = tempDir();
  let server: ServerProcess;
  let admin: IAMClient;
  let adminLambda: LambdaClient;
  const cli = async (args: string[], keys: Keys = TEST_CREDENTIALS) => {
    const result = await awsCommand(server.endpoint, home.path, args, {
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
      ...(keys.sessionToken === undefined ? {} : { AWS_SESSION_TOKEN: keys.sessionToken }),
    });
    return { ...result, json: () => JSON.parse(result.stdout) as Record<string, unknown> };
  };

  /** A user with a key (through the CLI, as an administrator would). */
  async function userWithKey(name: string): Promise<Keys> {
    assert.equal((await cli(['iam', 'create-user', '--user-name', name])).code, 0);
    const created = await cli(['iam', 'create-access-key', '--user-name', name]);
    assert.equal(created.code, 0, created.stderr);
    const key = created.json()['AccessKey'] as { AccessKeyId: string; SecretAccessKey: string };
    return { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey };
  }

  before(async () => {
    server = await startServer({ dataDir: dir.path });
    admin = new IAMClient(clientOptions(server.endpoint, TEST_CREDENTIALS));
    adminLambda = lambdaClient(server.endpoint);
    await deploy(adminLambda, 'target', {
      'index.js': 'exports.handler = async () => "invoked";\n',
    });
  });

  after(async () => {
    admin.destroy();
    adminLambda.destroy();
    await server.stop();
    dir.remove();
    home.remove();
  });

  test('the CLI creates a user and a key; the key knows who it is', async () => {
    const keys = await userWithKey('carol');
    const identity = await cli(['sts', 'get-caller-identity'], keys);
    assert.equal(identity.code, 0, identity.stderr);
    assert.equal(identity.json()['Arn'], `arn:aws:iam::${ACCOUNT}:user/carol`);
    assert.equal(identity.json()['Account'], ACCOUNT);
    assert.match(String(identity.json()['UserId']), /^AIDA[A-Z2-7]{17}$/);
    const root = await cli(['sts', 'get-caller-identity']);
    assert.equal(root.json()['Arn'], `arn:aws:iam::${ACCOUNT}:root`);
  });

  test('a read-only user lists functions but may not delete one', async () => {
    const keys = await userWithKey('reader');
    const lambda = lambdaClient(server.endpoint, keys);
    try {
      const denied = await failureOf(lambda.send(new ListFunctionsCommand({})));
      assert.equal(denied.name, 'AccessDeniedException');
      assert.equal(denied.status, 403);
      await admin.send(
        new AttachUserPolicyCommand({
          UserName: 'reader',
          PolicyArn: 'arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess',
        }),
      );
      const listed = await lambda.send(new ListFunctionsCommand({}));
      assert.ok(listed.Functions?.some((f) => f.FunctionName === 'target'));
      const refused = await failureOf(
        lambda.send(new DeleteFunctionCommand({ FunctionName: 'target' })),
      );
      assert.equal(refused.name, 'AccessDeniedException');
      assert.equal(
        refused.message,
        `User: arn:aws:iam::${ACCOUNT}:user/reader is not authorized to perform: lambda:DeleteFunction ` +
          `on resource: arn:aws:lambda:us-east-1:${ACCOUNT}:function:target because no ` +
          'identity-based policy allows the lambda:DeleteFunction action',
      );
      // The CLI sees the same refusal.
      const cliDelete = await cli(['lambda', 'delete-function', '--function-name', 'target'], keys);
      assert.notEqual(cliDelete.code, 0);
      assert.match(cliDelete.stderr, /AccessDeniedException/);
    } finally {
      lambda.destroy();
    }
  });

  test("a group's policies apply to its members, and only while they are members", async () => {
    const keys = await userWithKey('member');
    const run = async (args: string[]) => {
      const result = await cli(['iam', ...args]);
      assert.equal(result.code, 0, result.stderr);
      return result;
    };
    await run(['create-group', '--group-name', 'readers']);
    await run([
      'attach-group-policy',
      '--group-name',
      'readers',
      '--policy-arn',
      'arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess',
    ]);
    const lambda = lambdaClient(server.endpoint, keys);
    try {
      assert.equal(
        (await failureOf(lambda.send(new ListFunctionsCommand({})))).name,
        'AccessDeniedException',
      );
      await run(['add-user-to-group', '--group-name', 'readers', '--user-name', 'member']);
      const members = (await run(['get-group', '--group-name', 'readers'])).json()[
        'Users'
      ] as Array<{
        UserName: string;
      }>;
      assert.deepEqual(
        members.map((u) => u.UserName),
        ['member'],
      );
      assert.ok((await lambda.send(new ListFunctionsCommand({}))).Functions !== undefined);
      const conflict = await cli(['iam', 'delete-group', '--group-name', 'readers']);
      assert.match(conflict.stderr, /DeleteConflict/);
      await run(['remove-user-from-group', '--group-name', 'readers', '--user-name', 'member']);
      assert.equal(
        (await failureOf(lambda.send(new ListFunctionsCommand({})))).name,
        'AccessDeniedException',
      );
    } finally {
      lambda.destroy();
    }
  });

  test('an explicit Deny wins over an Allow', async () => {
    const keys = await userWithKey('denied');
    await admin.send(
      new PutUserPolicyCommand({
        UserName: 'denied',
        PolicyName: 'all',
        PolicyDocument: allow('lambda:*'),
      }),
    );
    await admin.send(
      new PutUserPolicyCommand({
        UserName: 'denied',
        PolicyName: 'no-list',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Deny', Action: 'lambda:List*', Resource: '*' }],
        }),
      }),
    );
    const lambda = lambdaClient(server.endpoint, keys);
    try {
      const refused = await failureOf(lambda.send(new ListFunctionsCommand({})));
      assert.match(refused.message, /with an explicit deny in an identity-based policy$/);
      const invoked = await lambda.send(new InvokeCommand({ FunctionName: 'target' }));
      assert.equal(Buffer.from(invoked.Payload ?? []).toString(), '"invoked"');
    } finally {
      lambda.destroy();
    }
  });

  test('a role without invoke rights, then with: assumed through STS', async () => {
    const keys = await userWithKey('assumer');
    await admin.send(
      new PutUserPolicyCommand({
        UserName: 'assumer',
        PolicyName: 'assume',
        PolicyDocument: allow('sts:AssumeRole', `arn:aws:iam::${ACCOUNT}:role/invoker`),
      }),
    );
    await admin.send(
      new CreateRoleCommand({
        RoleName: 'invoker',
        AssumeRolePolicyDocument: accountTrust(ACCOUNT),
      }),
    );
    const sts = new STSClient(clientOptions(server.endpoint, keys));
    const assumed = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${ACCOUNT}:role/invoker`,
        RoleSessionName: 'session-1',
      }),
    );
    sts.destroy();
    const credentials = assumed.Credentials;
    assert.ok(credentials?.AccessKeyId?.startsWith('ASIA'));
    assert.equal(
      assumed.AssumedRoleUser?.Arn,
      `arn:aws:sts::${ACCOUNT}:assumed-role/invoker/session-1`,
    );
    assert.ok((credentials?.Expiration?.getTime() ?? 0) > Date.now() + 3000 * 1000);
    const session = {
      accessKeyId: credentials?.AccessKeyId ?? '',
      secretAccessKey: credentials?.SecretAccessKey ?? '',
      sessionToken: credentials?.SessionToken ?? '',
    };
    const whoAmI = new STSClient(clientOptions(server.endpoint, session));
    const identity = await whoAmI.send(new GetCallerIdentityCommand({}));
    whoAmI.destroy();
    assert.equal(identity.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/invoker/session-1`);
    const lambda = lambdaClient(server.endpoint, session);
    try {
      const refused = await failureOf(lambda.send(new InvokeCommand({ FunctionName: 'target' })));
      assert.equal(refused.name, 'AccessDeniedException');
      await admin.send(
        new PutRolePolicyCommand({
          RoleName: 'invoker',
          PolicyName: 'invoke',
          PolicyDocument: allow(
            'lambda:InvokeFunction',
            `arn:aws:lambda:us-east-1:${ACCOUNT}:function:target`,
          ),
        }),
      );
      const invoked = await lambda.send(new InvokeCommand({ FunctionName: 'target' }));
      assert.equal(Buffer.from(invoked.Payload ?? []).toString(), '"invoked"');
      // Only that function: deleting it is still refused.
      const deleting = await failureOf(
        lambda.send(new DeleteFunctionCommand({ FunctionName: 'target' })),
      );
      assert.equal(deleting.name, 'AccessDeniedException');
    } finally {
      lambda.destroy();
    }
  });

  test("a function's resource policy lets a user invoke it without an identity policy", async () => {
    const keys = await userWithKey('guest');
    const lambda = lambdaClient(server.endpoint, keys);
    try {
      const before = await failureOf(lambda.send(new InvokeCommand({ FunctionName: 'target' })));
      assert.equal(before.name, 'AccessDeniedException');
      await adminLambda.send(
        new AddPermissionCommand({
          FunctionName: 'target',
          StatementId: 'guest',
          Action: 'lambda:InvokeFunction',
          Principal: `arn:aws:iam::${ACCOUNT}:user/guest`,
        }),
      );
      const invoked = await lambda.send(new InvokeCommand({ FunctionName: 'target' }));
      assert.equal(Buffer.from(invoked.Payload ?? []).toString(), '"invoked"');
      // The grant is for invoking only.
      const reading = await failureOf(
        lambda.send(new GetFunctionCommand({ FunctionName: 'target' })),
      );
      assert.equal(reading.name, 'AccessDeniedException');
    } finally {
      lambda.destroy();
    }
  });

  test('an AWS_IAM function URL takes a user allowed lambda:InvokeFunctionUrl, and no other', async () => {
    const url = await adminLambda.send(
      new CreateFunctionUrlConfigCommand({ FunctionName: 'target', AuthType: 'AWS_IAM' }),
    );
    const endpoint = String(url.FunctionUrl);
    const outsider = await userWithKey('url-outsider');
    const insider = await userWithKey('url-insider');
    await admin.send(
      new PutUserPolicyCommand({
        UserName: 'url-insider',
        PolicyName: 'url',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'lambda:InvokeFunctionUrl',
              Resource: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:target`,
              Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
            },
          ],
        }),
      }),
    );
    const refused = await signedUrlRequest(endpoint, {}, outsider);
    assert.equal(refused.status, 403);
    const allowed = await signedUrlRequest(endpoint, {}, insider);
    assert.equal(allowed.status, 200);
    assert.equal(allowed.body.toString(), 'invoked');
    const rootCall = await signedUrlRequest(endpoint);
    assert.equal(rootCall.status, 200);
  });

  test("a function names a role Lambda may assume, and its own credentials are that role's", async () => {
    const missing = await failureOf(
      adminLambda.send(
        new CreateFunctionCommand({
          FunctionName: 'no-role',
          Role: `arn:aws:iam::${ACCOUNT}:role/does-not-exist`,
          Runtime: 'nodejs20.x',
          Handler: 'index.handler',
          Code: { ZipFile: Buffer.from('not used') },
        }),
      ),
    );
    assert.equal(missing.name, 'InvalidParameterValueException');
    assert.equal(missing.message, 'The role defined for the function cannot be assumed by Lambda.');
    const trust = (service: string) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
      });
    await admin.send(
      new CreateRoleCommand({
        RoleName: 'for-ec2',
        AssumeRolePolicyDocument: trust('ec2.amazonaws.com'),
      }),
    );
    const wrongTrust = await failureOf(
      adminLambda.send(
        new CreateFunctionCommand({
          FunctionName: 'ec2-role',
          Role: `arn:aws:iam::${ACCOUNT}:role/for-ec2`,
          Runtime: 'nodejs20.x',
          Handler: 'index.handler',
          Code: { ZipFile: Buffer.from('not used') },
        }),
      ),
    );
    assert.equal(wrongTrust.name, 'InvalidParameterValueException');
    for (const [role, policy] of [
      ['basic-only', 'service-role/AWSLambdaBasicExecutionRole'],
      ['may-invoke', 'service-role/AWSLambdaRole'],
    ] as const) {
      await admin.send(
        new CreateRoleCommand({
          RoleName: role,
          AssumeRolePolicyDocument: trust('lambda.amazonaws.com'),
        }),
      );
      await admin.send(
        new AttachRolePolicyCommand({
          RoleName: role,
          PolicyArn: `arn:aws:iam::aws:policy/${policy}`,
        }),
      );
    }
    const source = [
      "import { LambdaClient, DeleteFunctionCommand, InvokeCommand } from '@aws-sdk/client-lambda';",
      'const lambda = new LambdaClient({});',
      'const attempt = async (command) => { try { const out = await lambda.send(command);',
      '  return out.Payload ? Buffer.from(out.Payload).toString() : "ok"; } catch (e) { return e.name; } };',
      'export const handler = async () => ({',
      "  invoke: await attempt(new InvokeCommand({ FunctionName: 'target' })),",
      "  delete: await attempt(new DeleteFunctionCommand({ FunctionName: 'target' })),",
      '});',
    ].join('\n');
    await deploy(
      adminLambda,
      'fn-basic',
      { 'index.mjs': source },
      {
        role: `arn:aws:iam::${ACCOUNT}:role/basic-only`,
      },
    );
    await deploy(
      adminLambda,
      'fn-invoker',
      { 'index.mjs': source },
      {
        role: `arn:aws:iam::${ACCOUNT}:role/may-invoke`,
      },
    );
    assert.deepEqual((await invokeJson(adminLambda, 'fn-basic', {})).body, {
      invoke: 'AccessDeniedException',
      delete: 'AccessDeniedException',
    });
    assert.deepEqual((await invokeJson(adminLambda, 'fn-invoker', {})).body, {
      invoke: '"invoked"',
      delete: 'AccessDeniedException',
    });
    // A published version keeps its role; $LATEST takes the new one.
    await adminLambda.send(new PublishVersionCommand({ FunctionName: 'fn-basic' }));
    await adminLambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: 'fn-basic',
        Role: `arn:aws:iam::${ACCOUNT}:role/may-invoke`,
      }),
    );
    await waitUntilFunctionUpdatedV2(
      { client: adminLambda, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
      { FunctionName: 'fn-basic' },
    );
    assert.deepEqual((await invokeJson(adminLambda, 'fn-basic:1', {})).body, {
      invoke: 'AccessDeniedException',
      delete: 'AccessDeniedException',
    });
    assert.deepEqual((await invokeJson(adminLambda, 'fn-basic', {})).body, {
      invoke: '"invoked"',
      delete: 'AccessDeniedException',
    });
  });

  test('naming an execution role needs iam:PassRole on it, which AWSLambda_FullAccess grants', async () => {
    const keys = await userWithKey('deployer');
    await admin.send(
      new PutUserPolicyCommand({
        UserName: 'deployer',
        PolicyName: 'lambda',
        PolicyDocument: allow('lambda:*'),
      }),
    );
    const lambda = lambdaClient(server.endpoint, keys);
    try {
      const refused = await failureOf(
        deploy(lambda, 'by-deployer', { 'index.js': 'exports.handler = async () => 1;\n' }),
      );
      assert.equal(refused.name, 'AccessDeniedException');
      assert.match(
        refused.message,
        /not authorized to perform: iam:PassRole on resource: arn:aws:iam::000000000000:role\/lambda-role/,
      );
      await admin.send(
        new AttachUserPolicyCommand({
          UserName: 'deployer',
          PolicyArn: 'arn:aws:iam::aws:policy/AWSLambda_FullAccess',
        }),
      );
      await deploy(lambda, 'by-deployer', { 'index.js': 'exports.handler = async () => 1;\n' });
      assert.equal((await invokeJson(lambda, 'by-deployer', {})).body, 1);
    } finally {
      lambda.destroy();
    }
  });

  test("naming a container image needs ECR's pull actions on its repository", async () => {
    const keys = await userWithKey('imager');
    await admin.send(
      new AttachUserPolicyCommand({
        UserName: 'imager',
        PolicyArn: 'arn:aws:iam::aws:policy/AWSLambda_FullAccess',
      }),
    );
    const lambda = lambdaClient(server.endpoint, keys);
    const create = (name: string, uri: string) =>
      lambda.send(
        new CreateFunctionCommand({
          FunctionName: name,
          PackageType: 'Image',
          Code: { ImageUri: uri },
          Role: 'arn:aws:iam::000000000000:role/lambda-role',
        }),
      );
    try {
      const refused = await failureOf(create('img-denied', 'registry.example:5000/team/app:v1'));
      assert.equal(refused.name, 'AccessDeniedException');
      assert.match(
        refused.message,
        /not authorized to perform: ecr:BatchGetImage on resource: arn:aws:ecr:us-east-1:000000000000:repository\/registry\.example:5000\/team\/app/,
      );
      await admin.send(
        new PutUserPolicyCommand({
          UserName: 'imager',
          PolicyName: 'pull-team',
          PolicyDocument: allow(
            ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
            'arn:aws:ecr:us-east-1:000000000000:repository/registry.example:5000/team/*',
          ),
        }),
      );
      // Allowed now (the pull itself then fails: the registry does not exist).
      const created = await create('img-allowed', 'registry.example:5000/team/app:v1');
      assert.equal(created.PackageType, 'Image');
      const other = await failureOf(create('img-other', 'registry.example:5000/other/app:v1'));
      assert.equal(other.name, 'AccessDeniedException');
    } finally {
      lambda.destroy();
    }
  });

  test("a role's trust policy must allow the caller", async () => {
    await admin.send(
      new CreateRoleCommand({
        RoleName: 'for-lambda-only',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'lambda.amazonaws.com' },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      }),
    );
    const role = await admin.send(new GetRoleCommand({ RoleName: 'for-lambda-only' }));
    assert.equal(role.Role?.MaxSessionDuration, 3600);
    assert.match(
      decodeURIComponent(role.Role?.AssumeRolePolicyDocument ?? ''),
      /lambda\.amazonaws\.com/,
    );
    const sts = new STSClient(clientOptions(server.endpoint, TEST_CREDENTIALS));
    const refused = await failureOf(
      sts.send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${ACCOUNT}:role/for-lambda-only`,
          RoleSessionName: 'nope',
        }),
      ),
    );
    sts.destroy();
    assert.equal(refused.status, 403);
    assert.match(refused.message, /no role trust policy allows the sts:AssumeRole action/);
  });

  test("bad input gets AWS's errors", async () => {
    const missing = await cli(['iam', 'get-user', '--user-name', 'nobody-here']);
    assert.match(missing.stderr, /NoSuchEntity.*The user with name nobody-here cannot be found\./);
    await admin.send(new CreateUserCommand({ UserName: 'twice' }));
    const again = await failureOf(admin.send(new CreateUserCommand({ UserName: 'twice' })));
    assert.equal(again.name, 'EntityAlreadyExistsException');
    assert.equal(again.status, 409);
    const malformed = await failureOf(
      admin.send(
        new PutUserPolicyCommand({
          UserName: 'twice',
          PolicyName: 'p',
          PolicyDocument: '{"Version":',
        }),
      ),
    );
    assert.equal(malformed.name, 'MalformedPolicyDocumentException');
    const badOperator = await failureOf(
      admin.send(
        new PutUserPolicyCommand({
          UserName: 'twice',
          PolicyName: 'p',
          PolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Action: '*',
                Resource: '*',
                Condition: { StringEqualz: { a: 'b' } },
              },
            ],
          }),
        }),
      ),
    );
    assert.equal(badOperator.name, 'MalformedPolicyDocumentException');
    assert.match(badOperator.message, /StringEqualz/);
    const oversized = await failureOf(
      admin.send(
        new PutUserPolicyCommand({
          UserName: 'twice',
          PolicyName: 'p',
          PolicyDocument: allow(Array.from({ length: 200 }, (_, i) => `lambda:Action${i}`)),
        }),
      ),
    );
    assert.equal(oversized.name, 'LimitExceededException');
    await admin.send(new CreateAccessKeyCommand({ UserName: 'twice' }));
    await admin.send(new CreateAccessKeyCommand({ UserName: 'twice' }));
    const third = await failureOf(admin.send(new CreateAccessKeyCommand({ UserName: 'twice' })));
    assert.equal(third.name, 'LimitExceededException');
    const conflict = await failureOf(admin.send(new DeleteUserCommand({ UserName: 'twice' })));
    assert.equal(conflict.name, 'DeleteConflictException');
    assert.equal(conflict.message, 'Cannot delete entity, must remove referenced objects first.');
    const unknownPrincipal = await failureOf(
      admin.send(
        new CreateRoleCommand({
          RoleName: 'trusts-a-ghost',
          AssumeRolePolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/ghost` },
                Action: 'sts:AssumeRole',
              },
            ],
          }),
        }),
      ),
    );
    assert.equal(unknownPrincipal.name, 'MalformedPolicyDocumentException');
    assert.match(unknownPrincipal.message, /Invalid principal in policy/);
    const unknown = await cli([
      'iam',
      'get-policy',
      '--policy-arn',
      `arn:aws:iam::${ACCOUNT}:policy/none`,
    ]);
    assert.match(unknown.stderr, /NoSuchEntity/);
  });

  test('the AWS-managed policies have their real documents', async () => {
    const version = await admin.send(
      new GetPolicyVersionCommand({
        PolicyArn: 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
        VersionId: 'v1',
      }),
    );
    const document = JSON.parse(decodeURIComponent(version.PolicyVersion?.Document ?? '')) as {
      Statement: Array<{ Action: string[] }>;
    };
    assert.deepEqual(document.Statement[0]?.Action, [
      'logs:CreateLogGroup',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
    ]);
  });

  test('a deactivated key is refused at once; keys and users survive a restart', async () => {
    const keys = await userWithKey('leaver');
    const sts = () => new STSClient(clientOptions(server.endpoint, keys));
    const before = sts();
    assert.equal(
      (await before.send(new GetCallerIdentityCommand({}))).Arn,
      `arn:aws:iam::${ACCOUNT}:user/leaver`,
    );
    before.destroy();
    await server.stop();
    // Secrets are sealed: the database holds no key in the clear.
    for (const file of ['lamina.db', 'lamina.db-wal']) {
      const path = join(dir.path, file);
      if (existsSync(path))
        assert.equal(readFileSync(path).includes(Buffer.from(keys.secretAccessKey)), false, file);
    }
    server = await startServer({ dataDir: dir.path });
    admin.destroy();
    admin = new IAMClient(clientOptions(server.endpoint, TEST_CREDENTIALS));
    const after = sts();
    assert.equal(
      (await after.send(new GetCallerIdentityCommand({}))).Arn,
      `arn:aws:iam::${ACCOUNT}:user/leaver`,
    );
    await admin.send(
      new UpdateAccessKeyCommand({
        UserName: 'leaver',
        AccessKeyId: keys.accessKeyId,
        Status: 'Inactive',
      }),
    );
    const refused = await failureOf(after.send(new GetCallerIdentityCommand({})));
    after.destroy();
    assert.equal(refused.status, 403);
    assert.equal(refused.name, 'InvalidClientTokenId');
  });
});

describe('upgrading a data directory from before roles were checked', () => {
  const dir = tempDir();
  let server: ServerProcess | undefined;

  after(async () => {
    await server?.stop();
    dir.remove();
  });

  test('the roles existing functions name are made at start, with what --legacy-function-access says', async () => {
    const attachedTo = async (endpoint: string, role: string) => {
      const iam = new IAMClient(clientOptions(endpoint, TEST_CREDENTIALS));
      try {
        const listed = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: role }));
        return (listed.AttachedPolicies ?? []).map((p) => p.PolicyName).sort();
      } finally {
        iam.destroy();
      }
    };
    const forget = async (endpoint: string, role: string) => {
      const iam = new IAMClient(clientOptions(endpoint, TEST_CREDENTIALS));
      try {
        for (const name of await attachedTo(endpoint, role))
          await iam.send(
            new DetachRolePolicyCommand({
              RoleName: role,
              PolicyArn:
                name === 'AWSLambdaBasicExecutionRole'
                  ? 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'
                  : `arn:aws:iam::aws:policy/${name}`,
            }),
          );
        await iam.send(new DeleteRoleCommand({ RoleName: role }));
      } finally {
        iam.destroy();
      }
    };
    // A function made while its role existed; the role then goes, as in a data directory from
    // before roles were checked, where no role existed at all.
    server = await startServer({ dataDir: dir.path });
    const lambda = lambdaClient(server.endpoint);
    await deploy(lambda, 'old', { 'index.js': 'exports.handler = async () => 1;\n' });
    lambda.destroy();
    await forget(server.endpoint, 'lambda-role');
    await server.stop();
    server = await startServer({ dataDir: dir.path, testRoles: false });
    assert.deepEqual(await attachedTo(server.endpoint, 'lambda-role'), [
      'AWSLambdaBasicExecutionRole',
    ]);
    await forget(server.endpoint, 'lambda-role');
    await server.stop();
    server = await startServer({
      dataDir: dir.path,
      testRoles: false,
      args: ['--legacy-function-access'],
    });
    assert.deepEqual(await attachedTo(server.endpoint, 'lambda-role'), [
      'AWSLambdaBasicExecutionRole',
      'AWSLambda_FullAccess',
    ]);
  });
});
