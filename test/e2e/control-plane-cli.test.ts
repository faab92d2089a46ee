/** End to end: the built server driven by the real AWS CLI v2 (Debian's awscli, /usr/bin/aws). */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { awsLambda, awsLambdaJson } from '../helpers/aws-cli.js';
import { ROLE } from '../helpers/lambda-client.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { buildZip, helloZip } from '../helpers/zips.js';

describe('control plane with the AWS CLI', () => {
  const dir = tempDir();
  let server: ServerProcess;

  const aws = (args: readonly string[], env: NodeJS.ProcessEnv = {}) =>
    awsLambda(server.endpoint, dir.path, args, env);
  const ok = (args: readonly string[]) => awsLambdaJson(server.endpoint, dir.path, args);

  let zipFile: string;
  before(async () => {
    server = await startServer({ dataDir: join(dir.path, 'data') });
    zipFile = join(dir.path, 'function.zip');
    writeFileSync(zipFile, await helloZip());
  });
  after(async () => {
    await server.stop();
    dir.remove();
  });

  const createArgs = (name: string) => [
    'create-function',
    '--function-name',
    name,
    '--runtime',
    'nodejs20.x',
    '--role',
    ROLE,
    '--handler',
    'index.handler',
    '--zip-file',
    `fileb://${zipFile}`,
  ];

  test('create, wait, get, update, wait, tag, list and delete', async () => {
    const created = await ok([...createArgs('cli-fn'), '--tags', 'team=core']);
    assert.equal(created['State'], 'Pending');
    await ok(['wait', 'function-active-v2', '--function-name', 'cli-fn']);
    const got = await ok(['get-function', '--function-name', 'cli-fn']);
    assert.equal((got['Configuration'] as Record<string, unknown>)['State'], 'Active');
    assert.deepEqual(got['Tags'], { team: 'core' });

    const updated = await ok([
      'update-function-configuration',
      '--function-name',
      'cli-fn',
      '--memory-size',
      '512',
      '--environment',
      'Variables={STAGE=prod}',
    ]);
    assert.equal(updated['LastUpdateStatus'], 'InProgress');
    await ok(['wait', 'function-updated-v2', '--function-name', 'cli-fn']);
    const config = await ok(['get-function-configuration', '--function-name', 'cli-fn']);
    assert.equal(config['MemorySize'], 512);
    assert.deepEqual(config['Environment'], { Variables: { STAGE: 'prod' } });

    writeFileSync(join(dir.path, 'v2.zip'), await helloZip('exports.handler = async () => 2;\n'));
    const code = await ok([
      'update-function-code',
      '--function-name',
      'cli-fn',
      '--zip-file',
      `fileb://${join(dir.path, 'v2.zip')}`,
    ]);
    assert.notEqual(code['CodeSha256'], created['CodeSha256']);
    await ok(['wait', 'function-updated-v2', '--function-name', 'cli-fn']);

    const arn = created['FunctionArn'] as string;
    await ok(['tag-resource', '--resource', arn, '--tags', 'owner=me']);
    await ok(['untag-resource', '--resource', arn, '--tag-keys', 'team']);
    assert.deepEqual((await ok(['list-tags', '--resource', arn]))['Tags'], { owner: 'me' });

    const listed = await ok(['list-functions']);
    assert.ok(
      (listed['Functions'] as Array<Record<string, unknown>>).some(
        (f) => f['FunctionName'] === 'cli-fn',
      ),
    );
    const settings = await ok(['get-account-settings']);
    assert.ok(((settings['AccountUsage'] as Record<string, number>)['FunctionCount'] ?? 0) >= 1);

    await ok(['delete-function', '--function-name', 'cli-fn']);
    const gone = await aws(['get-function', '--function-name', 'cli-fn']);
    assert.notEqual(gone.code, 0);
    assert.match(
      gone.stderr,
      /ResourceNotFoundException.*Function not found: arn:aws:lambda:us-east-1:000000000000:function:cli-fn/,
    );
  });

  test('the CLI paginator walks every page', async () => {
    for (const n of [1, 2, 3]) await ok(createArgs(`cli-page-${n}`));
    const all = await ok(['list-functions', '--page-size', '1']);
    const names = (all['Functions'] as Array<Record<string, unknown>>).map(
      (f) => f['FunctionName'],
    );
    assert.deepEqual(
      names.filter((n) => String(n).startsWith('cli-page-')),
      ['cli-page-1', 'cli-page-2', 'cli-page-3'],
    );
    const firstTwo = await ok(['list-functions', '--max-items', '2']);
    assert.equal((firstTwo['Functions'] as unknown[]).length, 2);
    assert.equal(typeof firstTwo['NextToken'], 'string');
  });

  test('errors come back as the CLI expects them', async () => {
    const hostile = join(dir.path, 'hostile.zip');
    writeFileSync(hostile, await buildZip([{ name: '../../etc/cron.d/x', content: 'boom' }]));
    const bad = await aws([...createArgs('cli-hostile').slice(0, -1), `fileb://${hostile}`]);
    assert.equal(bad.code, 254);
    assert.match(bad.stderr, /InvalidParameterValueException.*Could not unzip uploaded file/);

    const memory = await aws([...createArgs('cli-mem'), '--memory-size', '99999']);
    assert.match(memory.stderr, /ValidationException.*memorySize/);
    const duplicate = await aws(createArgs('cli-page-1'));
    assert.match(duplicate.stderr, /ResourceConflictException.*Function already exist: cli-page-1/);

    const wrongKey = await aws(['list-functions'], { AWS_SECRET_ACCESS_KEY: 'wrong' });
    assert.match(wrongKey.stderr, /InvalidSignatureException/);
    const wrongRegion = await aws(['list-functions'], { AWS_DEFAULT_REGION: 'eu-west-1' });
    assert.match(wrongRegion.stderr, /InvalidSignatureException.*region/);
  });
});
