/** Validation and defaults of function configuration fields. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LambdaError } from '../../src/core/errors.js';
import { RuntimeCatalog } from '../../src/functions/runtime-catalog.js';
import {
  settingsForCreate,
  settingsForUpdate,
  type SettingsInput,
} from '../../src/functions/settings-input.js';

const scope = { region: 'us-east-1', accountId: '000000000000' };
const runtimes = new RuntimeCatalog([
  'nodejs20.x',
  'python3.11',
  'provided.al2023',
  'provided.al2',
]);
const base: SettingsInput = {
  runtime: 'nodejs20.x',
  handler: 'index.handler',
  role: 'arn:aws:iam::000000000000:role/r',
};

function createError(extra: SettingsInput): LambdaError {
  try {
    settingsForCreate('fn', { ...base, ...extra }, scope, runtimes);
  } catch (error) {
    if (error instanceof LambdaError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

describe('settingsForCreate', () => {
  test('fills the defaults AWS fills', () => {
    const s = settingsForCreate('fn', base, scope, runtimes);
    assert.equal(s.timeoutSeconds, 3);
    assert.equal(s.memoryMiB, 128);
    assert.equal(s.ephemeralStorageMiB, 512);
    assert.equal(s.architecture, 'x86_64');
    assert.equal(s.tracingMode, 'PassThrough');
    assert.equal(s.description, '');
    assert.deepEqual(s.logging, { format: 'Text', logGroup: '/aws/lambda/fn' });
    assert.equal(s.environment, undefined);
  });

  const ranges: Array<[SettingsInput, string]> = [
    [
      { memoryMiB: 127 },
      "Value '127' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128",
    ],
    [
      { memoryMiB: 10_241 },
      "Value '10241' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240",
    ],
    [
      { timeoutSeconds: 0 },
      "Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1",
    ],
    [
      { timeoutSeconds: 901 },
      "Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900",
    ],
    [
      { ephemeralStorageMiB: 511 },
      "Value '511' at 'ephemeralStorage.size' failed to satisfy constraint: Member must have value greater than or equal to 512",
    ],
    [
      { architectures: ['x86_64', 'arm64'] },
      "Value '[x86_64, arm64]' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1",
    ],
    [
      { role: 'r1' },
      "Value 'r1' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
    ],
  ];
  for (const [extra, message] of ranges) {
    test(`ValidationException: ${message.slice(0, 60)}`, () => {
      const error = createError(extra);
      assert.equal(error.code, 'ValidationException');
      assert.equal(error.message, `1 validation error detected: ${message}`);
    });
  }

  test('several violations are reported together', () => {
    const error = createError({ memoryMiB: 1, timeoutSeconds: 0 });
    assert.match(error.message, /^2 validation errors detected: .*timeout.*; .*memorySize/);
  });

  test('the runtime must be one this host runs, listed in the message', () => {
    const error = createError({ runtime: 'java21' });
    assert.equal(error.code, 'InvalidParameterValueException');
    assert.equal(
      error.message,
      "Value java21 at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [nodejs20.x, python3.11, provided.al2023, provided.al2] or be a valid ARN",
    );
    assert.match(
      createError({ runtime: 'nodejs12.x' }).message,
      /^The runtime parameter of nodejs12.x is no longer supported/,
    );
  });

  test('environment: 4 KB measured as compact JSON, reserved keys refused', () => {
    const fits = { A1: 'x'.repeat(4096 - '{"A1":""}'.length) };
    assert.equal(
      settingsForCreate('fn', { ...base, environment: fits }, scope, runtimes).environment,
      fits,
    );
    const over = { A1: 'x'.repeat(4097 - '{"A1":""}'.length) };
    assert.equal(
      createError({ environment: over }).message,
      `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${JSON.stringify(over)}`,
    );
    assert.match(
      createError({ environment: { AWS_REGION: 'x' } }).message,
      /Reserved keys used in this request: AWS_REGION$/,
    );
    assert.equal(createError({ environment: { A: 'single letter' } }).code, 'ValidationException');
  });

  test('JSON logging gets INFO levels; levels without JSON are refused', () => {
    const s = settingsForCreate('fn', { ...base, logging: { format: 'JSON' } }, scope, runtimes);
    assert.deepEqual(s.logging, {
      format: 'JSON',
      logGroup: '/aws/lambda/fn',
      applicationLogLevel: 'INFO',
      systemLogLevel: 'INFO',
    });
    assert.equal(
      createError({ logging: { applicationLogLevel: 'DEBUG' } }).code,
      'InvalidParameterValueException',
    );
  });

  test('layers: more than five, other regions and unknown versions', () => {
    const layer = (n: number, region = 'us-east-1') =>
      `arn:aws:lambda:${region}:000000000000:layer:l${n}:1`;
    assert.equal(
      createError({ layers: [1, 2, 3, 4, 5, 6].map((n) => layer(n)) }).message,
      'Cannot reference more than 5 layers.',
    );
    assert.match(
      createError({ layers: [layer(1, 'eu-west-1')] }).message,
      /^Layers are not in the same region/,
    );
    assert.equal(
      createError({ layers: [layer(1)] }).message,
      `Layer version ${layer(1)} does not exist.`,
    );
    assert.equal(
      createError({ layers: ['arn:aws:lambda:us-east-1:000000000000:layer:nover'] }).code,
      'ValidationException',
    );
  });

  test('image functions: no Runtime, Handler or Layers; ImageConfig kept; only for images', () => {
    assert.equal(
      createError({ packageType: 'Image' }).message,
      "Please don't provide Handler or Runtime or Layer when the intended function PackageType is Image.",
    );
    const image = settingsForCreate(
      'fn',
      {
        role: base.role,
        packageType: 'Image',
        imageConfig: { entryPoint: ['/app'], command: [], workingDirectory: '/w' },
      },
      scope,
      runtimes,
    );
    assert.deepEqual(image.image, {
      uri: '',
      entryPoint: ['/app'],
      command: undefined,
      workingDirectory: '/w',
    });
    assert.equal(image.runtime, '');
    // An update replaces what it names and an empty value clears it.
    const updated = settingsForUpdate(
      image,
      { imageConfig: { command: ['x'], workingDirectory: '' } },
      scope,
      runtimes,
    );
    assert.deepEqual(updated.image, {
      uri: '',
      entryPoint: ['/app'],
      command: ['x'],
      workingDirectory: undefined,
    });
    assert.equal(
      createError({ imageConfig: { command: ['x'] } }).message,
      'ImageConfig is only supported for functions whose PackageType is Image.',
    );
    assert.equal(
      createError({
        packageType: 'Image',
        runtime: undefined,
        handler: undefined,
        imageConfig: { workingDirectory: 'w'.repeat(1001) },
      }).code,
      'ValidationException',
    );
  });

  test('an architecture the host cannot run is refused', () => {
    assert.match(
      createError({ architectures: ['arm64'] }).message,
      /runs functions on x86_64 only: its host is x86_64, so Architectures \["arm64"\] cannot run here/,
    );
  });

  test('unsupported features are refused plainly', () => {
    assert.match(
      createError({ deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:q' }).message,
      /dead-letter queues/,
    );
    assert.match(createError({ vpcSubnetIds: ['subnet-1'] }).message, /VpcConfig/);
  });
});

describe('settingsForUpdate', () => {
  test('changes only what was sent', () => {
    const current = settingsForCreate(
      'fn',
      { ...base, environment: { KEY: 'v' } },
      scope,
      runtimes,
    );
    const next = settingsForUpdate(current, { memoryMiB: 512 }, scope, runtimes);
    assert.equal(next.memoryMiB, 512);
    assert.deepEqual(next.environment, { KEY: 'v' });
    assert.equal(next.runtime, 'nodejs20.x');
  });
});
