/**
 * End to end: container-image functions (`PackageType: Image`) pulled from a real registry
 * (Debian's docker-registry), built with umoci from the official Node.js binary and pushed with
 * skopeo, driven with the real AWS CLI v2 and the SDK: a custom bootstrap's view of its jail (ENV,
 * ENTRYPOINT + CMD, WORKDIR, read-only `/`), ImageConfig overrides, the official Node.js runtime
 * interface client, an image laid out like AWS's Lambda base images (`/lambda-entrypoint.sh`,
 * `/var/runtime/bootstrap`) invoked synchronously, asynchronously, by its function URL and through
 * an alias of a published version, whiteouts, versions pinning digests, pull failures and registry
 * logins, and the refusals AWS gives.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join, relative, sep } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  CreateFunctionCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  UpdateFunctionCodeCommand,
  type FunctionConfiguration,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { EventsApi } from '../helpers/async-events.js';
import { awsLambda, awsLambdaJson } from '../helpers/aws-cli.js';
import { deploy } from '../helpers/functions.js';
import { failureOf, lambdaClient, ROLE } from '../helpers/lambda-client.js';
import {
  AWS_BASE,
  BOOTSTRAP,
  BOOTSTRAP_PATH,
  LAMBDA_ENTRYPOINT_SH,
  LambdaImages,
  NODE_PATH,
  filesLayer,
  runtimeBootstrapSh,
  type BootstrapReport,
} from '../helpers/lambda-images.js';
import { pushLayers } from '../helpers/oci-images.js';
import { startRegistry, type TestRegistry } from '../helpers/oci-registry.js';
import { poll } from '../helpers/poll.js';
import { REPO_ROOT, TEST_CREDENTIALS, startServer, tempDir } from '../helpers/server-process.js';
import { useServer } from '../helpers/server-suite.js';
import type { TarEntry } from '../helpers/tar-layers.js';
import { tarLayer } from '../helpers/tar-layers.js';

const run = promisify(execFile);

/** Where scripts/build-test-ric.sh builds the official runtime interface client. */
const RIC_DIR =
  process.env.LAMINA_TEST_RIC_DIR ?? join(REPO_ROOT, 'node_modules/.cache/lamina-aws-lambda-ric');
const RIC_IN_IMAGE = '/var/runtime/ric';
/** Build inputs of the client, not needed to run it. */
const RIC_SKIP = ['node_modules/aws-lambda-ric/deps', 'node_modules/aws-lambda-ric/build'];

const SETTLE_MS = 90_000;
const LIMIT = { timeout: 180_000 };

/** The bootstrap as the image's ENTRYPOINT, with one argument of its own. */
const BOOTSTRAP_ENTRYPOINT = [NODE_PATH, BOOTSTRAP_PATH, 'from-entrypoint'];
const BOOTSTRAP_FILES = { [BOOTSTRAP_PATH]: BOOTSTRAP };

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `node bin/lamina.js <args>` with the test credentials, `input` on its standard input. */
function lamina(args: readonly string[], input = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/lamina.js'), ...args], {
      env: {
        PATH: process.env['PATH'],
        LAMINA_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        LAMINA_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** The runtime interface client's node_modules as layer entries under RIC_IN_IMAGE. */
function ricEntries(): TarEntry[] {
  const entries: TarEntry[] = [];
  const inImage = RIC_IN_IMAGE.slice(1);
  for (const folder of ['var/', 'var/runtime/', `${inImage}/`])
    entries.push({ name: folder, type: 'directory' });
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const rel = relative(RIC_DIR, path).split(sep).join('/');
      if (RIC_SKIP.includes(rel)) continue;
      const stats = lstatSync(path);
      const name2 = `${inImage}/${rel}`;
      if (stats.isDirectory()) {
        entries.push({ name: `${name2}/`, type: 'directory' });
        walk(path);
      } else if (stats.isSymbolicLink()) {
        entries.push({ name: name2, type: 'symlink', linkname: readlinkSync(path) });
      } else if (stats.isFile()) {
        entries.push({ name: name2, content: readFileSync(path), mode: stats.mode & 0o777 });
      }
    }
  };
  walk(join(RIC_DIR, 'node_modules'));
  assert.ok(
    entries.some((e) => e.name.endsWith('aws-lambda-ric/dist/rapid-client.node')),
    `aws-lambda-ric is not built in ${RIC_DIR}: run \`sh scripts/build-test-ric.sh\``,
  );
  return entries;
}

/**
 * The handler of the AWS-base-image layout: what the runtime interface client was started with
 * and from where, and the event; a function URL's event gets an HTTP answer of the same.
 */
