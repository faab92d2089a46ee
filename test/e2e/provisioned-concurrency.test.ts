/**
 * Provisioned concurrency through the SDK: the lifecycle (IN_PROGRESS → READY, true counts),
 * environments initialised ahead of traffic, spill-over to on-demand, re-creation after a crash,
 * following an alias to its new version, FAILED with a reason, and AWS's validation.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CreateAliasCommand,
  DeleteAliasCommand,
  DeleteProvisionedConcurrencyConfigCommand,
  GetAccountSettingsCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvokeCommand,
  ListProvisionedConcurrencyConfigsCommand,
  ListTagsCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutProvisionedConcurrencyConfigCommand,
  TagResourceCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  waitUntilFunctionUpdatedV2,
  type GetProvisionedConcurrencyConfigCommandOutput,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { deploy, invokeJson } from '../helpers/functions.js';
import { failureOf } from '../helpers/lambda-client.js';
import { useServer } from '../helpers/server-suite.js';
import { poll } from '../helpers/poll.js';
import { buildZip } from '../helpers/zips.js';

const HANDLER = (tag: string) => ({
  'index.js':
    `const initType = process.env.AWS_LAMBDA_INITIALIZATION_TYPE;\n` +
    `exports.handler = async (event) => {\n` +
    `  if (event.exit) process.exit(3);\n` +
    `  if (event.waitMs) await new Promise((r) => setTimeout(r, event.waitMs));\n` +
    `  return { initType, tag: ${JSON.stringify(tag)} };\n` +
    `};\n`,
});

/** Tags itself `started`, then waits until the test tags it `release` (checked every 50 ms). */
const GATED = {
  'index.mjs': `
import { LambdaClient, ListTagsCommand, TagResourceCommand } from '@aws-sdk/client-lambda';
const lambda = new LambdaClient({});
const initType = process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
export const handler = async (event, context) => {
  const Resource = context.invokedFunctionArn.split(':').slice(0, 7).join(':');
  await lambda.send(new TagResourceCommand({ Resource, Tags: { started: 'yes' } }));
  for (;;) {
    const { Tags } = await lambda.send(new ListTagsCommand({ Resource }));
    if (Tags?.release === 'yes') return { initType };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};
`,
};

const FAILS_WHEN_PROVISIONED = {
  'index.js':
    `if (process.env.AWS_LAMBDA_INITIALIZATION_TYPE === 'provisioned-concurrency')\n` +
    `  throw new Error('no provisioned init here');\n` +
    `exports.handler = async () => 'ok';\n`,
};

function config(client: LambdaClient, name: string, qualifier: string) {
  return client.send(
    new GetProvisionedConcurrencyConfigCommand({ FunctionName: name, Qualifier: qualifier }),
  );
}

function untilStatus(
  client: LambdaClient,
  name: string,
  qualifier: string,
  done: (c: GetProvisionedConcurrencyConfigCommandOutput) => boolean,
) {
  return poll(() => config(client, name, qualifier), done, 60_000);
}

async function publish(client: LambdaClient, name: string): Promise<string> {
  const version = await client.send(new PublishVersionCommand({ FunctionName: name }));
  return version.Version ?? '';
}

