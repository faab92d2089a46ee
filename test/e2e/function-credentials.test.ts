/**
 * The temporary credentials each environment receives, on a controllable clock: the real server in
 * this process, real sandboxes, the SDK's Lambda and STS clients. An environment's key is a session
 * of its function's role; an environment at its maximum age is retired and its key refused from
 * then on; the next environment has a new key. Temporary keys past their expiry are answered as
 * AWS answers them (ExpiredTokenException / ExpiredToken).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { AttachRolePolicyCommand, CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { DEFAULT_CONFIG } from '../../src/server/server-config.js';
import { deploy, invokeJson } from '../helpers/functions.js';
import { accountTrust } from '../helpers/test-roles.js';
import { useInProcessServer } from '../helpers/in-process-server.js';
import { failureOf } from '../helpers/lambda-client.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { TEST_CREDENTIALS } from '../helpers/server-process.js';

const ACCOUNT = '000000000000';

interface Keys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Answers its own credentials; asked to, uses them to read its own configuration. */
const WHOAMI = `
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
export const handler = async (event) => {
  let own = 'not asked';
  if (event.call) {
    try {
      const lambda = new LambdaClient({ maxAttempts: 1 });
      own = (await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'whoami' }))).FunctionName;
    } catch (error) {
      own = error.name;
    }
  }
  return {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID,
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
    sessionToken: process.env.AWS_SESSION_TOKEN,
    own,
  };
};
`;

describe("environments' own credentials on a controllable clock", () => {
  const clock = new ManualClock();
  const suite = useInProcessServer({ logLevel: 'warn' }, clock);
  // Clients sign with the server's (moved) time, as a client with a correct clock would. A client
  // is made per call: the SDK resets its offset to the Date header of a response (real time).
  const options = (keys: Keys) => ({
    endpoint: suite.server.endpoint,
    region: 'us-east-1',
    credentials: keys,
    maxAttempts: 1,
    systemClockOffset: clock.now() - Date.now(),
  });
  const lambda = (keys: Keys = TEST_CREDENTIALS) => new LambdaClient(options(keys));
  const sts = (keys: Keys) => new STSClient(options(keys));
  const whoami = async (call: boolean) =>
    (await invokeJson(lambda(), 'whoami', { call })).body as Keys & { own: string };

  before(async () => {
    await deploy(suite.client, 'whoami', { 'index.mjs': WHOAMI });
  });

  test('an environment at its maximum age is retired; its key dies with it, the next has its own', async () => {
    const first = await whoami(true);
    assert.equal(first.own, 'whoami', 'the key works from inside');
    assert.match(first.accessKeyId, /^ASIA/);
    assert.ok(first.sessionToken !== undefined && first.sessionToken.length > 0);
    const identity = await sts(first).send(new GetCallerIdentityCommand({}));
    assert.equal(identity.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/lambda-role/whoami`);
    // Still the same environment (and key) just short of the maximum age.
    clock.advance(DEFAULT_CONFIG.environmentMaxAgeMs - 60_000);
    await suite.server.retireAged();
    assert.equal((await whoami(false)).accessKeyId, first.accessKeyId);

    clock.advance(60_000);
    await suite.server.retireAged();
    const refused = await failureOf(sts(first).send(new GetCallerIdentityCommand({})));
    assert.equal(refused.name, 'InvalidClientTokenId');
    const refusedByLambda = await failureOf(lambda(first).send(new ListFunctionsCommand({})));
    assert.equal(refusedByLambda.name, 'UnrecognizedClientException');

    const next = await whoami(false);
    assert.notEqual(next.accessKeyId, first.accessKeyId);
    const again = await sts(next).send(new GetCallerIdentityCommand({}));
    assert.equal(again.Arn, identity.Arn);
  });

  test('a role session past its expiry is answered ExpiredToken by STS and ExpiredTokenException by Lambda', async () => {
    const iam = () => new IAMClient(options(TEST_CREDENTIALS));
    await iam().send(
      new CreateRoleCommand({
        RoleName: 'short-lived',
        AssumeRolePolicyDocument: accountTrust(ACCOUNT),
      }),
    );
    await iam().send(
      new AttachRolePolicyCommand({
        RoleName: 'short-lived',
        PolicyArn: 'arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess',
      }),
    );
    const assumed = await sts(TEST_CREDENTIALS).send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${ACCOUNT}:role/short-lived`,
        RoleSessionName: 'brief',
        DurationSeconds: 900,
      }),
    );
    const keys = {
      accessKeyId: assumed.Credentials?.AccessKeyId ?? '',
      secretAccessKey: assumed.Credentials?.SecretAccessKey ?? '',
      sessionToken: assumed.Credentials?.SessionToken ?? '',
    };
    await lambda(keys).send(new ListFunctionsCommand({}));
    clock.advance(900_000);
    const byLambda = await failureOf(lambda(keys).send(new ListFunctionsCommand({})));
    assert.deepEqual(byLambda, {
      name: 'ExpiredTokenException',
      message: 'The security token included in the request is expired',
      status: 403,
    });
    const bySts = await failureOf(sts(keys).send(new GetCallerIdentityCommand({})));
    assert.deepEqual(bySts, {
      name: 'ExpiredToken',
      message: 'The security token included in the request is expired',
      status: 403,
    });
  });
});
