/**
 * Managed runtimes side by side: nodejs18.x–24.x each on its own installed Node.js release, the
 * AWS SDK bundle in every Node.js runtime, runtime management (Auto, FunctionUpdate, Manual
 * pinning an exact release), and the refusals for runtimes and architectures this host lacks.
 * Real server, real AWS CLI v2, the runtimes the set-up installed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { awsLambda, awsLambdaJson } from '../helpers/aws-cli.js';
import { ROLE } from '../helpers/lambda-client.js';
import { poll } from '../helpers/poll.js';
import { useServer } from '../helpers/server-suite.js';
import { REPO_ROOT } from '../helpers/server-process.js';
import { zipOf } from '../helpers/zips.js';
import { defaultRuntimesDir, RuntimeStore } from '../../src/runtimes/runtime-store.js';

const suite = useServer();
const aws = (args: readonly string[]) => awsLambdaJson(suite.server.endpoint, suite.workDir, args);
const installed = new RuntimeStore(defaultRuntimesDir()).list();

/** The newest installed release of a runtime (the set-up installs all four). */
function newest(runtime: string): string {
  const found = installed.find((item) => item.runtime === runtime);
  if (found === undefined)
    throw new Error(`${runtime} is not installed: run sh scripts/setup.sh --for-tests`);
  return found.version;
}

const HANDLER = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const sdk = async () => {
  try {
    const s3 = await import('@aws-sdk/client-s3');
    const sqs = require('@aws-sdk/client-sqs');
    const ddb = await import('@aws-sdk/lib-dynamodb');
    return [typeof s3.S3Client, typeof sqs.SQSClient, typeof ddb.DynamoDBDocumentClient];
  } catch (error) {
    return String(error);
  }
};
export const handler = async () => ({
  node: process.version,
  sdk: await sdk(),
  execEnv: process.env.AWS_EXECUTION_ENV,
});
`;

async function createFunction(name: string, runtime: string): Promise<void> {
  const zip = join(suite.workDir, `${name}.zip`);
  writeFileSync(zip, await zipOf([{ name: 'index.mjs', content: HANDLER }]));
  await aws([
    'create-function',
    '--function-name',
    name,
    '--runtime',
    runtime,
    '--role',
    ROLE,
    '--handler',
    'index.handler',
    '--timeout',
    '60',
    '--zip-file',
    `fileb://${zip}`,
  ]);
  await active(name);
}

async function active(name: string): Promise<Record<string, unknown>> {
  return poll(
    () => aws(['get-function-configuration', '--function-name', name]),
    (config) => config['State'] === 'Active' && config['LastUpdateStatus'] === 'Successful',
    30_000,
    `${name} to be Active`,
  );
}

async function invoke(name: string): Promise<Record<string, unknown>> {
  const out = join(suite.workDir, `${name}.out`);
  await aws(['invoke', '--function-name', name, out]);
  return JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown>;
}

test('each Node.js runtime runs its own release, with the full AWS SDK', async () => {
  const arns = new Set<string>();
  for (const runtime of ['nodejs18.x', 'nodejs20.x', 'nodejs22.x', 'nodejs24.x']) {
    const name = `rt-${runtime.replace('.', '-')}`;
    await createFunction(name, runtime);
    const result = await invoke(name);
    assert.equal(result['node'], `v${newest(runtime)}`, `${runtime}: ${JSON.stringify(result)}`);
    assert.deepEqual(result['sdk'], ['function', 'function', 'function'], runtime);
    assert.equal(result['execEnv'], `AWS_Lambda_${runtime}`);
    const config = await aws(['get-function', '--function-name', name]);
    const arn = (
      (config['Configuration'] as Record<string, unknown>)['RuntimeVersionConfig'] as Record<
        string,
        unknown
      >
    )['RuntimeVersionArn'] as string;
    assert.match(arn, /^arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}$/);
    arns.add(arn);
  }
  assert.equal(arns.size, 4, 'one runtime version ARN per release');
});

