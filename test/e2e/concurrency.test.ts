/** Reserved concurrency and the account limit: settings, validation, and throttled invokes. */
import assert from 'node:assert/strict';
import { totalmem } from 'node:os';
import { describe, test } from 'node:test';
import {
  DeleteFunctionConcurrencyCommand,
  GetAccountSettingsCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  InvokeCommand,
  PutFunctionConcurrencyCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { deploy } from '../helpers/functions.js';
import { failureOf, lambdaClient } from '../helpers/lambda-client.js';
import { startServer, tempDir } from '../helpers/server-process.js';

const SLOW = {
  'index.js':
    'exports.handler = async () => { await new Promise((r) => setTimeout(r, 1500)); return "done"; };',
};

async function withServer(
  args: string[],
  body: (client: LambdaClient) => Promise<void>,
): Promise<void> {
  const dir = tempDir();
  const server = await startServer({ dataDir: dir.path, args });
  const client = lambdaClient(server.endpoint);
  try {
    await body(client);
  } finally {
    client.destroy();
    await server.stop();
    dir.remove();
  }
}

/** Starts two invokes together; resolves with how each ended (a result or an error's Reason). */
async function twoAtOnce(client: LambdaClient, name: string): Promise<string[]> {
  const outcome = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (error: unknown) => `${(error as Error).name}:${(error as { Reason?: string }).Reason ?? ''}`,
    );
  const results = await Promise.all(
    [1, 2].map(() => outcome(client.send(new InvokeCommand({ FunctionName: name })))),
  );
  return results.sort();
}

describe('concurrency controls', () => {
  test('reserved concurrency: put, get, throttle with its reason, account figures, delete', async () => {
    const aws = ['--concurrency-limit', '1000', '--min-unreserved-concurrency', '100'];
    await withServer(aws, async (client) => {
      await deploy(client, 'capped', SLOW);
      const put = await client.send(
        new PutFunctionConcurrencyCommand({
          FunctionName: 'capped',
          ReservedConcurrentExecutions: 0,
        }),
      );
      assert.equal(put.ReservedConcurrentExecutions, 0);
      assert.equal(
        (await client.send(new GetFunctionConcurrencyCommand({ FunctionName: 'capped' })))
          .ReservedConcurrentExecutions,
        0,
      );
      assert.deepEqual(
        (await client.send(new GetFunctionCommand({ FunctionName: 'capped' }))).Concurrency,
        { ReservedConcurrentExecutions: 0 },
      );

      const throttled = await failureOf(client.send(new InvokeCommand({ FunctionName: 'capped' })));
      assert.equal(throttled.status, 429);
      assert.equal(throttled.name, 'TooManyRequestsException');
      assert.equal(throttled.message, 'Rate Exceeded.');

      await client.send(
        new PutFunctionConcurrencyCommand({
          FunctionName: 'capped',
          ReservedConcurrentExecutions: 1,
        }),
      );
      assert.deepEqual(await twoAtOnce(client, 'capped'), [
        'TooManyRequestsException:ReservedFunctionConcurrentInvocationLimitExceeded',
        'ok',
      ]);
      const settings = await client.send(new GetAccountSettingsCommand({}));
      assert.equal(settings.AccountLimit?.ConcurrentExecutions, 1000);
      assert.equal(settings.AccountLimit?.UnreservedConcurrentExecutions, 999);

      const tooMuch = await failureOf(
        client.send(
          new PutFunctionConcurrencyCommand({
            FunctionName: 'capped',
            ReservedConcurrentExecutions: 901,
          }),
        ),
      );
      assert.equal(tooMuch.name, 'InvalidParameterValueException');
      assert.equal(
        tooMuch.message,
        "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].",
      );
      const qualified = await failureOf(
        client.send(
          new PutFunctionConcurrencyCommand({
            FunctionName: 'capped:1',
            ReservedConcurrentExecutions: 1,
          }),
        ),
      );
      assert.match(qualified.message, /^This operation is permitted on Lambda functions only/);

      await client.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'capped' }));
      assert.equal(
        (await client.send(new GetFunctionConcurrencyCommand({ FunctionName: 'capped' })))
          .ReservedConcurrentExecutions,
        undefined,
      );
      assert.deepEqual(await twoAtOnce(client, 'capped'), ['ok', 'ok']);
    });
  });

  test('the account limit throttles unreserved functions with ConcurrentInvocationLimitExceeded', async () => {
    await withServer(
      ['--concurrency-limit', '1', '--min-unreserved-concurrency', '0'],
      async (client) => {
        await deploy(client, 'pooled', SLOW);
        assert.deepEqual(await twoAtOnce(client, 'pooled'), [
          'TooManyRequestsException:ConcurrentInvocationLimitExceeded',
          'ok',
        ]);
      },
    );
  });
});

test('without options the account limit counts 128 MB environments that fit the host memory', async () => {
  await withServer([], async (client) => {
    const settings = await client.send(new GetAccountSettingsCommand({}));
    const limit = settings.AccountLimit?.ConcurrentExecutions ?? 0;
    const memoryMiB = Math.floor((totalmem() / (1024 * 1024)) * 0.75);
    assert.equal(limit, Math.max(10, Math.floor(memoryMiB / 128)));
    assert.equal(settings.AccountLimit?.UnreservedConcurrentExecutions, limit);
    // The minimum left unreserved is a tenth of the limit (at most 100).
    const tooMuch = await failureOf(
      client.send(
        new PutFunctionConcurrencyCommand({
          FunctionName: 'nothing-yet',
          ReservedConcurrentExecutions: limit,
        }),
      ),
    );
    assert.equal(
      tooMuch.message,
      `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${Math.min(100, Math.floor(limit / 10))}].`,
    );
  });
});
