/**
 * The record of every invocation and the usage metered from them, through the Lamina API and
 * `lamina invocations` / `lamina usage`, against a real server: cold and warm starts, errors,
 * time-outs, aliases and asynchronous attempts leave records with REPORT's figures, and the usage
 * of a function is exactly the sum of its records.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { CreateAliasCommand, InvokeCommand, PublishVersionCommand } from '@aws-sdk/client-lambda';
import { deploy, invokeJson } from '../helpers/functions.js';
import { poll } from '../helpers/poll.js';
import { REPO_ROOT, TEST_CREDENTIALS } from '../helpers/server-process.js';
import { LaminaApiClient, type LaminaApiError } from '../../src/cli/lamina-api-client.js';
import { useServer } from '../helpers/server-suite.js';

const run = promisify(execFile);

interface InvocationView {
  RequestId: string;
  FunctionName: string;
  ExecutedVersion: string;
  Qualifier: string | null;
  Trigger: string;
  StartTime: string;
  EndTime: string;
  ColdStart: boolean;
  InitDurationMs: number | null;
  DurationMs: number;
  BilledDurationMs: number;
  MemorySizeMB: number;
  MaxMemoryUsedMB: number;
  Architecture: string;
  Outcome: string;
  ErrorType: string | null;
  TraceId: string;
  ProvisionedConcurrency: boolean;
}

interface UsageFigures {
  Requests: number;
  BilledDurationMs: number;
  GbSeconds: number;
  MbMilliseconds: number;
  ProvisionedConcurrencyGbSeconds: number;
  Cost: { Requests: number; Duration: number; ProvisionedConcurrency: number; Total: number };
}

describe('invocation records and usage', () => {
  const suite = useServer();

  async function lamina(...args: string[]): Promise<string> {
    const { stdout } = await run(
      process.execPath,
      [join(REPO_ROOT, 'bin/lamina.js'), ...args, '--endpoint', suite.server.endpoint],
      {
        env: {
          ...process.env,
          LAMINA_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
          LAMINA_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        },
      },
    );
    return stdout;
  }

  /** The invocations API with a query string (`A=1&B=2`), signed. */
  function api(query: string): Promise<{ status: number; json: unknown }> {
    const client = new LaminaApiClient({
      endpoint: suite.server.endpoint,
      region: 'us-east-1',
      credentials: TEST_CREDENTIALS,
    });
    return client.request(
      'GET',
      '/lamina/2026-11-01/invocations',
      Object.fromEntries(new URLSearchParams(query)),
    );
  }

  async function records(
    query: string,
  ): Promise<{ Invocations: InvocationView[]; NextMarker?: string }> {
    const { status, json } = await api(query);
    assert.equal(status, 200, JSON.stringify(json));
    return json as { Invocations: InvocationView[]; NextMarker?: string };
  }

  test('a cold and a warm invoke leave records with their REPORT figures', async () => {
    const { client } = suite;
    await deploy(
      client,
      'rec-ok',
      { 'index.js': 'exports.handler = async (e) => ({ got: e.n });' },
      { memorySize: 256 },
    );
    const first = await invokeJson(client, 'rec-ok', { n: 1 }, { LogType: 'Tail' });
    const second = await invokeJson(client, 'rec-ok', { n: 2 }, { LogType: 'Tail' });
    const page = JSON.parse(
      await lamina('invocations', '--function', 'rec-ok', '--output', 'json'),
    ) as {
      Invocations: InvocationView[];
    };
    assert.equal(page.Invocations.length, 2);
    // Newest first.
    const [warm, cold] = page.Invocations as [InvocationView, InvocationView];
    assert.equal(cold.RequestId, first.output.$metadata.requestId);
    assert.equal(warm.RequestId, second.output.$metadata.requestId);
    for (const [record, invoked] of [
      [cold, first],
      [warm, second],
    ] as const) {
      assert.equal(record.FunctionName, 'rec-ok');
      assert.equal(record.ExecutedVersion, '$LATEST');
      assert.equal(record.Qualifier, null);
      assert.equal(record.Trigger, 'sync');
      assert.equal(record.Outcome, 'success');
      assert.equal(record.ErrorType, null);
      assert.equal(record.MemorySizeMB, 256);
      assert.equal(record.Architecture, process.arch === 'arm64' ? 'arm64' : 'x86_64');
      assert.equal(record.ProvisionedConcurrency, false);
      assert.match(
        record.TraceId,
        /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=[01]/,
      );
      // The figures are the REPORT line's.
      const report =
        /REPORT RequestId: (\S+)\tDuration: ([\d.]+) ms\tBilled Duration: (\d+) ms\tMemory Size: (\d+) MB\tMax Memory Used: (\d+) MB/.exec(
          invoked.log,
        );
      assert.ok(report !== null, invoked.log);
      assert.equal(report[1], record.RequestId);
      assert.equal(record.DurationMs.toFixed(2), report[2]);
      assert.equal(record.BilledDurationMs, Number(report[3]));
      assert.equal(record.MaxMemoryUsedMB, Number(report[5]));
      assert.ok(Date.parse(record.EndTime) >= Date.parse(record.StartTime));
    }
    assert.equal(cold.ColdStart, true);
    assert.ok((cold.InitDurationMs ?? 0) > 0);
    assert.equal(warm.ColdStart, false);
    assert.equal(warm.InitDurationMs, null);

    // The text table names both.
    const text = await lamina('invocations', '--function', 'rec-ok');
    assert.match(text, /^START\s+FUNCTION\s+VERSION\s+REQUEST ID/);
    assert.ok(text.includes(cold.RequestId) && text.includes(warm.RequestId), text);
    assert.match(text, /cold \d+ ms/);
  });

  test('errors, time-outs and aliases are recorded with their outcome; filters and pages', async () => {
    const { client } = suite;
    await deploy(
      client,
      'rec-fail',
      {
        'index.js':
          "exports.handler = async (e) => { if (e.sleep) await new Promise((r) => setTimeout(r, e.sleep)); if (e.fail) throw new TypeError('no'); return 'ok'; };",
      },
      { timeout: 1 },
    );
    await invokeJson(client, 'rec-fail', { fail: true });
    await invokeJson(client, 'rec-fail', { sleep: 3000 });
    const version = (await client.send(new PublishVersionCommand({ FunctionName: 'rec-fail' })))
      .Version;
    await client.send(
      new CreateAliasCommand({ FunctionName: 'rec-fail', Name: 'live', FunctionVersion: version }),
    );
    await client.send(
      new InvokeCommand({
        FunctionName: 'rec-fail',
        Qualifier: 'live',
        Payload: Buffer.from('{}'),
      }),
    );

    const all = (await records('FunctionName=rec-fail')).Invocations;
    assert.deepEqual(
      all.map((r) => [r.Outcome, r.ErrorType, r.Qualifier, r.ExecutedVersion]),
      [
        ['success', null, 'live', version],
        ['timeout', 'Sandbox.Timedout', null, '$LATEST'],
        ['error', 'TypeError', null, '$LATEST'],
      ],
    );
    const errors = (await records('FunctionName=rec-fail&Outcome=error')).Invocations;
    assert.deepEqual(
      errors.map((r) => r.ErrorType),
      ['TypeError'],
    );
    const timeouts = JSON.parse(
      await lamina(
        'invocations',
        '--function',
        'rec-fail',
        '--outcome',
        'timeout',
        '--output',
        'json',
      ),
    ) as { Invocations: InvocationView[] };
    assert.equal(timeouts.Invocations.length, 1);
    assert.ok((timeouts.Invocations[0]?.DurationMs ?? 0) >= 1000);

    // Pages of one, in order, end.
    const seen: string[] = [];
    let marker: string | undefined;
    do {
      const page = await records(
        `FunctionName=rec-fail&MaxItems=1${marker === undefined ? '' : `&Marker=${marker}`}`,
      );
      seen.push(...page.Invocations.map((r) => r.RequestId));
      marker = page.NextMarker;
    } while (marker !== undefined);
    assert.deepEqual(
      seen,
      all.map((r) => r.RequestId),
    );

    // A time range after everything is empty; one that holds them has all three.
    const future = new Date(Date.now() + 3_600_000).toISOString();
    assert.equal((await records(`FunctionName=rec-fail&Since=${future}`)).Invocations.length, 0);
    assert.equal(
      (await records(`FunctionName=rec-fail&Since=${Date.now() - 600_000}&Until=${future}`))
        .Invocations.length,
      3,
    );

    // Bad parameters are refused, AWS-shaped.
    for (const bad of [
      'Outcome=maybe',
      'Trigger=mail',
      'Since=yesterday',
      'MaxItems=0',
      'Marker=abc',
    ]) {
      const { status, json } = await api(bad).catch((error: LaminaApiError) => ({
        status: error.status,
        json: { Type: error.code },
      }));
      assert.equal(status, 400, bad);
      assert.equal(
        (json as { Type?: string }).Type,
        'InvalidParameterValueException',
        JSON.stringify(json),
      );
    }
  });

  test('an asynchronous invoke leaves one record per attempt, triggered async', async () => {
    const { client } = suite;
    await deploy(client, 'rec-async', { 'index.js': "exports.handler = async () => 'done';" });
    const accepted = await client.send(
      new InvokeCommand({
        FunctionName: 'rec-async',
        InvocationType: 'Event',
        Payload: Buffer.from('{}'),
      }),
    );
    assert.equal(accepted.StatusCode, 202);
    const requestId = accepted.$metadata.requestId ?? '';
    const found = await poll(
      () => records(`RequestId=${requestId}`),
      (page) => page.Invocations.length > 0,
      60_000,
      'the record of the asynchronous attempt',
    );
    const [record] = found.Invocations;
    assert.equal(record?.FunctionName, 'rec-async');
    assert.equal(record?.Trigger, 'async');
    assert.equal(record?.Outcome, 'success');
  });

  test('usage is the exact sum of the records, priced at AWS rates', async () => {
    const usage = JSON.parse(
      await lamina('usage', '--function', 'rec-ok', '--since', '1d', '--output', 'json'),
    ) as {
      Usage: Array<UsageFigures & { Version: string; PeriodStart: string }>;
      Total: UsageFigures;
    };
    const recs = (await records('FunctionName=rec-ok')).Invocations;
    const mbMs = recs.reduce((sum, r) => sum + r.BilledDurationMs * r.MemorySizeMB, 0);
    const billed = recs.reduce((sum, r) => sum + r.BilledDurationMs, 0);
    assert.equal(usage.Total.Requests, recs.length);
    assert.equal(usage.Total.BilledDurationMs, billed);
    assert.equal(usage.Total.MbMilliseconds, mbMs);
    assert.equal(usage.Total.GbSeconds, mbMs / 1024 / 1000);
    assert.equal(usage.Total.ProvisionedConcurrencyGbSeconds, 0);
    const rate = process.arch === 'arm64' ? 0.0000133334 : 0.0000166667;
    const expected = (recs.length / 1e6) * 0.2 + (mbMs / 1024 / 1000) * rate;
    assert.ok(
      Math.abs(usage.Total.Cost.Total - expected) < 1e-12,
      `${usage.Total.Cost.Total} vs ${expected}`,
    );
    assert.deepEqual(
      usage.Usage.map((u) => u.Version),
      ['$LATEST'],
    );
    const byDay = JSON.parse(
      await lamina('usage', '--function', 'rec-ok', '--by', 'day', '--output', 'json'),
    ) as { Usage: Array<{ PeriodStart: string }>; Total: UsageFigures };
    assert.match(byDay.Usage[0]?.PeriodStart ?? '', /T00:00:00\.000Z$/);
    assert.equal(byDay.Total.MbMilliseconds, mbMs);
    const text = await lamina('usage', '--function', 'rec-ok');
    assert.match(text, /^PERIOD\s+FUNCTION\s+VERSION\s+REQUESTS\s+GB-SECONDS/);
    assert.match(text, /\nTOTAL\s+2\s/);
  });
});