test('runtime management: Auto by default, Manual pins an exact release, FunctionUpdate', async () => {
  const releases = installed.filter((item) => item.runtime === 'nodejs22.x');
  assert.ok(releases.length >= 2, 'the set-up installs two nodejs22.x releases for this test');
  const [latest, older] = releases as [(typeof releases)[0], (typeof releases)[0]];
  await createFunction('pinned', 'nodejs22.x');
  const initial = await aws(['get-runtime-management-config', '--function-name', 'pinned']);
  assert.equal(initial['UpdateRuntimeOn'], 'Auto');
  assert.equal(initial['RuntimeVersionArn'] ?? null, null);
  assert.equal((await invoke('pinned'))['node'], `v${latest.version}`);

  // The ARN of the older release: a function runs it while pinned, and reports it.
  const arnOf = async () =>
    (
      (await aws(['get-function-configuration', '--function-name', 'pinned']))[
        'RuntimeVersionConfig'
      ] as Record<string, string>
    )['RuntimeVersionArn'] ?? '';
  const latestArn = await arnOf();
  const listed = await awsLambda(suite.server.endpoint, suite.workDir, [
    'put-runtime-management-config',
    '--function-name',
    'pinned',
    '--update-runtime-on',
    'Manual',
    '--runtime-version-arn',
    'arn:aws:lambda:us-east-1::runtime:0000000000000000000000000000000000000000000000000000000000000000',
  ]);
  assert.notEqual(listed.code, 0);
  assert.match(
    listed.stderr,
    /InvalidParameterValueException.*is not a version of nodejs22\.x this server has/,
  );

  const olderArn = olderReleaseArn(older.version, latestArn);
  const put = await aws([
    'put-runtime-management-config',
    '--function-name',
    'pinned',
    '--update-runtime-on',
    'Manual',
    '--runtime-version-arn',
    olderArn,
  ]);
  assert.deepEqual(put, {
    UpdateRuntimeOn: 'Manual',
    FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:pinned',
    RuntimeVersionArn: olderArn,
  });
  assert.equal((await invoke('pinned'))['node'], `v${older.version}`);
  assert.equal(await arnOf(), olderArn);

  // Manual needs an ARN; other modes refuse one.
  const missing = await awsLambda(suite.server.endpoint, suite.workDir, [
    'put-runtime-management-config',
    '--function-name',
    'pinned',
    '--update-runtime-on',
    'Manual',
  ]);
  assert.match(missing.stderr, /RuntimeVersionArn is required when UpdateRuntimeOn is Manual/);
  const bad = await awsLambda(suite.server.endpoint, suite.workDir, [
    'put-runtime-management-config',
    '--function-name',
    'pinned',
    '--update-runtime-on',
    'Sometimes',
  ]);
  assert.match(bad.stderr, /ValidationException/);

  // FunctionUpdate: the release of the last update (the newest when the function was created).
  await aws([
    'put-runtime-management-config',
    '--function-name',
    'pinned',
    '--update-runtime-on',
    'FunctionUpdate',
  ]);
  assert.equal((await invoke('pinned'))['node'], `v${latest.version}`);
  assert.equal(await arnOf(), latestArn);
});

/** The ARN of another release of nodejs22.x, as `lamina runtimes list --json` names it. */
function olderReleaseArn(version: string, latestArn: string): string {
  const listed = JSON.parse(
    execFileSync(
      process.execPath,
      [join(REPO_ROOT, 'bin/lamina.js'), 'runtimes', 'list', '--json'],
      {
        encoding: 'utf8',
        env: { ...process.env, AWS_REGION: 'us-east-1' },
      },
    ),
  ) as {
    runtimes: { runtime: string; releases?: { version: string; runtimeVersionArn: string }[] }[];
  };
  const node22 = listed.runtimes.find((row) => row.runtime === 'nodejs22.x');
  const arn = node22?.releases?.find((release) => release.version === version)?.runtimeVersionArn;
  assert.ok(arn !== undefined, `lamina runtimes list names no ARN for nodejs22.x ${version}`);
  assert.notEqual(arn, latestArn);
  return arn;
}

test('Python functions find boto3 and botocore, as on AWS', async () => {
  const zip = join(suite.workDir, 'py.zip');
  writeFileSync(
    zip,
    await zipOf([
      {
        name: 'app.py',
        content:
          'import boto3, botocore\n' +
          'def handler(event, context):\n' +
          '    return {"boto3": boto3.__version__, "botocore": botocore.__version__,\n' +
          '            "client": type(boto3.client("s3", region_name="us-east-1")).__name__}\n',
      },
    ]),
  );
  await aws([
    'create-function',
    '--function-name',
    'py-boto3',
    '--runtime',
    'python3.11',
    '--role',
    ROLE,
    '--handler',
    'app.handler',
    '--zip-file',
    `fileb://${zip}`,
  ]);
  await active('py-boto3');
  const result = await invoke('py-boto3');
  assert.match(String(result['boto3']), /^1\.\d+\.\d+/);
  assert.match(String(result['botocore']), /^1\.\d+\.\d+/);
  assert.equal(result['client'], 'S3');
});

test('runtimes and architectures this host cannot run are refused with what to do', async () => {
  const zip = join(suite.workDir, 'x.zip');
  writeFileSync(zip, await zipOf([{ name: 'a.py', content: 'def h(e, c): return 1\n' }]));
  const create = (extra: readonly string[]) =>
    awsLambda(suite.server.endpoint, suite.workDir, [
      'create-function',
      '--function-name',
      'refused',
      '--role',
      ROLE,
      '--handler',
      'a.h',
      '--zip-file',
      `fileb://${zip}`,
      ...extra,
    ]);
  const python = await create(['--runtime', 'python3.12']);
  assert.match(
    python.stderr,
    /InvalidParameterValueException.*The runtime python3\.12 is not available on this Lamina server: .*\/usr\/bin\/python3\.12/,
  );
  const arm = await create(['--runtime', 'python3.11', '--architectures', 'arm64']);
  assert.match(arm.stderr, /runs functions on x86_64 only/);
  const retired = await create(['--runtime', 'nodejs14.x']);
  assert.match(retired.stderr, /The runtime parameter of nodejs14\.x is no longer supported/);
});
