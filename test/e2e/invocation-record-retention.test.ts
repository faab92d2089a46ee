/**
 * Time-driven parts of the invocation records, on an in-process server with a controllable clock:
 * records older than `--invocation-record-retention` are pruned while the usage they made stays,
 * and provisioned concurrency kept ready is metered into the usage every minute.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  GetProvisionedConcurrencyConfigCommand,
  PublishVersionCommand,
  PutProvisionedConcurrencyConfigCommand,
} from '@aws-sdk/client-lambda';
import { LaminaApiClient } from '../../src/cli/lamina-api-client.js';
import { deploy, invokeJson } from '../helpers/functions.js';
import { useInProcessServer } from '../helpers/in-process-server.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { poll } from '../helpers/poll.js';
import { TEST_CREDENTIALS } from '../helpers/server-process.js';

const HOUR_MS = 3_600_000;

describe('invocation record retention and provisioned usage', () => {
  const clock = new ManualClock();
  const suite = useInProcessServer({ invocationRecordRetentionMs: HOUR_MS }, clock);

  function api(path: string, query: Record<string, string> = {}) {
    return new LaminaApiClient({
      endpoint: suite.server.endpoint,
      region: 'us-east-1',
      credentials: TEST_CREDENTIALS,
      // The server's clock runs ahead of the real one.
      signingTime: () => new Date(clock.now()),
    }).request('GET', `/lamina/2026-11-01/${path}`, query);
  }

  test('provisioned concurrency kept ready is metered as GB-seconds', async () => {
    const { client } = suite;
    await deploy(
      client,
      'kept-warm',
      { 'index.js': "exports.handler = async () => 'ok';" },
      { memorySize: 256 },
    );
    const version = (await client.send(new PublishVersionCommand({ FunctionName: 'kept-warm' })))
      .Version;
    await client.send(
      new PutProvisionedConcurrencyConfigCommand({
        FunctionName: 'kept-warm',
        Qualifier: version,
        ProvisionedConcurrentExecutions: 1,
      }),
    );
    await poll(
      () =>
        client.send(
          new GetProvisionedConcurrencyConfigCommand({
            FunctionName: 'kept-warm',
            Qualifier: version,
          }),
        ),
      (config) => config.Status === 'READY',
      60_000,
      'provisioned concurrency READY',
    );
    const invoked = await invokeJson(client, `kept-warm:${version ?? ''}`, {});
    assert.equal(invoked.output.StatusCode, 200);
    // Two metering minutes pass (the SDK's signatures stay within their 15 minutes).
    clock.advance(60_000);
    clock.advance(60_000);
    const usage = await poll(
      async () =>
        (await api('usage', { FunctionName: 'kept-warm' })).json as {
          Usage: Array<{
            Version: string;
            ProvisionedConcurrencyGbSeconds: number;
            ProvisionedDurationGbSeconds: number;
            Requests: number;
          }>;
        },
      (answer) =>
        answer.Usage.reduce((sum, u) => sum + u.ProvisionedConcurrencyGbSeconds, 0) >=
        (256 / 1024) * 120,
      30_000,
      'two minutes of provisioned concurrency metered',
    );
    const row = usage.Usage.find((u) => u.Version === version && u.Requests > 0);
    assert.ok(row !== undefined, JSON.stringify(usage));
    // The invocation ran on the provisioned environment: its duration is priced at that rate.
    assert.ok(row.ProvisionedDurationGbSeconds > 0, JSON.stringify(row));
    const records = (await api('invocations', { FunctionName: 'kept-warm' })).json as {
      Invocations: Array<{ ProvisionedConcurrency: boolean; ColdStart: boolean }>;
    };
    assert.deepEqual(
      records.Invocations.map((r) => [r.ProvisionedConcurrency, r.ColdStart]),
      [[true, false]],
    );
  });

  test('records past the retention are pruned; the usage they made is kept', async () => {
    const { client } = suite;
    await deploy(
      client,
      'kept-usage',
      { 'index.js': "exports.handler = async () => 'ok';" },
      { memorySize: 128 },
    );
    await invokeJson(client, 'kept-usage', {});
    await invokeJson(client, 'kept-usage', {});
    const listed = await api('invocations', { FunctionName: 'kept-usage' });
    assert.equal((listed.json as { Invocations: unknown[] }).Invocations.length, 2);
    const before = (await api('usage', { FunctionName: 'kept-usage' })).json as {
      Total: { Requests: number; MbMilliseconds: number };
    };
    assert.equal(before.Total.Requests, 2);

    clock.advance(2 * HOUR_MS);
    await poll(
      async () =>
        (
          (await api('invocations', { FunctionName: 'kept-usage' })).json as {
            Invocations: unknown[];
          }
        ).Invocations.length,
      (count) => count === 0,
      30_000,
      'records past the retention pruned',
    );
    const after = (await api('usage', { FunctionName: 'kept-usage' })).json as {
      Total: { Requests: number; MbMilliseconds: number };
    };
    assert.deepEqual(after.Total.Requests, before.Total.Requests);
    assert.deepEqual(after.Total.MbMilliseconds, before.Total.MbMilliseconds);
  });
});
