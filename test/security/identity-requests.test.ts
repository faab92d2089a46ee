/**
 * The IAM and STS endpoint (`POST /`) under hostile requests: unsigned, signed for another service,
 * a temporary key with a forged session token, a body far over the limit, parameters that are not
 * an operation; and policies written to hurt the server (wildcard patterns that make backtracking
 * matchers take exponential time, a document nested thousands deep) while a victim function keeps
 * its warm latency.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request as httpRequest } from 'node:http';
import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreatePolicyCommand,
  CreateUserCommand,
  IAMClient,
  ListPoliciesCommand,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateAliasCommand,
  CreateFunctionUrlConfigCommand,
  ListFunctionsCommand,
  PublishVersionCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../src/core/node-sha256.js';
import { prepareVictim, VICTIM_P99_LIMIT_MS, type Victim } from '../helpers/attack-harness.js';
import { failureOf, lambdaClient } from '../helpers/lambda-client.js';
import {
  startServer,
  tempDir,
  TEST_CREDENTIALS,
  type ServerProcess,
} from '../helpers/server-process.js';

interface Keys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** A form POST to `/` signed for `service` (unsigned without keys). */
async function query(
  endpoint: string,
  body: string,
  options: { service?: string; keys?: Keys; path?: string } = {},
): Promise<{ status: number; text: string }> {
  const url = new URL(options.path ?? '/', endpoint);
  let request = new HttpRequest({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    headers: {
      host: url.host,
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    },
    body,
  });
  if (options.keys !== undefined) {
    const signer = new SignatureV4({
      service: options.service ?? 'iam',
      region: 'us-east-1',
      credentials: options.keys,
      sha256: NodeSha256,
    });
    request = (await signer.sign(request)) as HttpRequest;
  }
  const response = await fetch(url, {
    method: 'POST',
    headers: request.headers,
    body,
  });
  return { status: response.status, text: await response.text() };
}

/**
 * The attacker's user: a name of many `a`s puts them in `aws:PrincipalArn`, where a backtracking
 * matcher of the hostile patterns would try every way to place them.
 */
const SLOW_USER = 'a'.repeat(64);

/** A signed Lambda API POST with an IAM user's key; its status. */
async function signedPost(
  endpoint: string,
  pathAndQuery: string,
  body: string,
  key: { AccessKeyId?: string | undefined; SecretAccessKey?: string | undefined } | undefined,
): Promise<{ status: number }> {
  const url = new URL(pathAndQuery, endpoint);
  const query: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) (query[name] ??= []).push(value);
  const signed = await new SignatureV4({
    service: 'lambda',
    region: 'us-east-1',
    credentials: {
      accessKeyId: key?.AccessKeyId ?? '',
      secretAccessKey: key?.SecretAccessKey ?? '',
    },
    sha256: NodeSha256,
  }).sign(
    new HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query,
      headers: { host: url.host, 'content-type': 'application/json' },
      body,
    }),
  );
  const response = await fetch(url, { method: 'POST', headers: signed.headers, body });
  await response.arrayBuffer();
  return { status: response.status };
}

/** A policy allowing everything, with patterns and conditions built to be slow to match. */
function hostilePolicy(): string {
  const pattern = `${'*a'.repeat(300)}b`;
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Deny',
        Action: `lambda:${pattern}`,
        Resource: `arn:aws:lambda:*:*:function:${pattern}`,
      },
      {
        Effect: 'Allow',
        Action: 'lambda:List*',
        Resource: '*',
        Condition: { StringNotLike: { 'aws:PrincipalArn': [pattern, `*${pattern}`] } },
      },
    ],
  });
}

