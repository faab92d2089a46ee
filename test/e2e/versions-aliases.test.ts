/** Versions and aliases through the AWS SDK: publishing, qualified reads and invokes, routing. */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  CreateAliasCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  GetAliasCommand,
  GetFunctionCommand,
  InvokeCommand,
  ListFunctionsCommand,
  ListAliasesCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { deploy } from '../helpers/functions.js';
import { failureOf } from '../helpers/lambda-client.js';
import { useServer } from '../helpers/server-suite.js';

describe('versions and aliases', () => {
  const suite = useServer();
  let client: LambdaClient;
  before(async () => {
    client = suite.client;
    await deploy(
      client,
      'ver',
      {
        'index.js':
          'exports.handler = async () => ({ version: process.env.AWS_LAMBDA_FUNCTION_VERSION, greeting: process.env.GREETING });',
      },
      { environment: { GREETING: 'one' } },
    );
  });

  test('publishing snapshots $LATEST; an unchanged $LATEST returns the existing version', async () => {
    const v1 = await client.send(
      new PublishVersionCommand({ FunctionName: 'ver', Description: 'first' }),
    );
    assert.equal(v1.$metadata.httpStatusCode, 201);
    assert.equal(v1.Version, '1');
    assert.equal(v1.State, 'Active');
    assert.equal(v1.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:ver:1');
    assert.equal(v1.Description, 'first');
    assert.equal(
      (await client.send(new PublishVersionCommand({ FunctionName: 'ver' }))).Version,
      '1',
    );

    const wrongSha = await failureOf(
      client.send(new PublishVersionCommand({ FunctionName: 'ver', CodeSha256: 'nope' })),
    );
    assert.equal(wrongSha.name, 'InvalidParameterValueException');
    assert.match(
      wrongSha.message,
      /^CodeSHA256 \(nope\) is different from current CodeSHA256 in \$LATEST/,
    );

    await client.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: 'ver',
        Environment: { Variables: { GREETING: 'two' } },
      }),
    );
    await waitUntilFunctionUpdatedV2(
      { client, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
      { FunctionName: 'ver' },
    );
    assert.equal(
      (await client.send(new PublishVersionCommand({ FunctionName: 'ver' }))).Version,
      '2',
    );

    const listed = await client.send(new ListVersionsByFunctionCommand({ FunctionName: 'ver' }));
    assert.deepEqual(
      listed.Versions?.map((v) => [v.Version, v.FunctionArn?.split(':').at(-1)]),
      [
        ['$LATEST', '$LATEST'],
        ['1', '1'],
        ['2', '2'],
      ],
    );
    const all = await client.send(new ListFunctionsCommand({ FunctionVersion: 'ALL' }));
    assert.deepEqual(
      all.Functions?.filter((f) => f.FunctionName === 'ver').map((f) =>
        f.FunctionArn?.split(':').at(-1),
      ),
      ['$LATEST', '1', '2'],
    );
    const paged = await client.send(
      new ListVersionsByFunctionCommand({ FunctionName: 'ver', MaxItems: 2 }),
    );
    assert.equal(paged.Versions?.length, 2);
    const rest = await client.send(
      new ListVersionsByFunctionCommand({ FunctionName: 'ver', Marker: paged.NextMarker }),
    );
    assert.deepEqual(
      rest.Versions?.map((v) => v.Version),
      ['2'],
    );
    assert.equal(rest.NextMarker, undefined);
  });

  test('versions are immutable snapshots: each runs its own configuration', async () => {
    const invoke = async (Qualifier?: string) => {
      const out = await client.send(
        new InvokeCommand({ FunctionName: 'ver', ...(Qualifier ? { Qualifier } : {}) }),
      );
      return {
        executed: out.ExecutedVersion,
        body: JSON.parse(Buffer.from(out.Payload ?? []).toString()) as unknown,
      };
    };
    assert.deepEqual(await invoke('1'), { executed: '1', body: { version: '1', greeting: 'one' } });
    assert.deepEqual(await invoke('2'), { executed: '2', body: { version: '2', greeting: 'two' } });
    assert.deepEqual(await invoke(), {
      executed: '$LATEST',
      body: { version: '$LATEST', greeting: 'two' },
    });
    const got = await client.send(new GetFunctionCommand({ FunctionName: 'ver', Qualifier: '1' }));
    assert.equal(got.Configuration?.Version, '1');
    assert.deepEqual(got.Configuration?.Environment?.Variables, { GREETING: 'one' });
    assert.equal(
      (
        await failureOf(
          client.send(new GetFunctionCommand({ FunctionName: 'ver', Qualifier: '9' })),
        )
      ).name,
      'ResourceNotFoundException',
    );
  });

  test('aliases: create, get, update, list, route by weight, delete', async () => {
    const created = await client.send(
      new CreateAliasCommand({
        FunctionName: 'ver',
        Name: 'live',
        FunctionVersion: '1',
        Description: 'prod',
        RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } },
      }),
    );
    assert.equal(created.$metadata.httpStatusCode, 201);
    assert.equal(created.AliasArn, 'arn:aws:lambda:us-east-1:000000000000:function:ver:live');
    assert.deepEqual(created.RoutingConfig, { AdditionalVersionWeights: { '2': 0.5 } });

    const executed = new Map<string, number>();
    for (let i = 0; i < 40; i += 1) {
      const out = await client.send(new InvokeCommand({ FunctionName: 'ver', Qualifier: 'live' }));
      executed.set(out.ExecutedVersion ?? '', (executed.get(out.ExecutedVersion ?? '') ?? 0) + 1);
    }
    // 40 fair coin flips: each side appears at least 8 times except with probability < 1e-4.
    assert.ok(
      (executed.get('1') ?? 0) >= 8 && (executed.get('2') ?? 0) >= 8,
      JSON.stringify([...executed]),
    );

    const byAliasArn = await client.send(new GetFunctionCommand({ FunctionName: 'ver:live' }));
    assert.equal(
      byAliasArn.Configuration?.FunctionArn,
      'arn:aws:lambda:us-east-1:000000000000:function:ver:live',
    );
    assert.equal(byAliasArn.Configuration?.Version, '1');

    const updated = await client.send(
      new UpdateAliasCommand({
        FunctionName: 'ver',
        Name: 'live',
        FunctionVersion: '2',
        RoutingConfig: { AdditionalVersionWeights: {} },
        RevisionId: created.RevisionId,
      }),
    );
    assert.equal(updated.FunctionVersion, '2');
    assert.equal(updated.RoutingConfig, undefined);
    const stale = await failureOf(
      client.send(
        new UpdateAliasCommand({
          FunctionName: 'ver',
          Name: 'live',
          Description: 'x',
          RevisionId: created.RevisionId,
        }),
      ),
    );
    assert.equal(stale.name, 'PreconditionFailedException');
    const out = await client.send(new InvokeCommand({ FunctionName: 'ver', Qualifier: 'live' }));
    assert.equal(out.ExecutedVersion, '2');

    assert.equal(
      (await client.send(new GetAliasCommand({ FunctionName: 'ver', Name: 'live' }))).Description,
      'prod',
    );
    await client.send(
      new CreateAliasCommand({ FunctionName: 'ver', Name: 'old', FunctionVersion: '1' }),
    );
    const listed = await client.send(new ListAliasesCommand({ FunctionName: 'ver' }));
    assert.deepEqual(
      listed.Aliases?.map((a) => a.Name),
      ['live', 'old'],
    );
    const forVersion1 = await client.send(
      new ListAliasesCommand({ FunctionName: 'ver', FunctionVersion: '1' }),
    );
    assert.deepEqual(
      forVersion1.Aliases?.map((a) => a.Name),
      ['old'],
    );

    const inUse = await failureOf(
      client.send(new DeleteFunctionCommand({ FunctionName: 'ver', Qualifier: '1' })),
    );
    assert.equal(inUse.name, 'ResourceConflictException');
    await client.send(new DeleteAliasCommand({ FunctionName: 'ver', Name: 'old' }));
    await client.send(new DeleteFunctionCommand({ FunctionName: 'ver', Qualifier: '1' }));
    assert.equal(
      (
        await failureOf(
          client.send(new GetFunctionCommand({ FunctionName: 'ver', Qualifier: '1' })),
        )
      ).name,
      'ResourceNotFoundException',
    );
  });

  test('alias validation as AWS answers it', async () => {
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [
        { Name: '2024', FunctionVersion: '2' },
        'ValidationException',
        /Value '2024' at 'name' failed to satisfy constraint/,
      ],
      [
        {
          Name: 'a1',
          FunctionVersion: '2',
          RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } },
        },
        'InvalidParameterValueException',
        /^Invalid function version 2\. Function version 2 is already included in routing configuration\.$/,
      ],
      [
        {
          Name: 'a2',
          FunctionVersion: '$LATEST',
          RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } },
        },
        'InvalidParameterValueException',
        /^\$LATEST is not supported for an alias pointing to more than 1 version$/,
      ],
      [
        {
          Name: 'a3',
          FunctionVersion: '2',
          RoutingConfig: { AdditionalVersionWeights: { '1': 2 } },
        },
        'ValidationException',
        /Value '\{1=2\.0\}' at 'routingConfig\.additionalVersionWeights'/,
      ],
      [
        { Name: 'a4', FunctionVersion: '10' },
        'ResourceNotFoundException',
        /^Function not found: arn:aws:lambda:us-east-1:000000000000:function:ver:10$/,
      ],
      [
        { Name: 'live', FunctionVersion: '2' },
        'ResourceConflictException',
        /^Alias already exists: arn:aws:lambda:us-east-1:000000000000:function:ver:live$/,
      ],
    ];
    for (const [input, name, message] of cases) {
      const failure = await failureOf(
        client.send(new CreateAliasCommand({ FunctionName: 'ver', ...input } as never)),
      );
      assert.equal(failure.name, name, JSON.stringify(input));
      assert.match(failure.message, message);
    }
    const missing = await failureOf(
      client.send(new GetAliasCommand({ FunctionName: 'ver', Name: 'nope' })),
    );
    assert.equal(
      missing.message,
      'Cannot find alias arn: arn:aws:lambda:us-east-1:000000000000:function:ver:nope',
    );
  });
});
