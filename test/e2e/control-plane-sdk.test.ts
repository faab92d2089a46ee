/** End to end: the built server driven by the real AWS SDK for JavaScript v3. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetAccountSettingsCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  ListFunctionsCommand,
  ListTagsCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  paginateListFunctions,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { failureOf, lambdaClient, ROLE } from '../helpers/lambda-client.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { buildZip, helloZip } from '../helpers/zips.js';

const WAIT = { maxWaitTime: 60, minDelay: 1, maxDelay: 1 };

describe('control plane with the AWS SDK', () => {
  const dir = tempDir();
  let server: ServerProcess;
  let client: LambdaClient;

  before(async () => {
    server = await startServer({ dataDir: dir.path });
    client = lambdaClient(server.endpoint);
  });
  after(async () => {
    client.destroy();
    await server.stop();
    dir.remove();
  });

  const create = async (name: string, extra: Record<string, unknown> = {}) =>
    client.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs20.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { ZipFile: await helloZip() },
        ...extra,
      }),
    );

  test('create answers Pending, then the waiter sees Active', async () => {
    const zip = await helloZip();
    const created = await client.send(
      new CreateFunctionCommand({
        FunctionName: 'sdk-life',
        Runtime: 'nodejs20.x',
        Role: ROLE,
        Handler: 'index.handler',
        Code: { ZipFile: zip },
        Environment: { Variables: { GREETING: 'hi' } },
        Tags: { team: 'core' },
      }),
    );
    assert.equal(created.$metadata.httpStatusCode, 201);
    assert.equal(created.State, 'Pending');
    assert.equal(created.StateReasonCode, 'Creating');
    assert.equal(created.LastUpdateStatus, undefined);
    assert.equal(created.CodeSha256, createHash('sha256').update(zip).digest('base64'));
    assert.equal(created.CodeSize, zip.length);
    assert.equal(created.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:sdk-life');
    assert.equal(created.Timeout, 3);
    assert.equal(created.MemorySize, 128);
    assert.deepEqual(created.EphemeralStorage, { Size: 512 });
    assert.deepEqual(created.Architectures, ['x86_64']);
    assert.deepEqual(created.TracingConfig, { Mode: 'PassThrough' });
    assert.deepEqual(created.LoggingConfig, {
      LogFormat: 'Text',
      LogGroup: '/aws/lambda/sdk-life',
    });
    assert.match(created.LastModified ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    assert.ok(created.$metadata.requestId);

    await waitUntilFunctionActiveV2({ client, ...WAIT }, { FunctionName: 'sdk-life' });
    const got = await client.send(new GetFunctionCommand({ FunctionName: 'sdk-life' }));
    assert.equal(got.Configuration?.State, 'Active');
    assert.equal(got.Configuration?.LastUpdateStatus, 'Successful');
    assert.equal(got.Configuration?.StateReason, undefined);
    assert.notEqual(got.Configuration?.RevisionId, created.RevisionId);
    assert.deepEqual(got.Tags, { team: 'core' });
    assert.equal(got.Concurrency, undefined);
    assert.equal(got.Code?.RepositoryType, 'S3');
    const download = await fetch(got.Code?.Location ?? '');
    assert.equal(download.status, 200);
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), zip);
    const tampered = await fetch(`${got.Code?.Location ?? ''}0`);
    assert.equal(tampered.status, 403);
  });

  test('the function name may be a partial or full ARN, percent-encoded in paths', async () => {
    await create('sdk-arn');
    const byArn = await client.send(
      new GetFunctionConfigurationCommand({
        FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:sdk-arn',
      }),
    );
    assert.equal(byArn.FunctionName, 'sdk-arn');
    const byPartial = await client.send(
      new GetFunctionConfigurationCommand({
        FunctionName: '000000000000:function:sdk-arn',
        Qualifier: '$LATEST',
      }),
    );
    assert.equal(
      byPartial.FunctionArn,
      'arn:aws:lambda:us-east-1:000000000000:function:sdk-arn:$LATEST',
    );
    const otherRegion = await failureOf(
      client.send(
        new GetFunctionCommand({
          FunctionName: 'arn:aws:lambda:eu-west-1:000000000000:function:sdk-arn',
        }),
      ),
    );
    assert.equal(otherRegion.name, 'ResourceNotFoundException');
    assert.equal(
      otherRegion.message,
      "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')",
    );
  });

  test('updates go InProgress then Successful; stale RevisionIds get 412', async () => {
    const created = await create('sdk-update');
    await waitUntilFunctionActiveV2({ client, ...WAIT }, { FunctionName: 'sdk-update' });
    const before = await client.send(
      new GetFunctionConfigurationCommand({ FunctionName: 'sdk-update' }),
    );
    const stale = await failureOf(
      client.send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: 'sdk-update',
          MemorySize: 256,
          RevisionId: created.RevisionId,
        }),
      ),
    );
    assert.equal(stale.name, 'PreconditionFailedException');
    assert.equal(stale.status, 412);

    const updated = await client.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: 'sdk-update',
        MemorySize: 256,
        Timeout: 30,
        Description: 'changed',
        RevisionId: before.RevisionId,
      }),
    );
    assert.equal(updated.LastUpdateStatus, 'InProgress');
    assert.equal(updated.LastUpdateStatusReasonCode, 'Creating');
    assert.equal(updated.MemorySize, 256);
    await waitUntilFunctionUpdatedV2({ client, ...WAIT }, { FunctionName: 'sdk-update' });
    const after = await client.send(
      new GetFunctionConfigurationCommand({ FunctionName: 'sdk-update' }),
    );
    assert.equal(after.LastUpdateStatus, 'Successful');
    assert.equal(after.Timeout, 30);
    assert.equal(after.Description, 'changed');

    const newZip = await helloZip('exports.handler = async () => "v2";\n');
    const code = await client.send(
      new UpdateFunctionCodeCommand({ FunctionName: 'sdk-update', ZipFile: newZip }),
    );
    assert.equal(code.LastUpdateStatus, 'InProgress');
    assert.equal(code.CodeSha256, createHash('sha256').update(newZip).digest('base64'));
    await waitUntilFunctionUpdatedV2({ client, ...WAIT }, { FunctionName: 'sdk-update' });
    const final = await client.send(new GetFunctionCommand({ FunctionName: 'sdk-update' }));
    assert.equal(final.Configuration?.CodeSha256, code.CodeSha256);
    assert.equal(final.Configuration?.LastUpdateStatus, 'Successful');
  });

  test('ListFunctions pages with Marker/MaxItems and omits NextMarker on the last page', async () => {
    for (const n of [1, 2, 3, 4, 5]) await create(`sdk-page-${n}`);
    const names: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(
        new ListFunctionsCommand({ MaxItems: 2, ...(marker ? { Marker: marker } : {}) }),
      );
      pages += 1;
      assert.ok((page.Functions ?? []).length <= 2);
      for (const f of page.Functions ?? []) {
        names.push(f.FunctionName ?? '');
        assert.equal(f.State, undefined);
      }
      marker = page.NextMarker;
      if (marker !== undefined) assert.notEqual(marker, '');
    } while (marker !== undefined);
    assert.ok(pages >= 3);
    assert.deepEqual(names, [...names].sort());
    for (const n of [1, 2, 3, 4, 5]) assert.ok(names.includes(`sdk-page-${n}`));

    const viaPaginator: string[] = [];
    for await (const page of paginateListFunctions({ client, pageSize: 2 }, {})) {
      for (const f of page.Functions ?? []) viaPaginator.push(f.FunctionName ?? '');
    }
    assert.deepEqual(viaPaginator, names);
  });

  test('tags: tag, list, untag', async () => {
    const created = await create('sdk-tags', { Tags: { a: '1' } });
    const arn = created.FunctionArn ?? '';
    await client.send(new TagResourceCommand({ Resource: arn, Tags: { b: '2', a: 'one' } }));
    assert.deepEqual((await client.send(new ListTagsCommand({ Resource: arn }))).Tags, {
      a: 'one',
      b: '2',
    });
    await client.send(new UntagResourceCommand({ Resource: arn, TagKeys: ['a', 'missing'] }));
    assert.deepEqual((await client.send(new ListTagsCommand({ Resource: arn }))).Tags, { b: '2' });
    const versioned = await failureOf(client.send(new ListTagsCommand({ Resource: `${arn}:1` })));
    assert.equal(versioned.name, 'InvalidParameterValueException');
    const missing = await failureOf(client.send(new ListTagsCommand({ Resource: `${arn}-nope` })));
    assert.equal(missing.name, 'ResourceNotFoundException');
  });

  test('bad input gets AWS errors and changes nothing', async () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['sdk-bad-mem', { MemorySize: 64 }, 'ValidationException'],
      ['sdk-bad-timeout', { Timeout: 901 }, 'ValidationException'],
      ['sdk-bad-storage', { EphemeralStorage: { Size: 20000 } }, 'ValidationException'],
      ['sdk-bad-desc', { Description: 'x'.repeat(257) }, 'ValidationException'],
      [
        'sdk-bad-env',
        { Environment: { Variables: { BIG: 'x'.repeat(5000) } } },
        'InvalidParameterValueException',
      ],
      ['sdk-bad-envkey', { Environment: { Variables: { '1abc': 'x' } } }, 'ValidationException'],
      ['sdk-bad-runtime', { Runtime: 'java21' }, 'InvalidParameterValueException'],
      ['sdk-bad-role', { Role: 'r1' }, 'ValidationException'],
      ['sdk-bad-s3', { Code: { S3Bucket: 'b', S3Key: 'k' } }, 'InvalidParameterValueException'],
      [
        'sdk-bad-zip',
        { Code: { ZipFile: Buffer.from('not a zip at all') } },
        'InvalidParameterValueException',
      ],
      ['x'.repeat(65), {}, 'InvalidParameterValueException'],
      ['bad!name', {}, 'ValidationException'],
    ];
    for (const [name, extra, expected] of cases) {
      const failure = await failureOf(create(name, extra));
      assert.equal(failure.name, expected, `${name}: ${failure.message}`);
      assert.equal(failure.status, 400, name);
    }
    const hostile = await buildZip([
      { name: 'index.js', content: 'x' },
      { name: '../escape.js', content: 'x' },
    ]);
    const traversal = await failureOf(create('sdk-bad-traversal', { Code: { ZipFile: hostile } }));
    assert.equal(traversal.name, 'InvalidParameterValueException');
    assert.match(traversal.message, /^Could not unzip uploaded file/);
    const link = await buildZip([{ name: 'passwd', content: '/etc/passwd', mode: 0o120777 }]);
    assert.equal(
      (await failureOf(create('sdk-bad-link', { Code: { ZipFile: link } }))).name,
      'InvalidParameterValueException',
    );

    const listed = await client.send(new ListFunctionsCommand({}));
    for (const f of listed.Functions ?? [])
      assert.ok(!(f.FunctionName ?? '').startsWith('sdk-bad'));

    await create('sdk-dup');
    const dup = await failureOf(create('sdk-dup'));
    assert.equal(dup.name, 'ResourceConflictException');
    assert.equal(dup.status, 409);
    assert.equal(dup.message, 'Function already exist: sdk-dup');

    const missing = await failureOf(
      client.send(new GetFunctionCommand({ FunctionName: 'sdk-missing' })),
    );
    assert.equal(missing.name, 'ResourceNotFoundException');
    assert.equal(
      missing.message,
      'Function not found: arn:aws:lambda:us-east-1:000000000000:function:sdk-missing',
    );
    const missingUpdate = await failureOf(
      client.send(
        new UpdateFunctionConfigurationCommand({ FunctionName: 'sdk-missing', Timeout: 5 }),
      ),
    );
    assert.equal(missingUpdate.status, 404);
  });

  test('an inline zip over 50 MB is refused with 413', async () => {
    const big = Buffer.alloc(52_428_801, 7);
    const failure = await failureOf(create('sdk-too-big', { Code: { ZipFile: big } }));
    assert.equal(failure.status, 413);
    assert.equal(failure.name, 'RequestEntityTooLargeException');
  });

  test('delete answers 204, removes the function and its stored code', async () => {
    const zip = await helloZip('exports.handler = async () => "only-here";\n');
    await create('sdk-delete', { Code: { ZipFile: zip } });
    await waitUntilFunctionActiveV2({ client, ...WAIT }, { FunctionName: 'sdk-delete' });
    const hex = createHash('sha256').update(zip).digest('hex');
    assert.ok(existsSync(join(dir.path, 'code', 'zips', `${hex}.zip`)));
    const deleted = await client.send(new DeleteFunctionCommand({ FunctionName: 'sdk-delete' }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    assert.equal(
      (await failureOf(client.send(new GetFunctionCommand({ FunctionName: 'sdk-delete' })))).status,
      404,
    );
    assert.equal(
      (await failureOf(client.send(new DeleteFunctionCommand({ FunctionName: 'sdk-delete' }))))
        .status,
      404,
    );
    assert.ok(!existsSync(join(dir.path, 'code', 'zips', `${hex}.zip`)));
    assert.ok(!readdirSync(join(dir.path, 'code', 'trees')).includes(hex));
  });

  test('GetAccountSettings reports limits and usage', async () => {
    const settings = await client.send(new GetAccountSettingsCommand({}));
    assert.equal(settings.AccountLimit?.CodeSizeZipped, 52_428_800);
    assert.equal(settings.AccountLimit?.CodeSizeUnzipped, 262_144_000);
    const listed = await client.send(new ListFunctionsCommand({ MaxItems: 50 }));
    assert.equal(settings.AccountUsage?.FunctionCount, (listed.Functions ?? []).length);
    assert.ok((settings.AccountUsage?.TotalCodeSize ?? 0) > 0);
  });

  test('wrong credentials are refused', async () => {
    const wrongSecret = lambdaClient(server.endpoint, {
      accessKeyId: 'LKIATESTTESTTEST0001',
      secretAccessKey: 'nope',
    });
    const badSig = await failureOf(wrongSecret.send(new ListFunctionsCommand({})));
    assert.equal(badSig.name, 'InvalidSignatureException');
    assert.equal(badSig.status, 403);
    const unknownKey = lambdaClient(server.endpoint, {
      accessKeyId: 'AKIAUNKNOWN',
      secretAccessKey: 'x',
    });
    assert.equal(
      (await failureOf(unknownKey.send(new ListFunctionsCommand({})))).name,
      'UnrecognizedClientException',
    );
    wrongSecret.destroy();
    unknownKey.destroy();
    const unsigned = await fetch(`${server.endpoint}/2015-03-31/functions`);
    assert.equal(unsigned.status, 403);
    assert.equal(unsigned.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
    assert.ok(unsigned.headers.get('x-amzn-requestid'));
    assert.ok(unsigned.headers.get('date'));
  });
});

describe('durability across restarts', () => {
  test('functions survive a clean stop and a kill -9 during Pending', async () => {
    const dir = tempDir();
    try {
      let server = await startServer({ dataDir: dir.path });
      let client = lambdaClient(server.endpoint);
      const create = async (name: string) =>
        client.send(
          new CreateFunctionCommand({
            FunctionName: name,
            Runtime: 'nodejs20.x',
            Role: ROLE,
            Handler: 'index.handler',
            Code: { ZipFile: await helloZip(`exports.handler = async () => "${name}";\n`) },
          }),
        );
      await create('kept');
      await waitUntilFunctionActiveV2({ client, ...WAIT }, { FunctionName: 'kept' });
      client.destroy();
      assert.equal(await server.stop('SIGTERM'), 0);
      assert.match(server.output(), /stopped/);

      server = await startServer({ dataDir: dir.path });
      client = lambdaClient(server.endpoint);
      const kept = await client.send(new GetFunctionCommand({ FunctionName: 'kept' }));
      assert.equal(kept.Configuration?.State, 'Active');
      const acknowledged = await create('crashed');
      assert.equal(acknowledged.State, 'Pending');
      client.destroy();
      await server.stop('SIGKILL');

      server = await startServer({ dataDir: dir.path });
      client = lambdaClient(server.endpoint);
      await waitUntilFunctionActiveV2({ client, ...WAIT }, { FunctionName: 'crashed' });
      const crashed = await client.send(new GetFunctionCommand({ FunctionName: 'crashed' }));
      assert.equal(crashed.Configuration?.CodeSha256, acknowledged.CodeSha256);
      client.destroy();
      await server.stop();
    } finally {
      dir.remove();
    }
  });
});
