/** Pure rules of the invocation engine: log lines, environment variables, exit wording, CPU share. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { environmentVariables } from '../../src/environment/environment-variables.js';
import { exitMessage } from '../../src/environment/execution-environment.js';
import {
  billedMs,
  logStreamName,
  reportLine,
  startLine,
  timeoutLine,
} from '../../src/environment/platform-log.js';
import { cpuQuotaFor } from '../../src/sandbox/cgroups.js';
import { settingsForCreate } from '../../src/functions/settings-input.js';
import { RuntimeCatalog } from '../../src/functions/runtime-catalog.js';

describe('platform log lines', () => {
  test('START, REPORT with and without init, timeouts', () => {
    assert.equal(startLine('id-1', '$LATEST'), 'START RequestId: id-1 Version: $LATEST');
    assert.equal(
      reportLine({
        requestId: 'id-1',
        durationMs: 1.234,
        memorySizeMiB: 128,
        maxMemoryUsedMiB: 40,
        initDurationMs: 150.5,
      }),
      'REPORT RequestId: id-1\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 150.50 ms\t',
    );
    assert.equal(
      reportLine({
        requestId: 'id-2',
        durationMs: 3000.4,
        memorySizeMiB: 256,
        maxMemoryUsedMiB: 50,
        status: 'timeout',
      }),
      'REPORT RequestId: id-2\tDuration: 3000.40 ms\tBilled Duration: 3001 ms\tMemory Size: 256 MB\tMax Memory Used: 50 MB\tStatus: timeout',
    );
    assert.equal(
      timeoutLine('2026-01-02T03:04:05.000Z', 'id-3', 3),
      '2026-01-02T03:04:05.000Z id-3 Task timed out after 3.00 seconds',
    );
    assert.equal(billedMs(0.2), 1);
    assert.equal(
      logStreamName(Date.UTC(2026, 0, 2), '$LATEST', 'a'.repeat(32)),
      `2026/01/02/[$LATEST]${'a'.repeat(32)}`,
    );
  });
});

describe('environment variables', () => {
  const settings = settingsForCreate(
    'fn',
    {
      runtime: 'nodejs20.x',
      handler: 'index.handler',
      role: 'arn:aws:iam::000000000000:role/r',
      memoryMiB: 256,
      environment: { TZ: 'Europe/Paris', MINE: '1' },
    },
    { region: 'eu-west-1', accountId: '000000000000' },
    new RuntimeCatalog(['nodejs20.x']),
  );
  const env = environmentVariables({
    functionName: 'fn',
    version: '$LATEST',
    region: 'eu-west-1',
    settings,
    logStreamName: 'stream',
    initializationType: 'on-demand',
    runtimeEnv: { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x' },
  });

  test('reserved variables carry the platform values', () => {
    assert.equal(env['_HANDLER'], 'index.handler');
    assert.equal(env['AWS_REGION'], 'eu-west-1');
    assert.equal(env['AWS_DEFAULT_REGION'], 'eu-west-1');
    assert.equal(env['AWS_LAMBDA_FUNCTION_NAME'], 'fn');
    assert.equal(env['AWS_LAMBDA_FUNCTION_MEMORY_SIZE'], '256');
    assert.equal(env['AWS_LAMBDA_FUNCTION_VERSION'], '$LATEST');
    assert.equal(env['AWS_LAMBDA_INITIALIZATION_TYPE'], 'on-demand');
    assert.equal(env['AWS_LAMBDA_LOG_GROUP_NAME'], '/aws/lambda/fn');
    assert.equal(env['AWS_LAMBDA_LOG_STREAM_NAME'], 'stream');
    assert.equal(env['AWS_LAMBDA_RUNTIME_API'], '127.0.0.1:9001');
    assert.equal(env['LAMBDA_TASK_ROOT'], '/var/task');
    assert.equal(env['AWS_EXECUTION_ENV'], 'AWS_Lambda_nodejs20.x');
    assert.equal(env['LANG'], 'en_US.UTF-8');
  });

  test("the function's own variables are added and may override unreserved ones", () => {
    assert.equal(env['MINE'], '1');
    assert.equal(env['TZ'], 'Europe/Paris');
  });
});

describe('exit wording', () => {
  test('codes, signals and OOM read as on Lambda', () => {
    assert.equal(
      exitMessage({ code: 1, signal: null, outOfMemory: false }),
      'Runtime exited with error: exit status 1',
    );
    assert.equal(
      exitMessage({ code: 137, signal: null, outOfMemory: false }),
      'Runtime exited with error: signal: killed',
    );
    assert.equal(
      exitMessage({ code: null, signal: 'SIGKILL', outOfMemory: false }),
      'Runtime exited with error: signal: killed',
    );
    assert.equal(
      exitMessage({ code: 1, signal: null, outOfMemory: true }),
      'Runtime exited with error: signal: killed',
    );
    assert.equal(
      exitMessage({ code: 139, signal: null, outOfMemory: false }),
      'Runtime exited with error: signal: segmentation fault',
    );
  });
});

describe('CPU share', () => {
  test('1769 MB is one vCPU, capped at the cores, never below 1%', () => {
    assert.equal(cpuQuotaFor(1769, 2), 100_000);
    assert.equal(cpuQuotaFor(3538, 2), 200_000);
    assert.equal(cpuQuotaFor(10_240, 2), 200_000);
    assert.equal(cpuQuotaFor(128, 2), 7236);
    assert.equal(cpuQuotaFor(1, 2), 1000);
  });
});
