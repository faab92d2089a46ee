/**
 * End to end: layers published and attached through the AWS SDK, merged into /opt in real
 * sandboxes (a tool on PATH, a Node.js module, a Python package, a custom runtime's bootstrap,
 * an exec wrapper), and the layer API's answers and errors as AWS gives them.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  AddLayerVersionPermissionCommand,
  DeleteLayerVersionCommand,
  GetFunctionConfigurationCommand,
  GetLayerVersionByArnCommand,
  GetLayerVersionCommand,
  GetLayerVersionPolicyCommand,
  ListLayersCommand,
  ListLayerVersionsCommand,
  PublishLayerVersionCommand,
  RemoveLayerVersionPermissionCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { awsLambda, awsLambdaJson } from '../helpers/aws-cli.js';
import { deploy, invokeJson } from '../helpers/functions.js';
import { failureOf } from '../helpers/lambda-client.js';
import { tempDir } from '../helpers/server-process.js';
import { useServer } from '../helpers/server-suite.js';
import { buildZip, type ZipEntrySpec } from '../helpers/zips.js';

const EXECUTABLE = 0o100755;

async function publish(
  client: LambdaClient,
  name: string,
  entries: readonly ZipEntrySpec[],
  extra: { runtimes?: string[]; architectures?: string[]; license?: string } = {},
): Promise<string> {
  const out = await client.send(
    new PublishLayerVersionCommand({
      LayerName: name,
      Content: { ZipFile: await buildZip(entries) },
      ...(extra.runtimes === undefined ? {} : { CompatibleRuntimes: extra.runtimes as never }),
      ...(extra.architectures === undefined
        ? {}
        : { CompatibleArchitectures: extra.architectures as never }),
      ...(extra.license === undefined ? {} : { LicenseInfo: extra.license }),
    }),
  );
  return out.LayerVersionArn ?? '';
}

describe('Layers', () => {
  const suite = useServer();
  let client: LambdaClient;
  let tools: string;
  let override: string;
  before(async () => {
    client = suite.client;
    tools = await publish(client, 'tools', [
      {
        name: 'bin/greet-tool',
        content: '#!/bin/sh\necho "tool from layer one"\n',
        mode: EXECUTABLE,
      },
      {
        name: 'nodejs/node_modules/greeter/index.js',
        content: 'exports.greet = (n) => `hello ${n}`;\n',
      },
      { name: 'python/greetpkg/__init__.py', content: 'def greet(n):\n    return "hi " + n\n' },
      { name: 'shared.txt', content: 'first layer' },
      {
        name: 'wrapper',
        content: '#!/bin/sh\nexport WRAPPED_BY="layer wrapper"\nexec "$@"\n',
        mode: EXECUTABLE,
      },
    ]);
    override = await publish(client, 'override', [{ name: 'shared.txt', content: 'second layer' }]);
  });

  test('a Node.js function uses a tool, a module and files of its layers; later layers win; /opt is read-only', async () => {
    await deploy(
      client,
      'node-layers',
      {
        'index.js': [
          "const { execFileSync } = require('child_process');",
          "const fs = require('fs');",
          'exports.handler = async () => {',
          '  let write;',
          "  try { fs.writeFileSync('/opt/new', 'x'); write = 'written'; } catch (e) { write = e.code; }",
          "  return { tool: execFileSync('greet-tool').toString().trim(), module: require('greeter').greet('node'),",
          "    shared: fs.readFileSync('/opt/shared.txt', 'utf8'), write, path: process.env.PATH,",
          '    ld: process.env.LD_LIBRARY_PATH, nodePath: process.env.NODE_PATH };',
          '};',
        ].join('\n'),
      },
      { layers: [tools, override] },
    );
    const result = await invokeJson(client, 'node-layers', {});
    const body = result.body as Record<string, string>;
    assert.equal(body['tool'], 'tool from layer one');
    assert.equal(body['module'], 'hello node');
    assert.equal(body['shared'], 'second layer');
    assert.equal(body['write'], 'EROFS');
    assert.match(body['path'] ?? '', /(^|:)\/opt\/bin(:|$)/);
    assert.match(body['ld'] ?? '', /(^|:)\/opt\/lib(:|$)/);
    assert.match(body['nodePath'] ?? '', /\/opt\/nodejs\/node_modules/);
    assert.match(body['nodePath'] ?? '', /\/opt\/nodejs\/node\d+\/node_modules/);

    const config = await client.send(
      new GetFunctionConfigurationCommand({ FunctionName: 'node-layers' }),
    );
    assert.deepEqual(
      config.Layers?.map((l) => l.Arn),
      [tools, override],
    );
    assert.ok((config.Layers?.[0]?.CodeSize ?? 0) > 0);
  });

  test('a Python function imports a package from its layer', async () => {
    await deploy(
      client,
      'python-layers',
      {
        'app.py': [
          'import sys, greetpkg',
          'def handler(event, context):',
          '    return {"greeting": greetpkg.greet("python"), "path": sys.path}',
        ].join('\n'),
      },
      { runtime: 'python3.11', handler: 'app.handler', layers: [tools] },
    );
    const body = (await invokeJson(client, 'python-layers', {})).body as {
      greeting: string;
      path: string[];
    };
    assert.equal(body.greeting, 'hi python');
    assert.ok(body.path.includes('/opt/python'));
    assert.ok(body.path.includes('/opt/python/lib/python3.11/site-packages'));
  });

  test('a custom runtime takes its bootstrap from a layer', async () => {
    const bootstrap = [
      '#!/bin/bash',
      'set -euo pipefail',
      'API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"',
      'while true; do',
      '  HEADERS="$(mktemp)"',
      '  EVENT=$(curl -sS -LD "$HEADERS" "$API/invocation/next")',
      '  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d \'[:space:]\' | cut -d: -f2)',
      '  curl -sS -X POST "$API/invocation/$ID/response" -d "{\\"fromLayer\\":true,\\"event\\":$EVENT}" > /dev/null',
      'done',
    ].join('\n');
    const runtimeLayer = await publish(client, 'shell-runtime', [
      { name: 'bootstrap', content: bootstrap, mode: EXECUTABLE },
    ]);
    await deploy(
      client,
      'custom-from-layer',
      { README: 'code without a bootstrap' },
      {
        runtime: 'provided.al2023',
        handler: 'function.handler',
        layers: [runtimeLayer],
      },
    );
    assert.deepEqual((await invokeJson(client, 'custom-from-layer', { n: 1 })).body, {
      fromLayer: true,
      event: { n: 1 },
    });
  });

  test('AWS_LAMBDA_EXEC_WRAPPER starts the runtime through the wrapper script', async () => {
    await deploy(
      client,
      'wrapped',
      {
        'index.js':
          'exports.handler = async () => ({ wrapped: process.env.WRAPPED_BY ?? null, argv: process.argv });',
      },
      { layers: [tools], environment: { AWS_LAMBDA_EXEC_WRAPPER: '/opt/wrapper' } },
    );
    const body = (await invokeJson(client, 'wrapped', {})).body as {
      wrapped: string;
      argv: string[];
    };
    assert.equal(body.wrapped, 'layer wrapper');
    assert.equal(body.argv[1], '/var/runtime/index.mjs');

    await deploy(
      client,
      'python-wrapped',
      { 'app.py': 'import os\ndef handler(e, c):\n    return os.environ.get("WRAPPED_BY")\n' },
      {
        runtime: 'python3.11',
        handler: 'app.handler',
        layers: [tools],
        environment: { AWS_LAMBDA_EXEC_WRAPPER: '/opt/wrapper' },
      },
    );
    assert.equal((await invokeJson(client, 'python-wrapped', {})).body, 'layer wrapper');
  });

  test('layer versions: publish, get, get by ARN, list, delete; a function keeps a deleted version', async () => {
    const first = await client.send(
      new PublishLayerVersionCommand({
        LayerName: 'lifecycle',
        Description: 'a layer',
        LicenseInfo: 'MIT',
        CompatibleRuntimes: ['python3.12', 'nodejs20.x'],
        CompatibleArchitectures: ['x86_64'],
        Content: { ZipFile: await buildZip([{ name: 'python/mod.py', content: 'X = 1\n' }]) },
      }),
    );
    assert.equal(first.$metadata.httpStatusCode, 201);
    assert.equal(first.Version, 1);
    assert.match(first.LayerArn ?? '', /^arn:aws:lambda:us-east-1:\d{12}:layer:lifecycle$/);
    assert.equal(first.LayerVersionArn, `${first.LayerArn}:1`);
    assert.equal(first.Description, 'a layer');
    assert.equal(first.LicenseInfo, 'MIT');
    assert.deepEqual(first.CompatibleRuntimes, ['python3.12', 'nodejs20.x']);
    assert.deepEqual(first.CompatibleArchitectures, ['x86_64']);
    assert.match(first.Content?.CodeSha256 ?? '', /^[A-Za-z0-9+/]{43}=$/);
    assert.match(first.CreatedDate ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
    const location = first.Content?.Location ?? '';
    const download = await fetch(location);
    assert.equal(download.status, 200);
    assert.equal((await download.arrayBuffer()).byteLength, first.Content?.CodeSize);

    const second = await client.send(
      new PublishLayerVersionCommand({
        LayerName: 'lifecycle',
        CompatibleRuntimes: ['nodejs20.x'],
        Content: { ZipFile: await buildZip([{ name: 'python/mod.py', content: 'X = 2\n' }]) },
      }),
    );
    assert.equal(second.Version, 2);

    const got = await client.send(
      new GetLayerVersionCommand({ LayerName: 'lifecycle', VersionNumber: 1 }),
    );
    assert.equal(got.LayerVersionArn, first.LayerVersionArn);
    assert.equal(got.Content?.CodeSha256, first.Content?.CodeSha256);
    const byArn = await client.send(
      new GetLayerVersionByArnCommand({ Arn: first.LayerVersionArn ?? '' }),
    );
    assert.equal(byArn.Version, 1);
    const byLayerArn = await client.send(
      new GetLayerVersionCommand({ LayerName: first.LayerArn ?? '', VersionNumber: 2 }),
    );
    assert.equal(byLayerArn.Version, 2);

    const versions = await client.send(new ListLayerVersionsCommand({ LayerName: 'lifecycle' }));
    assert.deepEqual(
      versions.LayerVersions?.map((v) => v.Version),
      [2, 1],
    );
    assert.equal(versions.LayerVersions?.[1]?.LicenseInfo, 'MIT');
    const python = await client.send(
      new ListLayerVersionsCommand({ LayerName: 'lifecycle', CompatibleRuntime: 'python3.12' }),
    );
    assert.deepEqual(
      python.LayerVersions?.map((v) => v.Version),
      [1],
    );
    const layers = await client.send(new ListLayersCommand({ CompatibleRuntime: 'python3.12' }));
    const listed = layers.Layers?.find((l) => l.LayerName === 'lifecycle');
    assert.equal(listed?.LatestMatchingVersion?.Version, 1);
    const all = await client.send(new ListLayersCommand({}));
    assert.equal(
      all.Layers?.find((l) => l.LayerName === 'lifecycle')?.LatestMatchingVersion?.Version,
      2,
    );

    await deploy(
      client,
      'keeps-layer',
      { 'app.py': 'import mod\ndef handler(e, c):\n    return mod.X\n' },
      { runtime: 'python3.11', handler: 'app.handler', layers: [first.LayerVersionArn ?? ''] },
    );
    const deleted = await client.send(
      new DeleteLayerVersionCommand({ LayerName: 'lifecycle', VersionNumber: 1 }),
    );
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    // Deleting again, or a version that never existed, succeeds as on AWS.
    await client.send(new DeleteLayerVersionCommand({ LayerName: 'lifecycle', VersionNumber: 1 }));
    await client.send(new DeleteLayerVersionCommand({ LayerName: 'nope', VersionNumber: 1 }));
    assert.equal((await invokeJson(client, 'keeps-layer', {})).body, 1);
    const config = await client.send(
      new GetFunctionConfigurationCommand({ FunctionName: 'keeps-layer' }),
    );
    assert.deepEqual(
      config.Layers?.map((l) => l.Arn),
      [first.LayerVersionArn],
    );
    const missing = await failureOf(
      client.send(new GetLayerVersionCommand({ LayerName: 'lifecycle', VersionNumber: 1 })),
    );
    assert.deepEqual(missing, {
      name: 'ResourceNotFoundException',
      message: 'The resource you requested does not exist.',
      status: 404,
    });
    // Numbers are not reused after a deletion.
    const third = await client.send(
      new PublishLayerVersionCommand({
        LayerName: 'lifecycle',
        Content: { ZipFile: await buildZip([{ name: 'x', content: 'x' }]) },
      }),
    );
    assert.equal(third.Version, 3);
    // Switching the function to the new version runs the new code.
    await client.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: 'keeps-layer',
        Layers: [second.LayerVersionArn ?? ''],
      }),
    );
    await waitUntilFunctionUpdatedV2(
      { client, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
      { FunctionName: 'keeps-layer' },
    );
    assert.equal((await invokeJson(client, 'keeps-layer', {})).body, 2);
  });

  test('layer errors carry AWS messages', async () => {
    const expectFailure = async (
      promise: Promise<unknown>,
      name: string,
      message: string,
    ): Promise<void> => {
      const failure = await failureOf(promise);
      assert.equal(failure.name, name);
      assert.equal(failure.message, message);
    };
    await expectFailure(
      client.send(new GetLayerVersionCommand({ LayerName: 'tools', VersionNumber: 0 })),
      'InvalidParameterValueException',
      'Layer Version Cannot be less than 1',
    );
    const tooMany = await failureOf(
      client.send(
        new PublishLayerVersionCommand({
          LayerName: 'bad',
          Content: { ZipFile: await buildZip([{ name: 'x', content: 'x' }]) },
          CompatibleRuntimes: ['invalidruntime' as never],
          CompatibleArchitectures: ['invalidarch' as never],
        }),
      ),
    );
    assert.equal(tooMany.name, 'ValidationException');
    assert.match(
      tooMany.message,
      /^2 validation errors detected: Value '\[invalidruntime\]' at 'compatibleRuntimes' failed to satisfy constraint: Member must satisfy enum value set: \[nodejs20\.x, .*\]; Value '\[invalidarch\]' at 'compatibleArchitectures' failed to satisfy constraint: Member must satisfy constraint: \[Member must satisfy enum value set: \[x86_64, arm64\], Member must not be null\]$/,
    );
    const hostile = await failureOf(
      client.send(
        new PublishLayerVersionCommand({
          LayerName: 'hostile',
          Content: { ZipFile: await buildZip([{ name: '../escape', content: 'x' }]) },
        }),
      ),
    );
    assert.equal(hostile.name, 'InvalidParameterValueException');
    const layerArn = tools.slice(0, tools.lastIndexOf(':'));
    await expectFailure(
      client.send(new GetLayerVersionByArnCommand({ Arn: layerArn })),
      'ValidationException',
      `1 validation error detected: Value '${layerArn}' at 'arn' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)`,
    );
    await expectFailure(
      client.send(new ListLayersCommand({ CompatibleArchitecture: 'archdoesnotexist' as never })),
      'ValidationException',
      "1 validation error detected: Value 'archdoesnotexist' at 'compatibleArchitecture' failed to satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]",
    );
    const layerV2 = await publish(client, 'twice', [{ name: 'a', content: 'a' }]);
    const layerV3 = await publish(client, 'twice', [{ name: 'a', content: 'b' }]);
    await deploy(client, 'layer-errors', { 'index.js': 'exports.handler = async () => 1;' });
    const update = (layers: string[]) =>
      client.send(
        new UpdateFunctionConfigurationCommand({ FunctionName: 'layer-errors', Layers: layers }),
      );
    await expectFailure(
      update([layerV2, layerV3]),
      'InvalidParameterValueException',
      `Two different versions of the same layer are not allowed to be referenced in the same function. ${layerV2} and ${layerV3} are versions of the same layer.`,
    );
    await expectFailure(
      update([`${layerArn}:9`]),
      'InvalidParameterValueException',
      `Layer version ${layerArn}:9 does not exist.`,
    );
    await expectFailure(
      update([tools, override, layerV2, `${tools}0`, `${tools}1`, `${tools}2`]),
      'InvalidParameterValueException',
      'Cannot reference more than 5 layers.',
    );
  });

  test('layer version permissions: add, get, remove, with AWS errors', async () => {
    const policyOf = async () =>
      client.send(new GetLayerVersionPolicyCommand({ LayerName: 'override', VersionNumber: 1 }));
    const none = await failureOf(policyOf());
    assert.deepEqual(none, {
      name: 'ResourceNotFoundException',
      message: 'No policy is associated with the given resource.',
      status: 404,
    });
    const added = await client.send(
      new AddLayerVersionPermissionCommand({
        LayerName: 'override',
        VersionNumber: 1,
        StatementId: 's1',
        Action: 'lambda:GetLayerVersion',
        Principal: '*',
      }),
    );
    assert.equal(added.$metadata.httpStatusCode, 201);
    assert.deepEqual(JSON.parse(added.Statement ?? ''), {
      Sid: 's1',
      Effect: 'Allow',
      Principal: '*',
      Action: 'lambda:GetLayerVersion',
      Resource: override,
    });
    const policy = await policyOf();
    assert.equal(policy.RevisionId, added.RevisionId);
    assert.deepEqual(JSON.parse(policy.Policy ?? ''), {
      Version: '2012-10-17',
      Id: 'default',
      Statement: [JSON.parse(added.Statement ?? '')],
    });
    const duplicate = await failureOf(
      client.send(
        new AddLayerVersionPermissionCommand({
          LayerName: 'override',
          VersionNumber: 1,
          StatementId: 's1',
          Action: 'lambda:GetLayerVersion',
          Principal: '*',
        }),
      ),
    );
    assert.equal(duplicate.name, 'ResourceConflictException');
    assert.equal(
      duplicate.message,
      'The statement id (s1) provided already exists. Please provide a new statement id, or remove the existing statement.',
    );
    const badAction = await failureOf(
      client.send(
        new AddLayerVersionPermissionCommand({
          LayerName: 'override',
          VersionNumber: 1,
          StatementId: 's2',
          Action: '*',
          Principal: '*',
        }),
      ),
    );
    assert.equal(
      badAction.message,
      "1 validation error detected: Value '*' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: lambda:GetLayerVersion",
    );
    const stale = await failureOf(
      client.send(
        new RemoveLayerVersionPermissionCommand({
          LayerName: 'override',
          VersionNumber: 1,
          StatementId: 's1',
          RevisionId: 'wrong',
        }),
      ),
    );
    assert.equal(stale.name, 'PreconditionFailedException');
    const unknownVersion = await failureOf(
      client.send(
        new RemoveLayerVersionPermissionCommand({
          LayerName: 'override',
          VersionNumber: 7,
          StatementId: 's1',
        }),
      ),
    );
    assert.equal(
      unknownVersion.message,
      `Layer version ${override.replace(/:1$/, ':7')} does not exist.`,
    );
    const removed = await client.send(
      new RemoveLayerVersionPermissionCommand({
        LayerName: 'override',
        VersionNumber: 1,
        StatementId: 's1',
        RevisionId: policy.RevisionId,
      }),
    );
    assert.equal(removed.$metadata.httpStatusCode, 204);
    assert.equal((await failureOf(policyOf())).name, 'ResourceNotFoundException');
  });

  test('the AWS CLI publishes, lists, reads and deletes layer versions', async () => {
    const home = tempDir();
    try {
      const zipFile = join(home.path, 'layer.zip');
      writeFileSync(zipFile, await buildZip([{ name: 'bin/cli-tool', content: 'x' }]));
      const cli = (args: readonly string[]) =>
        awsLambdaJson(suite.server.endpoint, home.path, args);
      const published = await cli([
        'publish-layer-version',
        '--layer-name',
        'from-cli',
        '--zip-file',
        `fileb://${zipFile}`,
        '--compatible-runtimes',
        'python3.12',
        '--compatible-architectures',
        'arm64',
        '--license-info',
        'Apache-2.0',
      ]);
      assert.equal(published['Version'], 1);
      assert.deepEqual(published['CompatibleArchitectures'], ['arm64']);
      const listed = await cli(['list-layers', '--compatible-architecture', 'arm64']);
      const layers = listed['Layers'] as Array<{ LayerName: string }>;
      assert.deepEqual(
        layers.map((l) => l.LayerName),
        ['from-cli'],
      );
      const versions = await cli(['list-layer-versions', '--layer-name', 'from-cli']);
      assert.equal((versions['LayerVersions'] as unknown[]).length, 1);
      const byArn = await cli([
        'get-layer-version-by-arn',
        '--arn',
        String(published['LayerVersionArn']),
      ]);
      assert.equal(byArn['LicenseInfo'], 'Apache-2.0');
      await cli(['delete-layer-version', '--layer-name', 'from-cli', '--version-number', '1']);
      const gone = await awsLambda(suite.server.endpoint, home.path, [
        'get-layer-version',
        '--layer-name',
        'from-cli',
        '--version-number',
        '1',
      ]);
      assert.notEqual(gone.code, 0);
      assert.match(
        gone.stderr,
        /ResourceNotFoundException.*The resource you requested does not exist\./,
      );
    } finally {
      home.remove();
    }
  });
});
