/** Versions, aliases and Publish through the real AWS CLI v2. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { awsLambdaJson } from '../helpers/aws-cli.js';
import { ROLE } from '../helpers/lambda-client.js';
import { useServer } from '../helpers/server-suite.js';
import { helloZip } from '../helpers/zips.js';

const suite = useServer();
const aws = (args: readonly string[]) => awsLambdaJson(suite.server.endpoint, suite.workDir, args);

test('create with --publish, publish, alias with weights, invoke through the alias', async () => {
  const zip = join(suite.workDir, 'f.zip');
  writeFileSync(
    zip,
    await helloZip('exports.handler = async () => process.env.AWS_LAMBDA_FUNCTION_VERSION;\n'),
  );
  const created = await aws([
    'create-function',
    '--function-name',
    'cliv',
    '--runtime',
    'nodejs20.x',
    '--role',
    ROLE,
    '--handler',
    'index.handler',
    '--zip-file',
    `fileb://${zip}`,
    '--publish',
  ]);
  assert.equal(created['Version'], '1');
  writeFileSync(
    zip,
    await helloZip(
      'exports.handler = async () => "v2:" + process.env.AWS_LAMBDA_FUNCTION_VERSION;\n',
    ),
  );
  const updated = await aws([
    'update-function-code',
    '--function-name',
    'cliv',
    '--zip-file',
    `fileb://${zip}`,
    '--publish',
  ]);
  assert.equal(updated['Version'], '2');
  assert.equal(updated['FunctionArn'], 'arn:aws:lambda:us-east-1:000000000000:function:cliv:2');
  const versions = await aws(['list-versions-by-function', '--function-name', 'cliv']);
  assert.deepEqual(
    (versions['Versions'] as Array<Record<string, unknown>>).map((v) => v['Version']),
    ['$LATEST', '1', '2'],
  );

  const alias = await aws([
    'create-alias',
    '--function-name',
    'cliv',
    '--name',
    'live',
    '--function-version',
    '1',
    '--routing-config',
    'AdditionalVersionWeights={2=0.5}',
  ]);
  assert.deepEqual(alias['RoutingConfig'], { AdditionalVersionWeights: { '2': 0.5 } });
  await aws([
    'update-alias',
    '--function-name',
    'cliv',
    '--name',
    'live',
    '--function-version',
    '2',
    '--routing-config',
    'AdditionalVersionWeights={}',
  ]);
  const out = join(suite.workDir, 'out.json');
  const invoked = await aws(['invoke', '--function-name', 'cliv', '--qualifier', 'live', out]);
  assert.equal(invoked['ExecutedVersion'], '2');
  const listed = await aws(['list-aliases', '--function-name', 'cliv']);
  assert.deepEqual(
    (listed['Aliases'] as Array<Record<string, unknown>>).map((a) => a['Name']),
    ['live'],
  );
  await aws(['delete-alias', '--function-name', 'cliv', '--name', 'live']);
});
