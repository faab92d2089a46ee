// Authorization benchmark: `node bench/authorization.mjs [--quick]` after `npm run build`. What
// policy evaluation adds to a warm invoke: the same function invoked, in alternating rounds, with
// the root key pair (never evaluated) and with an IAM user's key whose policies (an inline policy
// with conditions and wildcards, and AWSLambda_ReadOnlyAccess attached) and the function's resource
// policy are evaluated on every call. Prints one JSON document.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { AddPermissionCommand } from '@aws-sdk/client-lambda';
import { deployFunction, sdkClient } from './lambda-functions.mjs';
import { BENCH_CREDENTIALS, startLaminaServer } from './lamina-server.mjs';
import { loadAverage, machineInfo } from './machine-info.mjs';
import { createSignedInvoker } from './signed-invoke.mjs';
import { round, summarize } from './stats.mjs';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PLANS = { full: { rounds: 20, perRound: 500 }, quick: { rounds: 6, perRound: 250 } };
const progress = (message) => process.stderr.write(`[bench] ${message}\n`);

/** An inline policy of the kind people write: a few statements, wildcards, a condition. */
const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'NoDeletes',
      Effect: 'Deny',
      Action: ['lambda:Delete*', 'lambda:Remove*'],
      Resource: '*',
    },
    {
      Sid: 'InvokeTeamFunctions',
      Effect: 'Allow',
      Action: 'lambda:InvokeFunction',
      Resource: ['arn:aws:lambda:*:*:function:team-*', 'arn:aws:lambda:*:*:function:warm*'],
      Condition: {
        IpAddress: { 'aws:SourceIp': ['127.0.0.0/8', '::1/128'] },
        DateLessThan: { 'aws:CurrentTime': '2099-01-01T00:00:00Z' },
      },
    },
  ],
});

async function main() {
  const args = process.argv.slice(2);
  if (args.some((arg) => arg !== '--quick'))
    throw new Error('usage: node bench/authorization.mjs [--quick]');
  const mode = args.includes('--quick') ? 'quick' : 'full';
  const plan = PLANS[mode];
  progress('starting a server');
  const server = await startLaminaServer(REPO_ROOT, {});
  const iamClient = new IAMClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: BENCH_CREDENTIALS,
  });
  const lambda = sdkClient(server.endpoint, BENCH_CREDENTIALS);
  const invokers = [];
  try {
    await deployFunction(lambda, 'warm', 'exports.handler = async () => null;\n', {
      memorySize: 128,
    });
    await iamClient.send(new CreateUserCommand({ UserName: 'bench' }));
    await iamClient.send(
      new PutUserPolicyCommand({ UserName: 'bench', PolicyName: 'invoke', PolicyDocument: POLICY }),
    );
    await iamClient.send(
      new AttachUserPolicyCommand({
        UserName: 'bench',
        PolicyArn: 'arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess',
      }),
    );
    await lambda.send(
      new AddPermissionCommand({
        FunctionName: 'warm',
        StatementId: 'scheduler',
        Action: 'lambda:InvokeFunction',
        Principal: 'scheduler.amazonaws.com',
      }),
    );
    const key = (await iamClient.send(new CreateAccessKeyCommand({ UserName: 'bench' }))).AccessKey;
    const root = createSignedInvoker(server.endpoint, BENCH_CREDENTIALS);
    const user = createSignedInvoker(server.endpoint, {
      accessKeyId: key.AccessKeyId,
      secretAccessKey: key.SecretAccessKey,
    });
    invokers.push(root, user);
    progress('warming up');
    for (let i = 0; i < 300; i += 1) {
      await root.invoke('warm');
      // Throws unless the user's invoke is allowed (200).
      await user.invoke('warm');
    }
    const samples = { root: [], user: [] };
    for (let round = 0; round < plan.rounds; round += 1) {
      progress(`round ${round + 1} of ${plan.rounds}`);
      // Alternate which goes first, so neither always runs on a warmer or colder machine.
      const order = round % 2 === 0 ? ['root', 'user'] : ['user', 'root'];
      for (const who of order) {
        const invoker = who === 'root' ? root : user;
        for (let i = 0; i < plan.perRound; i += 1)
          samples[who].push((await invoker.invoke('warm')).ms);
      }
    }
    const rootSummary = summarize(samples.root);
    const userSummary = summarize(samples.user);
    const addedUs = round((userSummary.p50_ms - rootSummary.p50_ms) * 1000);
    const result = {
      benchmark: 'lamina-authorization',
      mode,
      machine: machineInfo(REPO_ROOT),
      warm_invoke_root_ms: rootSummary,
      warm_invoke_iam_user_ms: userSummary,
      evaluation_added_p50_us: addedUs,
      target_us: 20,
      met: addedUs <= 20,
    };
    result.machine.load_average_1m_at_end = loadAverage();
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    for (const invoker of invokers) invoker.close();
    iamClient.destroy();
    lambda.destroy();
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`[bench] FAILED: ${error instanceof Error ? error.stack : error}\n`);
    process.exit(1);
  },
);