const AWS_BASE_HANDLER = `
export const handler = async (event, context) => {
  const seen = {
    handler: process.env._HANDLER ?? null,
    cwd: process.cwd(),
    argv: process.argv.slice(2),
    taskRoot: process.env.LAMBDA_TASK_ROOT ?? null,
    runtimeDir: process.env.LAMBDA_RUNTIME_DIR ?? null,
    version: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? null,
    invokedArn: context.invokedFunctionArn,
  };
  const http = event?.requestContext?.http;
  if (http === undefined) return { ...seen, event };
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json', 'x-handled-by': process.env._HANDLER },
    body: JSON.stringify({
      ...seen,
      method: http.method,
      path: event.rawPath,
      query: event.queryStringParameters ?? null,
    }),
  };
};
`;

/** What AWS_BASE_HANDLER answers to a direct or asynchronous invocation. */
interface AwsBaseReport {
  readonly handler: string | null;
  readonly cwd: string;
  readonly argv: string[];
  readonly taskRoot: string | null;
  readonly runtimeDir: string | null;
  readonly version: string | null;
  readonly invokedArn: string;
  readonly event: unknown;
}

/** A non-loopback IPv4 address of this machine, if it has one. */
function outsideAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const item of list ?? [])
      if (item.family === 'IPv4' && !item.internal) return item.address;
  return undefined;
}