describe('provisioned concurrency', () => {
  const suite = useServer({ args: ['--prestart-pool-size', '1'] });

  test('a version: IN_PROGRESS → READY, initialised ahead, spill-over, re-created after a crash', async () => {
    const client = suite.client;
    await deploy(client, 'pc-fn', HANDLER('v1'), { memorySize: 128 });
    const version = await publish(client, 'pc-fn');
    const before = await client.send(new GetAccountSettingsCommand({}));

    const put = await client.send(
      new PutProvisionedConcurrencyConfigCommand({
        FunctionName: 'pc-fn',
        Qualifier: version,
        ProvisionedConcurrentExecutions: 2,
      }),
    );
    assert.equal(put.$metadata.httpStatusCode, 202);
    assert.equal(put.RequestedProvisionedConcurrentExecutions, 2);
    assert.equal(put.Status, 'IN_PROGRESS');
    assert.match(put.LastModified ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);

    const ready = await untilStatus(client, 'pc-fn', version, (c) => c.Status === 'READY');
    assert.equal(ready.AllocatedProvisionedConcurrentExecutions, 2);
    assert.equal(ready.AvailableProvisionedConcurrentExecutions, 2);
    const after = await client.send(new GetAccountSettingsCommand({}));
    assert.equal(
      after.AccountLimit?.UnreservedConcurrentExecutions,
      (before.AccountLimit?.UnreservedConcurrentExecutions ?? 0) - 2,
    );

    // Invokes run on the environments initialised ahead: no Init Duration in their REPORT.
    const warm = await invokeJson(client, `pc-fn:${version}`, {}, { LogType: 'Tail' });
    assert.deepEqual(warm.body, { initType: 'provisioned-concurrency', tag: 'v1' });
    assert.match(warm.log, /REPORT RequestId: /);
    assert.doesNotMatch(warm.log, /Init Duration/);

    // Three at once: two provisioned environments, the third spills to on-demand.
    const three = await Promise.all(
      [1, 2, 3].map(() => invokeJson(client, `pc-fn:${version}`, { waitMs: 1500 })),
    );
    const types = three.map((r) => (r.body as { initType: string }).initType).sort();
    assert.deepEqual(types, ['on-demand', 'provisioned-concurrency', 'provisioned-concurrency']);

    // A provisioned environment that crashes is re-created.
    const crashed = await client.send(
      new InvokeCommand({ FunctionName: `pc-fn:${version}`, Payload: '{"exit":true}' }),
    );
    assert.equal(crashed.FunctionError, 'Unhandled');
    const recreated = await untilStatus(
      client,
      'pc-fn',
      version,
      (c) => c.Status === 'READY' && c.AllocatedProvisionedConcurrentExecutions === 2,
    );
    assert.equal(recreated.AvailableProvisionedConcurrentExecutions, 2);

    const listed = await client.send(
      new ListProvisionedConcurrencyConfigsCommand({ FunctionName: 'pc-fn' }),
    );
    assert.deepEqual(
      listed.ProvisionedConcurrencyConfigs?.map((c) => [c.FunctionArn, c.Status]),
      [[`arn:aws:lambda:us-east-1:000000000000:function:pc-fn:${version}`, 'READY']],
    );

    // Reserved concurrency may not go below the provisioned total.
    const reserved = await failureOf(
      client.send(
        new PutFunctionConcurrencyCommand({
          FunctionName: 'pc-fn',
          ReservedConcurrentExecutions: 1,
        }),
      ),
    );
    assert.equal(reserved.name, 'InvalidParameterValueException');
    assert.equal(
      reserved.message,
      " ReservedConcurrentExecutions  1 should not be lower than function's total provisioned concurrency [2].",
    );

    const deleted = await client.send(
      new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: 'pc-fn', Qualifier: version }),
    );
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    const gone = await failureOf(config(client, 'pc-fn', version));
    assert.equal(gone.name, 'ProvisionedConcurrencyConfigNotFoundException');
    assert.equal(gone.message, 'No Provisioned Concurrency Config found for this function');
    const restored = await client.send(new GetAccountSettingsCommand({}));
    assert.deepEqual(restored.AccountLimit, before.AccountLimit);
  });

  test('an alias: conflicts with its version, follows the alias to a new version, goes with it', async () => {
    const client = suite.client;
    await deploy(client, 'pc-alias', HANDLER('first'), { memorySize: 128 });
    const v1 = await publish(client, 'pc-alias');
    await client.send(
      new CreateAliasCommand({ FunctionName: 'pc-alias', Name: 'live', FunctionVersion: v1 }),
    );
    await client.send(
      new PutProvisionedConcurrencyConfigCommand({
        FunctionName: 'pc-alias',
        Qualifier: 'live',
        ProvisionedConcurrentExecutions: 1,
      }),
    );
    const onVersion = await failureOf(
      client.send(
        new PutProvisionedConcurrencyConfigCommand({
          FunctionName: 'pc-alias',
          Qualifier: v1,
          ProvisionedConcurrentExecutions: 1,
        }),
      ),
    );
    assert.equal(onVersion.name, 'ResourceConflictException');
    assert.equal(onVersion.message, 'Version is pointed by a Provisioned Concurrency alias');
    await untilStatus(client, 'pc-alias', 'live', (c) => c.Status === 'READY');

    await client.send(
      new UpdateFunctionCodeCommand({
        FunctionName: 'pc-alias',
        ZipFile: await buildZip(
          Object.entries(HANDLER('second')).map(([name, content]) => ({ name, content })),
        ),
      }),
    );
    await waitUntilFunctionUpdatedV2(
      { client, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
      { FunctionName: 'pc-alias' },
    );
    const v2 = await publish(client, 'pc-alias');
    await client.send(
      new UpdateAliasCommand({ FunctionName: 'pc-alias', Name: 'live', FunctionVersion: v2 }),
    );
    await poll(
      () => invokeJson(client, 'pc-alias:live'),
      (r) =>
        r.output.ExecutedVersion === v2 &&
        (r.body as { initType: string }).initType === 'provisioned-concurrency',
      60_000,
    );

    await client.send(new DeleteAliasCommand({ FunctionName: 'pc-alias', Name: 'live' }));
    const afterDelete = await failureOf(config(client, 'pc-alias', 'live'));
    assert.equal(afterDelete.name, 'ResourceNotFoundException');
    assert.equal(
      afterDelete.message,
      'Cannot find alias arn: arn:aws:lambda:us-east-1:000000000000:function:pc-alias:live',
    );
    const listed = await client.send(
      new ListProvisionedConcurrencyConfigsCommand({ FunctionName: 'pc-alias' }),
    );
    assert.deepEqual(listed.ProvisionedConcurrencyConfigs, []);
  });

  test('deleting the configuration lets a running invocation finish', async () => {
    const client = suite.client;
    await deploy(client, 'pc-gated', GATED, { memorySize: 128, timeout: 60 });
    const arn = 'arn:aws:lambda:us-east-1:000000000000:function:pc-gated';
    const version = await publish(client, 'pc-gated');
    await client.send(
      new PutProvisionedConcurrencyConfigCommand({
        FunctionName: 'pc-gated',
        Qualifier: version,
        ProvisionedConcurrentExecutions: 1,
      }),
    );
    await untilStatus(client, 'pc-gated', version, (c) => c.Status === 'READY');
    const running = invokeJson(client, `pc-gated:${version}`, {});
    await poll(
      () => client.send(new ListTagsCommand({ Resource: arn })),
      (tags) => tags.Tags?.['started'] === 'yes',
      30_000,
    );
    const deleted = await client.send(
      new DeleteProvisionedConcurrencyConfigCommand({
        FunctionName: 'pc-gated',
        Qualifier: version,
      }),
    );
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    await client.send(new TagResourceCommand({ Resource: arn, Tags: { release: 'yes' } }));
    const finished = await running;
    assert.equal(finished.output.FunctionError, undefined);
    assert.deepEqual(finished.body, { initType: 'provisioned-concurrency' });
  });

  test('an init that fails ahead of traffic is FAILED with the reason', async () => {
    const client = suite.client;
    await deploy(client, 'pc-fails', FAILS_WHEN_PROVISIONED, { memorySize: 128 });
    const version = await publish(client, 'pc-fails');
    await client.send(
      new PutProvisionedConcurrencyConfigCommand({
        FunctionName: 'pc-fails',
        Qualifier: version,
        ProvisionedConcurrentExecutions: 1,
      }),
    );
    const failed = await untilStatus(
      client,
      'pc-fails',
      version,
      (c) => c.Status !== 'IN_PROGRESS',
    );
    assert.equal(failed.Status, 'FAILED');
    assert.equal(failed.AllocatedProvisionedConcurrentExecutions, 0);
    assert.match(failed.StatusReason ?? '', /no provisioned init here/);
    // On-demand invokes still work.
    const ok = await invokeJson(client, `pc-fails:${version}`);
    assert.equal(ok.body, 'ok');
  });

  test('validation and not-found answers match AWS', async () => {
    const client = suite.client;
    await deploy(client, 'pc-errors', HANDLER('x'), { memorySize: 128 });
    const version = await publish(client, 'pc-errors');
    const put = (qualifier: string, value: number, name = 'pc-errors') =>
      failureOf(
        client.send(
          new PutProvisionedConcurrencyConfigCommand({
            FunctionName: name,
            Qualifier: qualifier,
            ProvisionedConcurrentExecutions: value,
          }),
        ),
      );
    const latest = await put('$LATEST', 1);
    assert.equal(latest.name, 'InvalidParameterValueException');
    assert.equal(
      latest.message,
      'Provisioned Concurrency Configs cannot be applied to unpublished function versions.',
    );
    const zero = await put(version, 0);
    assert.equal(zero.name, 'ValidationException');
    assert.equal(
      zero.message,
      "1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1",
    );
    const noAlias = await put('noalias', 1);
    assert.equal(noAlias.name, 'ResourceNotFoundException');
    assert.equal(
      noAlias.message,
      'Cannot find alias arn: arn:aws:lambda:us-east-1:000000000000:function:pc-errors:noalias',
    );
    const noVersion = await put('10', 1);
    assert.equal(
      noVersion.message,
      'Function not found: arn:aws:lambda:us-east-1:000000000000:function:pc-errors:10',
    );
    const noFunction = await put('1', 1, 'doesnotexist');
    assert.equal(
      noFunction.message,
      'Function not found: arn:aws:lambda:us-east-1:000000000000:function:doesnotexist:1',
    );
    const tooMany = await put(version, 100_000);
    assert.equal(tooMany.name, 'InvalidParameterValueException');
    assert.match(
      tooMany.message,
      /^Specified ConcurrentExecutions for function is greater than account's unreserved concurrency \[\d+\]\.$/,
    );
    const getLatest = await failureOf(config(client, 'pc-errors', '$LATEST'));
    assert.equal(
      getLatest.message,
      'The function resource provided must be an alias or a published version.',
    );
    const missing = await failureOf(config(client, 'pc-errors', version));
    assert.equal(missing.name, 'ProvisionedConcurrencyConfigNotFoundException');
    const deleteMissing = await client.send(
      new DeleteProvisionedConcurrencyConfigCommand({
        FunctionName: 'pc-errors',
        Qualifier: version,
      }),
    );
    assert.equal(deleteMissing.$metadata.httpStatusCode, 204);
    const listMissing = await failureOf(
      client.send(new ListProvisionedConcurrencyConfigsCommand({ FunctionName: 'doesnotexist' })),
    );
    assert.equal(
      listMissing.message,
      'Function not found: arn:aws:lambda:us-east-1:000000000000:function:doesnotexist',
    );

    await client.send(
      new PutFunctionConcurrencyCommand({
        FunctionName: 'pc-errors',
        ReservedConcurrentExecutions: 2,
      }),
    );
    const overReserved = await put(version, 3);
    assert.equal(
      overReserved.message,
      'Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function',
    );
  });
});
