/**
 * The IAM and STS endpoint (`POST /`) under hostile requests: unsigned, signed for another service,
 * a temporary key with a forged session token, a body far over the limit, parameters that are not
 * an operation; and policies written to hurt the server (wildcard patterns that make backtracking
 * matchers take exponential time, a document nested thousands deep) while a victim function keeps
 * its warm latency.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreatePolicyCommand,
  CreateUserCommand,
  IAMClient,
  ListPoliciesCommand,
} from '@aws-sdk/client-iam';
import { ListFunctionsCommand, type LambdaClient } from '@aws-sdk/client-lambda';
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