describe('container image functions', () => {
  const suite = useServer();
  let client: LambdaClient;
  let images: LambdaImages | undefined;
  let registry: TestRegistry | undefined;
  let secured: TestRegistry | undefined;
  const securedLogin = { username: 'puller', password: 'p@ss w0rd:secret' };

  const built = (): LambdaImages => {
    assert.ok(images !== undefined, 'the base image was not built');
    return images;
  };
  const host = (): string => {
    assert.ok(registry !== undefined, 'the registry did not start');
    return registry.host;
  };
  const cli = (args: readonly string[]) =>
    awsLambdaJson(suite.server.endpoint, suite.workDir, args);
  const cliFails = async (args: readonly string[]): Promise<string> => {
    const result = await awsLambda(suite.server.endpoint, suite.workDir, args);
    assert.notEqual(result.code, 0, `aws lambda ${args.join(' ')} succeeded: ${result.stdout}`);
    return result.stderr;
  };
  const configuration = (name: string, qualifier?: string) =>
    client.send(
      new GetFunctionConfigurationCommand({
        FunctionName: name,
        ...(qualifier === undefined ? {} : { Qualifier: qualifier }),
      }),
    );
  /** Waits until neither the create nor an update is in progress. */
  const settled = (name: string): Promise<FunctionConfiguration> =>
    poll(
      () => configuration(name),
      (c) => c.State !== 'Pending' && c.LastUpdateStatus !== 'InProgress',
      SETTLE_MS,
      `${name} settled`,
    );
  const invoke = async (
    name: string,
    event: unknown = {},
    qualifier?: string,
    on: LambdaClient = client,
  ): Promise<BootstrapReport> => {
    const output = await on.send(
      new InvokeCommand({
        FunctionName: name,
        Payload: Buffer.from(JSON.stringify(event)),
        ...(qualifier === undefined ? {} : { Qualifier: qualifier }),
      }),
    );
    const text = Buffer.from(output.Payload ?? new Uint8Array()).toString();
    assert.equal(output.FunctionError, undefined, text);
    return JSON.parse(text) as BootstrapReport;
  };
  const createImageFunction = (
    name: string,
    imageUri: string,
    extra: Record<string, unknown> = {},
    on: LambdaClient = client,
  ) =>
    on.send(
      new CreateFunctionCommand({
        FunctionName: name,
        PackageType: 'Image',
        Code: { ImageUri: imageUri },
        Role: ROLE,
        Timeout: 20,
        ...extra,
      }),
    );

  /** The runtime interface client's layer, made once. */
  let ricLayer: Promise<Buffer> | undefined;
  const ric = (): Promise<Buffer> => (ricLayer ??= tarLayer(ricEntries()));

  /**
   * An image laid out like `public.ecr.aws/lambda/nodejs:22` (which cannot be pulled here), pushed
   * once with the function `aws-base` on it (Active); answers the image's digest.
   */
  let awsBase: Promise<string> | undefined;
  const awsBaseFunction = (): Promise<string> => (awsBase ??= createAwsBase());
  const createAwsBase = async (): Promise<string> => {
    const ricMain = `${RIC_IN_IMAGE}/node_modules/aws-lambda-ric/bin/index.mjs`;
    const digest = await built().push(host(), 'lambda/nodejs:22', {
      files: {
        ...(await built().shellFiles()),
        [AWS_BASE.entrypoint]: { content: LAMBDA_ENTRYPOINT_SH, mode: 0o755 },
        [AWS_BASE.bootstrap]: { content: runtimeBootstrapSh(ricMain), mode: 0o755 },
        [`${AWS_BASE.taskRoot}/index.mjs`]: AWS_BASE_HANDLER,
      },
      layers: [await ric()],
      config: {
        Entrypoint: [AWS_BASE.entrypoint],
        Cmd: ['index.handler'],
        WorkingDir: AWS_BASE.taskRoot,
        Env: [
          'PATH=/usr/local/bin:/usr/bin:/bin',
          `LAMBDA_TASK_ROOT=${AWS_BASE.taskRoot}`,
          `LAMBDA_RUNTIME_DIR=${AWS_BASE.runtimeDir}`,
        ],
      },
    });
    await createImageFunction('aws-base', `${host()}/lambda/nodejs:22`);
    const active = await settled('aws-base');
    assert.equal(active.State, 'Active', active.StateReason);
    return digest;
  };
  /** `aws lambda invoke` of `aws-base` (`extra` before the outfile); answers output and payload. */
  const cliInvokeAwsBase = async (
    payload: unknown,
    extra: readonly string[] = [],
  ): Promise<{ output: Record<string, unknown>; report: AwsBaseReport }> => {
    const out = join(suite.workDir, 'aws-base-out.json');
    const output = await cli([
      'invoke',
      '--function-name',
      'aws-base',
      '--cli-binary-format',
      'raw-in-base64-out',
      '--payload',
      JSON.stringify(payload),
      ...extra,
      out,
    ]);
    const text = readFileSync(out, 'utf8');
    assert.equal(output['FunctionError'], undefined, text);
    return { output, report: JSON.parse(text) as AwsBaseReport };
  };

  before(async () => {
    client = suite.client;
    [images, registry, secured] = await Promise.all([
      LambdaImages.create(),
      startRegistry(),
      startRegistry({ htpasswd: securedLogin }),
    ]);
  });
  after(async () => {
    await Promise.all([images?.dispose(), registry?.stop(), secured?.stop()]);
  });

  let appDigest = '';

  test(
    'a custom bootstrap image: ENV, ENTRYPOINT + CMD, WORKDIR, a read-only root',
    LIMIT,
    async () => {
      appDigest = await built().push(host(), 'team/app:v1', {
        files: BOOTSTRAP_FILES,
        folders: ['/app'],
        config: {
          Entrypoint: BOOTSTRAP_ENTRYPOINT,
          Cmd: ['cmd-one', 'cmd two'],
          Env: ['PATH=/usr/bin', 'IMAGE_ONLY=from-image', 'OVERRIDDEN=from-image'],
          WorkingDir: '/app',
        },
      });
      const { stdout } = await run('skopeo', [
        'inspect',
        '--tls-verify=false',
        `docker://${host()}/team/app:v1`,
      ]);
      assert.equal((JSON.parse(stdout) as { Digest: string }).Digest, appDigest);

      const uri = `${host()}/team/app:v1`;
      const created = await cli([
        'create-function',
        '--function-name',
        'custom',
        '--package-type',
        'Image',
        '--code',
        `ImageUri=${uri}`,
        '--role',
        ROLE,
        '--environment',
        JSON.stringify({ Variables: { OVERRIDDEN: 'from-function', FUNCTION_ONLY: 'yes' } }),
      ]);
      assert.equal(created['PackageType'], 'Image');
      assert.equal(created['State'], 'Pending');
      assert.equal(created['Runtime'], undefined);
      assert.equal(created['Handler'], undefined);
      const active = await settled('custom');
      assert.equal(active.State, 'Active', active.StateReason);

      const out = join(suite.workDir, 'custom-out.json');
      const invoked = await cli([
        'invoke',
        '--function-name',
        'custom',
        '--cli-binary-format',
        'raw-in-base64-out',
        '--payload',
        '{}',
        out,
      ]);
      assert.equal(invoked['StatusCode'], 200);
      assert.equal(invoked['FunctionError'], undefined);
      const report = JSON.parse(readFileSync(out, 'utf8')) as BootstrapReport;
      assert.deepEqual(report.argv, ['from-entrypoint', 'cmd-one', 'cmd two']);
      assert.equal(report.cwd, '/app');
      assert.equal(report.env['IMAGE_ONLY'], 'from-image');
      assert.equal(report.env['OVERRIDDEN'], 'from-function');
      assert.equal(report.env['FUNCTION_ONLY'], 'yes');
      assert.equal(report.env['AWS_LAMBDA_FUNCTION_NAME'], 'custom');
      assert.equal(report.env['AWS_LAMBDA_RUNTIME_API'], '127.0.0.1:9001');
      assert.equal(report.env['AWS_LAMBDA_FUNCTION_VERSION'], '$LATEST');
      assert.equal(report.writeRoot, 'EROFS');
      assert.equal(report.writeTmp, 'x');

      const got = await cli(['get-function', '--function-name', 'custom']);
      assert.deepEqual(got['Code'], {
        RepositoryType: 'ECR',
        ImageUri: uri,
        ResolvedImageUri: `${host()}/team/app@${appDigest}`,
      });
      const config = got['Configuration'] as Record<string, unknown>;
      assert.equal(config['PackageType'], 'Image');
      assert.equal(config['Runtime'], undefined);
      assert.equal(config['Handler'], undefined);
      assert.equal(config['CodeSize'], 0);
      assert.equal(config['CodeSha256'], appDigest.slice('sha256:'.length));
      assert.equal(config['ImageConfigResponse'], undefined);
      assert.equal(config['State'], 'Active');
    },
  );

  test(
    'ImageConfig overrides ENTRYPOINT, CMD and WORKDIR, and clearing it restores them',
    LIMIT,
    async () => {
      const imageConfig = {
        EntryPoint: [NODE_PATH, BOOTSTRAP_PATH, 'from-image-config'],
        Command: ['config-cmd'],
        WorkingDirectory: '/tmp',
      };
      const updated = await cli([
        'update-function-configuration',
        '--function-name',
        'custom',
        '--image-config',
        JSON.stringify(imageConfig),
      ]);
      assert.deepEqual(updated['ImageConfigResponse'], { ImageConfig: imageConfig });
      assert.equal((await settled('custom')).LastUpdateStatus, 'Successful');
      const overridden = await invoke('custom');
      assert.deepEqual(overridden.argv, ['from-image-config', 'config-cmd']);
      assert.equal(overridden.cwd, '/tmp');
      assert.equal(overridden.env['IMAGE_ONLY'], 'from-image');

      // Only the command: the image's ENTRYPOINT stays, and so does its WORKDIR.
      const commandOnly = await cli([
        'update-function-configuration',
        '--function-name',
        'custom',
        '--image-config',
        JSON.stringify({ EntryPoint: [], Command: ['only-cmd'], WorkingDirectory: '' }),
      ]);
      assert.deepEqual(commandOnly['ImageConfigResponse'], {
        ImageConfig: { Command: ['only-cmd'] },
      });
      await settled('custom');
      const partly = await invoke('custom');
      assert.deepEqual(partly.argv, ['from-entrypoint', 'only-cmd']);
      assert.equal(partly.cwd, '/app');

      const cleared = await cli([
        'update-function-configuration',
        '--function-name',
        'custom',
        '--image-config',
        JSON.stringify({ EntryPoint: [], Command: [], WorkingDirectory: '' }),
      ]);
      assert.equal(cleared['ImageConfigResponse'], undefined);
      await settled('custom');
      const restored = await invoke('custom');
      assert.deepEqual(restored.argv, ['from-entrypoint', 'cmd-one', 'cmd two']);
      assert.equal(restored.cwd, '/app');
    },
  );

  test(
    'the official Node.js runtime interface client runs a handler from /var/task',
    LIMIT,
    async () => {
      const handler = await filesLayer({
        '/var/task/index.mjs': [
          'export const handler = async (event, context) => ({',
          '  ric: true, event, functionName: context.functionName, cwd: process.cwd(),',
          '  requestId: context.awsRequestId, taskRoot: process.env.LAMBDA_TASK_ROOT ?? null,',
          '});',
        ].join('\n'),
      });
      await built().push(host(), 'ric:v1', {
        layers: [await ric(), handler],
        config: {
          Entrypoint: [NODE_PATH, `${RIC_IN_IMAGE}/node_modules/aws-lambda-ric/bin/index.mjs`],
          Cmd: ['index.handler'],
          WorkingDir: '/var/task',
        },
      });
      await createImageFunction('ric-image', `${host()}/ric:v1`);
      const active = await settled('ric-image');
      assert.equal(active.State, 'Active', active.StateReason);
      const output = await client.send(
        new InvokeCommand({ FunctionName: 'ric-image', Payload: Buffer.from('{"hello":"ric"}') }),
      );
      const text = Buffer.from(output.Payload ?? new Uint8Array()).toString();
      assert.equal(output.FunctionError, undefined, text);
      const body = JSON.parse(text) as Record<string, unknown>;
      assert.equal(body['ric'], true);
      assert.deepEqual(body['event'], { hello: 'ric' });
      assert.equal(body['functionName'], 'ric-image');
      assert.equal(body['cwd'], '/var/task');
      assert.match(String(body['requestId']), /^[0-9a-f-]{36}$/);
    },
  );

  test(
    "an image laid out like AWS's Lambda base images runs unmodified: /lambda-entrypoint.sh, /var/runtime/bootstrap, /var/task",
    LIMIT,
    async () => {
      await awsBaseFunction();
      const { output, report } = await cliInvokeAwsBase({ from: 'aws-cli' });
      assert.equal(output['StatusCode'], 200);
      assert.equal(output['ExecutedVersion'], '$LATEST');
      assert.deepEqual(report, {
        handler: 'index.handler',
        cwd: '/var/task',
        argv: ['index.handler'],
        taskRoot: '/var/task',
        runtimeDir: '/var/runtime',
        version: '$LATEST',
        invokedArn: 'arn:aws:lambda:us-east-1:000000000000:function:aws-base',
        event: { from: 'aws-cli' },
      });

      // The entrypoint script really runs: given two arguments it refuses, as AWS's does.
      await createImageFunction('aws-base-two-args', `${host()}/lambda/nodejs:22`, {
        ImageConfig: { Command: ['index.handler', 'extra'] },
      });
      const active = await settled('aws-base-two-args');
      assert.equal(active.State, 'Active', active.StateReason);
      const refused = await client.send(
        new InvokeCommand({ FunctionName: 'aws-base-two-args', Payload: Buffer.from('{}') }),
      );
      const text = Buffer.from(refused.Payload ?? new Uint8Array()).toString();
      assert.equal(refused.FunctionError, 'Unhandled', text);
      const error = JSON.parse(text) as { errorType: string; errorMessage: string };
      assert.equal(error.errorType, 'Runtime.ExitError');
      assert.match(error.errorMessage, /Runtime exited with error: exit status 142$/);
    },
  );

  test(
    'an image function invoked asynchronously: 202 from the AWS CLI, then Succeeded with its response',
    LIMIT,
    async () => {
      await awsBaseFunction();
      const out = join(suite.workDir, 'aws-base-async.out');
      const invoked = await awsLambda(suite.server.endpoint, suite.workDir, [
        'invoke',
        '--function-name',
        'aws-base',
        '--invocation-type',
        'Event',
        '--cli-binary-format',
        'raw-in-base64-out',
        '--payload',
        '{"async":"yes"}',
        out,
      ]);
      assert.equal(invoked.code, 0, invoked.stderr);
      assert.equal((JSON.parse(invoked.stdout) as Record<string, unknown>)['StatusCode'], 202);
      assert.equal(readFileSync(out, 'utf8'), '');

      const events = new EventsApi(suite.server.endpoint, TEST_CREDENTIALS);
      const list = await events.waitForList(
        'aws-base',
        (all) => all.some((e) => e.Status === 'Succeeded'),
        SETTLE_MS,
      );
      assert.equal(list.length, 1, JSON.stringify(list));
      const [event] = list;
      assert.ok(event !== undefined);
      assert.equal(event.Attempts, 1);
      assert.equal(event.Condition, 'Success');
      assert.equal(event.Error, null);
      const response = event.Response as AwsBaseReport;
      assert.deepEqual(response.event, { async: 'yes' });
      assert.equal(response.handler, 'index.handler');
      assert.equal(response.cwd, '/var/task');
      assert.equal((await events.get(event.RequestId)).Status, 'Succeeded');
    },
  );

  test('a function URL on an image function answers an HTTP GET from fetch', LIMIT, async () => {
    await awsBaseFunction();
    const created = await cli([
      'create-function-url-config',
      '--function-name',
      'aws-base',
      '--auth-type',
      'NONE',
    ]);
    const functionUrl = String(created['FunctionUrl']);
    assert.match(functionUrl, /^http:\/\/[a-z0-9]{32}\.lambda-url\.us-east-1\.localhost:\d+\/$/);
    await cli([
      'add-permission',
      '--function-name',
      'aws-base',
      '--statement-id',
      'public-url',
      '--action',
      'lambda:InvokeFunctionUrl',
      '--principal',
      '*',
      '--function-url-auth-type',
      'NONE',
    ]);
    // Node does not resolve *.localhost: the path form on the server's endpoint.
    const id = new URL(functionUrl).hostname.split('.')[0] ?? '';
    const answer = await fetch(`${suite.server.endpoint}/lambda-url/${id}/from/fetch?x=1`);
    const text = await answer.text();
    assert.equal(answer.status, 200, text);
    assert.equal(answer.headers.get('x-handled-by'), 'index.handler');
    assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
    const body = JSON.parse(text) as Record<string, unknown>;
    assert.equal(body['method'], 'GET');
    assert.equal(body['path'], '/from/fetch');
    assert.deepEqual(body['query'], { x: '1' });
    assert.equal(body['handler'], 'index.handler');
    assert.equal(body['cwd'], '/var/task');
  });

  test('a published version of an image function, invoked through an alias', LIMIT, async () => {
    const digest = await awsBaseFunction();
    const published = await cli(['publish-version', '--function-name', 'aws-base']);
    assert.equal(published['Version'], '1');
    assert.equal(published['PackageType'], 'Image');
    assert.equal(published['CodeSha256'], digest.slice('sha256:'.length));
    const alias = await cli([
      'create-alias',
      '--function-name',
      'aws-base',
      '--name',
      'live',
      '--function-version',
      '1',
    ]);
    assert.equal(alias['AliasArn'], 'arn:aws:lambda:us-east-1:000000000000:function:aws-base:live');
    assert.equal(alias['FunctionVersion'], '1');

    const { output, report } = await cliInvokeAwsBase({ via: 'alias' }, ['--qualifier', 'live']);
    assert.equal(output['StatusCode'], 200);
    assert.equal(output['ExecutedVersion'], '1');
    assert.equal(report.version, '1');
    assert.equal(report.invokedArn, alias['AliasArn']);
    assert.equal(report.handler, 'index.handler');
    assert.deepEqual(report.event, { via: 'alias' });
    const version = await client.send(
      new GetFunctionCommand({ FunctionName: 'aws-base', Qualifier: 'live' }),
    );
    assert.equal(version.Code?.ResolvedImageUri, `${host()}/lambda/nodejs@${digest}`);
  });

  test(
    'layers stack: whiteouts delete files and folders, an opaque folder hides the lower one',
    LIMIT,
    async () => {
      const lower = await tarLayer([
        { name: 'data/', type: 'directory' },
        { name: 'data/keep.txt', content: 'kept' },
        { name: 'data/deleted.txt', content: 'deleted' },
        { name: 'data/gone/', type: 'directory' },
        { name: 'data/gone/inner.txt', content: 'x' },
        { name: 'data/opaque/', type: 'directory' },
        { name: 'data/opaque/old.txt', content: 'old' },
        { name: 'data/opaque/sub/', type: 'directory' },
        { name: 'data/opaque/sub/older.txt', content: 'older' },
        { name: 'top-gone.txt', content: 'x' },
      ]);
      const upper = await tarLayer([
        { name: 'data/', type: 'directory' },
        { name: 'data/.wh.deleted.txt' },
        { name: 'data/.wh.gone' },
        { name: 'data/opaque/', type: 'directory' },
        { name: 'data/opaque/.wh..wh..opq' },
        { name: 'data/opaque/new.txt', content: 'new' },
        { name: '.wh.top-gone.txt' },
        { name: 'data/added.txt', content: 'added' },
      ]);
      const digest = await pushLayers(host(), 'layered:v1', {
        layers: [await built().nodeLayer(), await filesLayer(BOOTSTRAP_FILES), lower, upper],
        gzip: false,
        config: { Entrypoint: BOOTSTRAP_ENTRYPOINT },
      });
      await createImageFunction('layered', `${host()}/layered@${digest}`);
      const active = await settled('layered');
      assert.equal(active.State, 'Active', active.StateReason);
      assert.equal(active.CodeSha256, digest.slice('sha256:'.length));
      const report = await invoke('layered', {
        list: ['/data', '/data/opaque'],
        lstat: ['/data/gone', '/data/deleted.txt', '/top-gone.txt', '/data/opaque/sub'],
        read: ['/data/keep.txt', '/data/opaque/new.txt', '/data/added.txt'],
      });
      assert.deepEqual(report.list, {
        '/data': ['added.txt', 'keep.txt', 'opaque'],
        '/data/opaque': ['new.txt'],
      });
      assert.deepEqual(report.lstat, {
        '/data/gone': 'ENOENT',
        '/data/deleted.txt': 'ENOENT',
        '/top-gone.txt': 'ENOENT',
        '/data/opaque/sub': 'ENOENT',
      });
      assert.deepEqual(report.read, {
        '/data/keep.txt': 'kept',
        '/data/opaque/new.txt': 'new',
        '/data/added.txt': 'added',
      });
    },
  );

  test(
    'a published version keeps its digest after the tag moves and $LATEST is updated',
    LIMIT,
    async () => {
      const image = (version: string) =>
        built().push(host(), 'pinned:live', {
          files: BOOTSTRAP_FILES,
          config: { Entrypoint: BOOTSTRAP_ENTRYPOINT, Env: [`IMAGE_VERSION=${version}`] },
        });
      const first = await image('one');
      const uri = `${host()}/pinned:live`;
      await createImageFunction('pinned', uri);
      assert.equal((await settled('pinned')).State, 'Active');
      // PublishVersion's CodeSha256 precondition takes the digest as CodeSha256 shows it (hex).
      const published = await cli([
        'publish-version',
        '--function-name',
        'pinned',
        '--code-sha256',
        first.slice('sha256:'.length),
      ]);
      assert.equal(published['Version'], '1');
      assert.equal(published['CodeSha256'], first.slice('sha256:'.length));

      const second = await image('two');
      assert.notEqual(second, first);
      // A configuration update keeps the image the function runs: only a code update resolves
      // the tag again.
      await cli([
        'update-function-configuration',
        '--function-name',
        'pinned',
        '--memory-size',
        '256',
      ]);
      const configured = await settled('pinned');
      assert.equal(configured.LastUpdateStatus, 'Successful', configured.LastUpdateStatusReason);
      assert.equal(configured.CodeSha256, first.slice('sha256:'.length));
      assert.equal((await invoke('pinned')).env['IMAGE_VERSION'], 'one');
      const updating = await cli([
        'update-function-code',
        '--function-name',
        'pinned',
        '--image-uri',
        uri,
      ]);
      assert.equal(updating['LastUpdateStatus'], 'InProgress');
      const updated = await settled('pinned');
      assert.equal(updated.LastUpdateStatus, 'Successful', updated.LastUpdateStatusReason);
      assert.equal(updated.CodeSha256, second.slice('sha256:'.length));

      assert.equal((await invoke('pinned')).env['IMAGE_VERSION'], 'two');
      assert.equal((await invoke('pinned', {}, '1')).env['IMAGE_VERSION'], 'one');
      const version = await client.send(
        new GetFunctionCommand({ FunctionName: 'pinned', Qualifier: '1' }),
      );
      assert.equal(version.Code?.ResolvedImageUri, `${host()}/pinned@${first}`);
      assert.equal(version.Code?.ImageUri, uri);
      const latest = await client.send(new GetFunctionCommand({ FunctionName: 'pinned' }));
      assert.equal(latest.Code?.ResolvedImageUri, `${host()}/pinned@${second}`);
    },
  );

  test(
    'a missing tag fails as ImageDeleted; a registry wanting a login, ImageAccessDenied until `lamina registries login`',
    LIMIT,
    async () => {
      await createImageFunction('missing', `${host()}/team/app:no-such-tag`);
      const missing = await settled('missing');
      assert.equal(missing.State, 'Failed');
      assert.equal(missing.StateReasonCode, 'ImageDeleted');
      assert.ok((missing.StateReason ?? '').length > 0);

      assert.ok(secured !== undefined, 'the secured registry did not start');
      const privateUri = `${secured.host}/private:v1`;
      await built().push(secured.host, 'private:v1', {
        files: BOOTSTRAP_FILES,
        config: { Entrypoint: BOOTSTRAP_ENTRYPOINT },
        credentials: securedLogin,
      });
      await createImageFunction('private', privateUri);
      const denied = await settled('private');
      assert.equal(denied.State, 'Failed');
      assert.equal(denied.StateReasonCode, 'ImageAccessDenied', denied.StateReason);
      assert.ok(!(denied.StateReason ?? '').includes(securedLogin.password));

      const endpoint = ['--endpoint', suite.server.endpoint];
      const login = await lamina(
        [
          'registries',
          'login',
          secured.host,
          '--username',
          securedLogin.username,
          '--password-stdin',
          ...endpoint,
        ],
        `${securedLogin.password}\n`,
      );
      assert.equal(login.code, 0, login.stderr);
      assert.ok(login.stdout.includes(secured.host), login.stdout);
      assert.ok(!login.stdout.includes(securedLogin.password));

      await cli(['update-function-code', '--function-name', 'private', '--image-uri', privateUri]);
      const fixed = await settled('private');
      assert.equal(fixed.State, 'Active', fixed.StateReason);
      assert.equal(fixed.LastUpdateStatus, 'Successful', fixed.LastUpdateStatusReason);
      assert.equal((await invoke('private')).argv[0], 'from-entrypoint');

      const listed = await lamina(['registries', 'list', '--output', 'json', ...endpoint]);
      assert.equal(listed.code, 0, listed.stderr);
      const { Registries } = JSON.parse(listed.stdout) as {
        Registries: Array<Record<string, unknown>>;
      };
      assert.deepEqual(
        Registries.map((r) => [r['Host'], r['Username']]),
        [[secured.host, securedLogin.username]],
      );
      const text = await lamina(['registries', 'list', ...endpoint]);
      assert.ok(text.stdout.includes(secured.host), text.stdout);
      assert.ok(
        !listed.stdout.includes(securedLogin.password) &&
          !text.stdout.includes(securedLogin.password),
      );

      const logout = await lamina(['registries', 'logout', secured.host, ...endpoint]);
      assert.equal(logout.code, 0, logout.stderr);
      assert.match(
        (await lamina(['registries', 'list', ...endpoint])).stdout,
        /No registry logins/,
      );
    },
  );

  test(
    'refusals: Runtime, Handler or Layers with an image; the wrong code kind; a URI without a host',
    LIMIT,
    async () => {
      const uri = `${host()}/team/app:v1`;
      const base = [
        'create-function',
        '--function-name',
        'refused',
        '--package-type',
        'Image',
        '--code',
        `ImageUri=${uri}`,
        '--role',
        ROLE,
      ];
      const mixed =
        "Please don't provide Handler or Runtime or Layer when the intended function PackageType is Image.";
      assert.match(
        await cliFails([...base, '--runtime', 'nodejs20.x']),
        /InvalidParameterValueException/,
      );
      assert.ok((await cliFails([...base, '--handler', 'index.handler'])).includes(mixed));
      const layered = await failureOf(
        createImageFunction('refused', uri, {
          Layers: ['arn:aws:lambda:us-east-1:000000000000:layer:x:1'],
        }),
      );
      assert.equal(layered.message, mixed);
      const runtime = await failureOf(
        createImageFunction('refused', uri, { Runtime: 'nodejs20.x' }),
      );
      assert.deepEqual(runtime, {
        name: 'InvalidParameterValueException',
        message: mixed,
        status: 400,
      });

      const noHost = await cliFails([
        ...base.slice(0, 5),
        '--code',
        'ImageUri=team/app:v1',
        '--role',
        ROLE,
      ]);
      assert.match(noHost, /InvalidParameterValueException/);
      assert.match(noHost, /names no registry host/);

      // An image function (its image need not exist for the refusal).
      await createImageFunction('image-target', `${host()}/nothing:here`);
      await settled('image-target');
      const zipForImage = await failureOf(
        client.send(
          new UpdateFunctionCodeCommand({
            FunctionName: 'image-target',
            ZipFile: Buffer.from('PK'),
          }),
        ),
      );
      assert.deepEqual(zipForImage, {
        name: 'InvalidParameterValueException',
        message: 'Please provide ImageUri when updating a function with packageType Image.',
        status: 400,
      });
      await deploy(client, 'zipped', { 'index.js': 'exports.handler = async () => 1;' });
      const imageForZip = await cliFails([
        'update-function-code',
        '--function-name',
        'zipped',
        '--image-uri',
        uri,
      ]);
      assert.ok(
        imageForZip.includes(
          "Please don't provide ImageUri when updating a function with packageType Zip.",
        ),
        imageForZip,
      );
      // None of the refused calls made a function.
      assert.equal((await failureOf(configuration('refused'))).name, 'ResourceNotFoundException');
    },
  );

  test(
    'a missing entry point or working directory fails as on AWS; deleting frees the image',
    LIMIT,
    async () => {
      const digest = await built().push(host(), 'team/lonely:v1', {
        files: { ...BOOTSTRAP_FILES, '/lonely.txt': 'only this image has me' },
        config: { Entrypoint: BOOTSTRAP_ENTRYPOINT },
      });
      await createImageFunction('lonely', `${host()}/team/lonely:v1`, {
        ImageConfig: { EntryPoint: ['/no/such/program'] },
      });
      assert.equal((await settled('lonely')).State, 'Active');
      const failure = async () => {
        const output = await client.send(
          new InvokeCommand({ FunctionName: 'lonely', Payload: Buffer.from('{}') }),
        );
        assert.equal(output.FunctionError, 'Unhandled');
        return JSON.parse(Buffer.from(output.Payload ?? new Uint8Array()).toString()) as {
          errorType: string;
          errorMessage: string;
        };
      };
      const entry = await failure();
      assert.equal(entry.errorType, 'Runtime.InvalidEntrypoint');
      assert.match(entry.errorMessage, /\/no\/such\/program/);
      await cli([
        'update-function-configuration',
        '--function-name',
        'lonely',
        '--image-config',
        JSON.stringify({ EntryPoint: [], WorkingDirectory: '/no/such/folder' }),
      ]);
      await settled('lonely');
      const folder = await failure();
      assert.equal(folder.errorType, 'Runtime.InvalidWorkingDirectory');
      assert.match(folder.errorMessage, /\/no\/such\/folder/);

      const unpacked = join(suite.dataDir, 'images', 'images', digest.slice('sha256:'.length));
      assert.ok(lstatSync(unpacked).isDirectory(), 'the image is unpacked while used');
      await cli(['delete-function', '--function-name', 'lonely']);
      assert.throws(() => lstatSync(unpacked), /ENOENT/, 'the image no function uses is removed');
    },
  );

  test('a plain-HTTP registry off loopback needs --insecure-registry', LIMIT, async () => {
    const address = outsideAddress();
    assert.ok(address !== undefined, 'this machine has no non-loopback IPv4 address');
    const outside = await startRegistry({ address });
    const dir = tempDir();
    const other = await startServer({
      dataDir: dir.path,
      args: ['--insecure-registry', outside.host],
    });
    const otherClient = lambdaClient(other.endpoint);
    try {
      await built().push(outside.host, 'far:v1', {
        files: BOOTSTRAP_FILES,
        config: { Entrypoint: BOOTSTRAP_ENTRYPOINT },
      });
      const uri = `${outside.host}/far:v1`;
      await createImageFunction('far', uri);
      const refused = await settled('far');
      assert.equal(refused.State, 'Failed');
      assert.equal(refused.StateReasonCode, 'InternalError');
      assert.match(refused.StateReason ?? '', /insecure-registry/);

      await createImageFunction('far', uri, {}, otherClient);
      const active = await poll(
        () => otherClient.send(new GetFunctionConfigurationCommand({ FunctionName: 'far' })),
        (c) => c.State !== 'Pending',
        SETTLE_MS,
        'far on the second server',
      );
      assert.equal(active.State, 'Active', active.StateReason);
      assert.equal(
        (await invoke('far', {}, undefined, otherClient)).env['AWS_LAMBDA_FUNCTION_NAME'],
        'far',
      );
    } finally {
      otherClient.destroy();
      await other.stop();
      await outside.stop();
      dir.remove();
    }
  });
});
