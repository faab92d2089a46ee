/**
 * Layer rules: request validation with AWS's messages, resolving the layers a function names,
 * the combined expanded-size limit, merging layer trees into one /opt, and how a runtime is
 * launched with layers (bootstrap from /opt, AWS_LAMBDA_EXEC_WRAPPER).
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { LambdaError } from '../../src/core/errors.js';
import type { FunctionLayer, FunctionSettings } from '../../src/core/function-model.js';
import { parseLayerVersionArn } from '../../src/core/layer-model.js';
import {
  checkListFilters,
  checkPermission,
  checkPublish,
  layerNameOf,
  versionNumberOf,
} from '../../src/functions/layer-rules.js';
import { RuntimeCatalog } from '../../src/functions/runtime-catalog.js';
import {
  checkExpandedSize,
  settingsForCreate,
  settingsForUpdate,
} from '../../src/functions/settings-input.js';
import { launchFor, withExecWrapper } from '../../src/environment/launch-command.js';
import type { ResolvedFunction, RuntimeLaunch } from '../../src/environment/ports.js';
import { mergeTrees } from '../../src/store/layer-merge.js';

const scope = { region: 'us-east-1', accountId: '000000000000' };
const runtimes = new RuntimeCatalog(['nodejs20.x', 'provided.al2023']);
const base = {
  runtime: 'nodejs20.x',
  handler: 'index.handler',
  role: 'arn:aws:iam::000000000000:role/r',
};
const arn = (name: string, version: number) =>
  `arn:aws:lambda:us-east-1:000000000000:layer:${name}:${version}`;
const layer = (name: string, version: number, unzippedBytes = 10): FunctionLayer => ({
  arn: arn(name, version),
  code: { sha256Hex: `${name}${version}`.padEnd(64, '0'), sizeBytes: 5, unzippedBytes },
});

function errorOf(work: () => unknown): LambdaError {
  try {
    work();
  } catch (error) {
    if (error instanceof LambdaError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

describe('layer request rules', () => {
  test('a LayerName is a name or a layer ARN', () => {
    assert.equal(layerNameOf('my-layer_1'), 'my-layer_1');
    assert.equal(layerNameOf('arn:aws:lambda:us-east-1:000000000000:layer:my-layer'), 'my-layer');
    assert.equal(errorOf(() => layerNameOf('bad name')).code, 'ValidationException');
  });

  test('version numbers below 1 are refused with AWS text', () => {
    assert.equal(versionNumberOf('3'), 3);
    for (const bad of ['0', '-1']) {
      const error = errorOf(() => versionNumberOf(bad));
      assert.equal(error.code, 'InvalidParameterValueException');
      assert.equal(error.message, 'Layer Version Cannot be less than 1');
    }
  });

  test('PublishLayerVersion gathers runtime and architecture violations', () => {
    const error = errorOf(() =>
      checkPublish({
        description: undefined,
        licenseInfo: undefined,
        compatibleRuntimes: ['invalidruntime', 'nodejs20.x'],
        compatibleArchitectures: ['invalidarch', 'x86_64'],
      }),
    );
    assert.match(
      error.message,
      /^2 validation errors detected: Value '\[invalidruntime, nodejs20\.x\]' at 'compatibleRuntimes' failed to satisfy constraint: Member must satisfy enum value set: \[nodejs20\.x, python3\.14, provided\.al2023,/,
    );
    assert.match(
      error.message,
      /; Value '\[invalidarch, x86_64\]' at 'compatibleArchitectures' failed to satisfy constraint: Member must satisfy constraint: \[Member must satisfy enum value set: \[x86_64, arm64\], Member must not be null\]$/,
    );
    checkPublish({
      description: 'ok',
      licenseInfo: 'MIT',
      compatibleRuntimes: [],
      compatibleArchitectures: [],
    });
  });

  test('list filters and permissions', () => {
    assert.match(
      errorOf(() => checkListFilters('runtimedoesnotexist', undefined)).message,
      /^1 validation error detected: Value 'runtimedoesnotexist' at 'compatibleRuntime' failed to satisfy constraint: Member must satisfy enum value set: \[ruby3\.5, ruby2\.6,/,
    );
    checkListFilters('python3.12', 'arm64');
    assert.equal(
      errorOf(() =>
        checkPermission({
          statementId: 's',
          action: '*',
          principal: '*',
          organizationId: undefined,
        }),
      ).message,
      "1 validation error detected: Value '*' at 'action' failed to satisfy constraint: Member must satisfy regular expression pattern: lambda:GetLayerVersion",
    );
    checkPermission({
      statementId: 's1',
      action: 'lambda:GetLayerVersion',
      principal: '123456789012',
      organizationId: 'o-abcdefghij',
    });
  });

  test('layer version ARNs are parsed into their parts', () => {
    assert.deepEqual(parseLayerVersionArn(arn('tools', 7)), {
      region: 'us-east-1',
      accountId: '000000000000',
      layerName: 'tools',
      version: 7,
    });
    assert.equal(
      parseLayerVersionArn('arn:aws:lambda:us-east-1:000000000000:layer:tools'),
      undefined,
    );
  });
});

describe('layers of a function', () => {
  const lookup = new Map([
    [arn('a', 1), layer('a', 1)],
    [arn('a', 2), layer('a', 2)],
    [arn('b', 1), layer('b', 1)],
  ]);

  test('resolved in order with their code', () => {
    const s = settingsForCreate(
      'fn',
      { ...base, layers: [arn('b', 1), arn('a', 2)] },
      scope,
      runtimes,
      lookup,
    );
    assert.deepEqual(s.layers, [layer('b', 1), layer('a', 2)]);
    const unchanged = settingsForUpdate(s, { description: 'x' }, scope, runtimes);
    assert.deepEqual(unchanged.layers, s.layers);
    const cleared = settingsForUpdate(s, { layers: [] }, scope, runtimes);
    assert.deepEqual(cleared.layers, []);
  });

  test('two versions of one layer, unknown versions and too many are refused', () => {
    assert.equal(
      errorOf(() =>
        settingsForCreate(
          'fn',
          { ...base, layers: [arn('a', 1), arn('b', 1), arn('a', 2)] },
          scope,
          runtimes,
          lookup,
        ),
      ).message,
      `Two different versions of the same layer are not allowed to be referenced in the same function. ${arn('a', 1)} and ${arn('a', 2)} are versions of the same layer.`,
    );
    assert.equal(
      errorOf(() =>
        settingsForCreate('fn', { ...base, layers: [arn('c', 1)] }, scope, runtimes, lookup),
      ).message,
      `Layer version ${arn('c', 1)} does not exist.`,
    );
    assert.equal(
      errorOf(() =>
        settingsForCreate(
          'fn',
          { ...base, layers: ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => arn(n, 1)) },
          scope,
          runtimes,
          lookup,
        ),
      ).message,
      'Cannot reference more than 5 layers.',
    );
  });

  test('the code and its layers share the 250 MB expanded limit', () => {
    const code = { sha256Hex: 'f'.repeat(64), sizeBytes: 1, unzippedBytes: 200_000_000 };
    checkExpandedSize(code, [layer('a', 1, 62_144_000)]);
    assert.equal(
      errorOf(() => checkExpandedSize(code, [layer('a', 1, 62_144_001)])).message,
      'Function code combined with layers exceeds the maximum allowed size of 262144000 bytes. The actual size is 262144001 bytes.',
    );
    // Code stored before sizes were recorded is not measured.
    checkExpandedSize({ sha256Hex: code.sha256Hex, sizeBytes: 1 }, [layer('a', 1, 300_000_000)]);
  });
});

describe('layers at run time', () => {
  const root = mkdtempSync(join(tmpdir(), 'lamina-layers-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  test('trees merge in order: later files win, kinds may change, nothing is written through a link', async () => {
    const one = join(root, 'one');
    const two = join(root, 'two');
    const merged = join(root, 'merged');
    for (const dir of [
      join(one, 'bin'),
      join(one, 'lib'),
      join(two, 'bin'),
      join(two, 'escape'),
      merged,
    ])
      mkdirSync(dir, { recursive: true });
    writeFileSync(join(one, 'bin', 'tool'), 'one');
    writeFileSync(join(one, 'bin', 'only-one'), 'one');
    writeFileSync(join(one, 'lib', 'x'), 'one');
    symlinkSync('/etc', join(one, 'escape'));
    writeFileSync(join(two, 'bin', 'tool'), 'two');
    writeFileSync(join(two, 'lib'), 'now a file');
    writeFileSync(join(two, 'escape', 'passwd'), 'not through the link');
    await mergeTrees([one, two], merged);
    assert.equal(readFileSync(join(merged, 'bin', 'tool'), 'utf8'), 'two');
    assert.equal(readFileSync(join(merged, 'bin', 'only-one'), 'utf8'), 'one');
    assert.equal(readFileSync(join(merged, 'lib'), 'utf8'), 'now a file');
    assert.ok(statSync(join(merged, 'escape')).isDirectory());
    assert.equal(readFileSync(join(merged, 'escape', 'passwd'), 'utf8'), 'not through the link');
    // Hard links: the merged file is the layer's file.
    assert.equal(
      statSync(join(merged, 'bin', 'only-one')).ino,
      statSync(join(one, 'bin', 'only-one')).ino,
    );
    const linked = join(root, 'linked');
    mkdirSync(linked);
    await mergeTrees([one], linked);
    assert.equal(readlinkSync(join(linked, 'escape')), '/etc');
  });

  const launch: RuntimeLaunch = {
    command: ['/var/task/bootstrap'],
    runtimeDir: undefined,
    langDir: undefined,
    entrypoints: ['bootstrap'],
    env: {},
    prestart: false,
    runtimeVersion: 'provided:al2023.v1',
    runtimeVersionArn: '',
  };
  const resolved = (
    codeDir: string,
    optDir: string | undefined,
    environment?: Record<string, string>,
  ) =>
    ({
      codeDir,
      optDir,
      version: { settings: { environment, layers: [] } as unknown as FunctionSettings },
    }) as unknown as ResolvedFunction;

  test('a custom runtime takes /var/task/bootstrap, else /opt/bootstrap', async () => {
    const code = join(root, 'code');
    const opt = join(root, 'opt');
    mkdirSync(code);
    mkdirSync(opt);
    const missing = await launchFor(launch, resolved(code, opt));
    assert.deepEqual(missing, {
      ok: false,
      message: "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]",
    });
    writeFileSync(join(opt, 'bootstrap'), '#!/bin/sh\n');
    chmodSync(join(opt, 'bootstrap'), 0o755);
    const fromOpt = await launchFor(launch, resolved(code, opt));
    assert.deepEqual(fromOpt.ok && fromOpt.launch.command, ['/opt/bootstrap']);
    writeFileSync(join(code, 'bootstrap'), '#!/bin/sh\n');
    chmodSync(join(code, 'bootstrap'), 0o755);
    const fromTask = await launchFor(launch, resolved(code, opt));
    assert.deepEqual(fromTask.ok && fromTask.launch.command, ['/var/task/bootstrap']);
  });

  test('AWS_LAMBDA_EXEC_WRAPPER prefixes a managed runtime only', () => {
    const managed = {
      ...launch,
      command: ['/var/lang/bin/node', '/var/runtime/index.mjs'],
      entrypoints: [],
      prestart: true,
    };
    const settings = (environment?: Record<string, string>) =>
      ({ environment }) as unknown as FunctionSettings;
    assert.deepEqual(
      withExecWrapper(managed, settings({ AWS_LAMBDA_EXEC_WRAPPER: '/opt/w' })).command,
      ['/opt/w', '/var/lang/bin/node', '/var/runtime/index.mjs'],
    );
    assert.deepEqual(withExecWrapper(managed, settings()).command, managed.command);
    assert.deepEqual(
      withExecWrapper(launch, settings({ AWS_LAMBDA_EXEC_WRAPPER: '/opt/w' })).command,
      launch.command,
    );
  });
});