describe('the IAM and STS endpoint under hostile requests', () => {
  const dir = tempDir();
  let server: ServerProcess;
  let admin: IAMClient;
  let lambda: LambdaClient;
  let victim: Victim;
  const iamClient = (keys: Keys) =>
    new IAMClient({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: keys,
      maxAttempts: 1,
    });

  before(async () => {
    server = await startServer({ dataDir: dir.path });
    admin = iamClient(TEST_CREDENTIALS);
    lambda = lambdaClient(server.endpoint);
    victim = await prepareVictim(lambda);
  });

  after(async () => {
    admin.destroy();
    lambda.destroy();
    await server.stop();
    dir.remove();
  });

  test('unsigned, or signed for another service, is refused in XML', async () => {
    const unsigned = await query(server.endpoint, 'Action=ListUsers&Version=2010-05-08');
    assert.equal(unsigned.status, 403);
    assert.match(unsigned.text, /<Code>MissingAuthenticationToken<\/Code>/);
    const forLambda = await query(server.endpoint, 'Action=ListUsers&Version=2010-05-08', {
      service: 'lambda',
      keys: TEST_CREDENTIALS,
    });
    assert.equal(forLambda.status, 403);
    assert.match(forLambda.text, /<Code>SignatureDoesNotMatch<\/Code>.*scoped to correct service/s);
    // And the Lambda API does not take a signature made for IAM.
    const iamSigned = await query(server.endpoint, '{}', {
      service: 'iam',
      keys: TEST_CREDENTIALS,
      path: '/2015-03-31/functions/',
    });
    assert.equal(iamSigned.status, 403);
    assert.match(iamSigned.text, /InvalidSignatureException|scoped to correct service/);
  });

  test('a temporary key with a forged session token is refused', async () => {
    await admin.send(new CreateUserCommand({ UserName: 'forger' }));
    const key = (await admin.send(new CreateAccessKeyCommand({ UserName: 'forger' }))).AccessKey;
    const forged = await query(server.endpoint, 'Action=GetCallerIdentity&Version=2011-06-15', {
      service: 'sts',
      keys: {
        accessKeyId: key?.AccessKeyId ?? '',
        secretAccessKey: key?.SecretAccessKey ?? '',
        sessionToken: 'forged',
      },
    });
    assert.equal(forged.status, 403);
    assert.match(forged.text, /<Code>InvalidClientTokenId<\/Code>/);
  });

  test('what is not an operation gets an XML error, and a huge body is refused unread', async () => {
    for (const body of ['', 'Action=DropAllTables&Version=2010-05-08', '%%%&&&=', 'Action=']) {
      const answer = await query(server.endpoint, body, { keys: TEST_CREDENTIALS });
      assert.equal(answer.status, 400, body);
      assert.match(
        answer.text,
        /<ErrorResponse[^>]*><Error><Type>Sender<\/Type><Code>InvalidAction<\/Code>/,
      );
    }
    const huge = await query(
      server.endpoint,
      `Action=ListUsers&Pad=${'x'.repeat(8 * 1024 * 1024)}`,
      {
        keys: TEST_CREDENTIALS,
      },
    );
    assert.equal(huge.status, 413);
    assert.match(huge.text, /<Code>RequestEntityTooLarge<\/Code>/);
  });

  test('a document nested thousands deep is malformed, and nothing is written', async () => {
    const deep = `{"Version":"2012-10-17","Statement":${'['.repeat(3000)}${']'.repeat(3000)}}`;
    const refused = await failureOf(
      admin.send(new CreatePolicyCommand({ PolicyName: 'deep', PolicyDocument: deep })),
    );
    assert.equal(refused.name, 'MalformedPolicyDocumentException');
    const local = await admin.send(new ListPoliciesCommand({ Scope: 'Local' }));
    assert.deepEqual(local.Policies ?? [], []);
  });

  test("a key deactivated while its request's body arrives is refused, not let through", async () => {
    await admin.send(new CreateUserCommand({ UserName: 'dripper' }));
    const key = (await admin.send(new CreateAccessKeyCommand({ UserName: 'dripper' }))).AccessKey;
    const keys = {
      accessKeyId: key?.AccessKeyId ?? '',
      secretAccessKey: key?.SecretAccessKey ?? '',
    };
    const body = JSON.stringify({ Description: 'changed by a key that was switched off' });
    const url = new URL('/2015-03-31/functions/victim/configuration', server.endpoint);
    const signed = await new SignatureV4({
      service: 'lambda',
      region: 'us-east-1',
      credentials: keys,
      sha256: NodeSha256,
    }).sign(
      new HttpRequest({
        method: 'PUT',
        protocol: url.protocol,
        hostname: url.hostname,
        port: Number(url.port),
        path: url.pathname,
        headers: {
          host: url.host,
          'content-type': 'application/json',
          'content-length': String(body.length),
        },
        body,
      }),
    );
    let resolveAnswer: (answer: { status: number; text: string }) => void = () => undefined;
    const answered = new Promise<{ status: number; text: string }>((resolve) => {
      resolveAnswer = resolve;
    });
    const request = httpRequest(url, { method: 'PUT', headers: signed.headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolveAnswer({ status: response.statusCode ?? 0, text }));
    });
    request.on('error', () => resolveAnswer({ status: 0, text: 'connection failed' }));
    // The head and part of the body, handed to the kernel before the key is switched off (the
    // server reads it while the SDK signs and sends the switch); the rest after.
    await new Promise<void>((resolve, reject) =>
      request.write(body.slice(0, 10), (error) => (error ? reject(error) : resolve())),
    );
    await admin.send(
      new UpdateAccessKeyCommand({
        UserName: 'dripper',
        AccessKeyId: keys.accessKeyId,
        Status: 'Inactive',
      }),
    );
    request.end(body.slice(10));
    const { status, text } = await answered;
    assert.equal(status, 403);
    assert.match(text, /security token included in the request is invalid/);
  });

  test('a repeated Qualifier is authorized as the one the operation acts on', async () => {
    await lambda.send(new PublishVersionCommand({ FunctionName: 'victim' }));
    await lambda.send(
      new CreateAliasCommand({ FunctionName: 'victim', Name: 'prod', FunctionVersion: '1' }),
    );
    await admin.send(new CreateUserCommand({ UserName: 'qualifier' }));
    const key = (await admin.send(new CreateAccessKeyCommand({ UserName: 'qualifier' }))).AccessKey;
    await admin.send(
      new PutUserPolicyCommand({
        UserName: 'qualifier',
        PolicyName: 'unqualified-only',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'lambda:InvokeFunction',
              Resource: 'arn:aws:lambda:us-east-1:000000000000:function:victim',
            },
          ],
        }),
      }),
    );
    const invoke = (query: string) =>
      query === ''
        ? signedPost(server.endpoint, '/2015-03-31/functions/victim/invocations', '{}', key)
        : signedPost(
            server.endpoint,
            `/2015-03-31/functions/victim/invocations?${query}`,
            '{}',
            key,
          );
    assert.equal((await invoke('')).status, 200);
    assert.equal((await invoke('Qualifier=prod')).status, 403);
    assert.equal((await invoke('Qualifier=prod&Qualifier=prod')).status, 403);
  });

  test('a guardrail on a condition key holds: no public function URLs', async () => {
    await admin.send(new CreateUserCommand({ UserName: 'no-public-urls' }));
    const key = (await admin.send(new CreateAccessKeyCommand({ UserName: 'no-public-urls' })))
      .AccessKey;
    await admin.send(
      new PutUserPolicyCommand({
        UserName: 'no-public-urls',
        PolicyName: 'guardrail',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: 'lambda:*', Resource: '*' },
            {
              Effect: 'Deny',
              Action: ['lambda:CreateFunctionUrlConfig', 'lambda:UpdateFunctionUrlConfig'],
              Resource: '*',
              Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'NONE' } },
            },
          ],
        }),
      }),
    );
    const user = lambdaClient(server.endpoint, {
      accessKeyId: key?.AccessKeyId ?? '',
      secretAccessKey: key?.SecretAccessKey ?? '',
    });
    try {
      const refused = await failureOf(
        user.send(new CreateFunctionUrlConfigCommand({ FunctionName: 'victim', AuthType: 'NONE' })),
      );
      assert.equal(refused.name, 'AccessDeniedException');
      assert.match(refused.message, /explicit deny/);
      const made = await user.send(
        new CreateFunctionUrlConfigCommand({ FunctionName: 'victim', AuthType: 'AWS_IAM' }),
      );
      assert.equal(made.AuthType, 'AWS_IAM');
    } finally {
      user.destroy();
    }
  });

  test('policies built to be slow to match do not slow the server or a victim', async () => {
    await admin.send(new CreateUserCommand({ UserName: SLOW_USER }));
    const key = (await admin.send(new CreateAccessKeyCommand({ UserName: SLOW_USER }))).AccessKey;
    const policy = await admin.send(
      new CreatePolicyCommand({ PolicyName: 'hostile', PolicyDocument: hostilePolicy() }),
    );
    await admin.send(
      new AttachUserPolicyCommand({ UserName: SLOW_USER, PolicyArn: policy.Policy?.Arn ?? '' }),
    );
    const attacker = lambdaClient(server.endpoint, {
      accessKeyId: key?.AccessKeyId ?? '',
      secretAccessKey: key?.SecretAccessKey ?? '',
    });
    try {
      const { result, p99Ms } = await victim.during(async () => {
        let allowed = 0;
        for (let i = 0; i < 200; i += 1) {
          const listed = await attacker.send(new ListFunctionsCommand({}));
          if (listed.Functions !== undefined) allowed += 1;
        }
        return allowed;
      });
      assert.equal(result, 200);
      assert.ok(p99Ms < VICTIM_P99_LIMIT_MS, `victim p99 ${p99Ms.toFixed(1)} ms`);
    } finally {
      attacker.destroy();
    }
  });
});
