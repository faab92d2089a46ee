/**
 * The real Prometheus server (Debian's `prometheus` package) scrapes a Lamina server's `/metrics`
 * on its own port with a bearer token, every second, while functions are invoked: successes, an
 * alias, function errors, a throttle (reserved concurrency 0), asynchronous events (one dropped).
 * The test asks PromQL over Prometheus's HTTP API until the expected values appear (or a deadline
 * passes), so the whole path is checked: Lamina's counters, the exposition format, the token, and
 * what Prometheus makes of them.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateAliasCommand,
  InvokeCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { deploy, invokeJson } from '../helpers/functions.js';
import { failureOf, lambdaClient } from '../helpers/lambda-client.js';
import { poll } from '../helpers/poll.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';

const PROMETHEUS = '/usr/bin/prometheus';
const TOKEN = 'e2e-scrape-token-3f9c1d2a7b';

const OK = { 'index.js': 'exports.handler = async (event) => ({ ok: true, event });' };
const FAILS = {
  'index.js': 'exports.handler = async () => { throw new Error("this function always fails"); };',
};

/** A port free on 127.0.0.1 now (Prometheus is told to listen on it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface RunningPrometheus {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts Prometheus with its own configuration, data folder and port, scraping `target` every
 * second with the bearer token; resolves once it says it is ready (racing its exit).
 */
async function startPrometheus(dir: string, target: URL): Promise<RunningPrometheus> {
  const port = await freePort();
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: lamina',
      '    scrape_interval: 1s',
      '    scrape_timeout: 1s',
      `    metrics_path: ${target.pathname}`,
      '    authorization:',
      '      type: Bearer',
      `      credentials: ${TOKEN}`,
      '    static_configs:',
      `      - targets: ['${target.host}']`,
      '',
    ].join('\n'),
  );
  mkdirSync(join(dir, 'data'));
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=info',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(String(code ?? signal))),
  );
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const heard = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Server is ready to receive web requests')) resolve();
    };
    child.stderr?.on('data', heard);
    child.stdout?.on('data', heard);
    void exited.then((code) => reject(new Error(`prometheus exited (${code}):\n${log}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** One PromQL instant query: the value of its only sample, or undefined when it has none. */
async function queryValue(prometheus: string, promql: string): Promise<number | undefined> {
  const response = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const answer = (await response.json()) as {
    status: string;
    error?: string;
    data?: { result: Array<{ value: [number, string] }> };
  };
  if (answer.status !== 'success') throw new Error(`${promql}: ${answer.error ?? answer.status}`);
  const [first] = answer.data?.result ?? [];
  return first === undefined ? undefined : Number(first.value[1]);
}

/** Waits until Prometheus answers `promql` with a value `ready` accepts; returns it. */
function until(
  prometheus: string,
  promql: string,
  ready: (value: number | undefined) => boolean,
): Promise<number | undefined> {
  return poll(() => queryValue(prometheus, promql), ready, 60_000, promql);
}

const equals = (expected: number) => (value: number | undefined) => value === expected;
const atLeast = (expected: number) => (value: number | undefined) =>
  value !== undefined && value >= expected;

describe('Prometheus scrapes Lamina', () => {
  const dir = tempDir();
  let server: ServerProcess;
  let client: LambdaClient;
  let prometheus: RunningPrometheus;
  let metricsUrl: URL;

  before(async () => {
    // Debian's package (scripts/setup.sh --for-tests installs it); without it the test cannot run.
    if (!existsSync(PROMETHEUS))
      throw new Error(
        `${PROMETHEUS} is missing: install Debian's prometheus package (scripts/setup.sh --for-tests)`,
      );
    server = await startServer({
      dataDir: join(dir.path, 'lamina'),
      args: ['--metrics-port', '0'],
      env: { LAMINA_METRICS_TOKEN: TOKEN },
    });
    const banner = /Prometheus metrics at (\S+) \(bearer token\)/.exec(server.output());
    assert.ok(banner?.[1] !== undefined, `no metrics line in:\n${server.output()}`);
    metricsUrl = new URL(banner[1]);
    client = lambdaClient(server.endpoint);
    prometheus = await startPrometheus(dir.path, metricsUrl);
  });

  after(async () => {
    client?.destroy();
    await prometheus?.stop();
    await server?.stop();
    dir.remove();
  });

  test('the token is required on the metrics port; the API port has no /metrics then', async () => {
    assert.equal((await fetch(metricsUrl)).status, 401);
    const wrong = await fetch(metricsUrl, {
      headers: { authorization: 'Bearer not-the-token-00' },
    });
    assert.equal(wrong.status, 401);
    const right = await fetch(metricsUrl, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(right.status, 200);
    assert.match(right.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(await right.text(), /^# TYPE lamina_invocations_total counter$/m);
    const api = await fetch(`${server.endpoint}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(api.status, 404);
    await until(prometheus.url, 'up{job="lamina"}', equals(1));
  });

  test('invocations, errors, throttles, durations, an alias and async events reach PromQL', async () => {
    await deploy(client, 'ok', OK, { memorySize: 128 });
    await deploy(client, 'fails', FAILS, { memorySize: 128 });
    await deploy(client, 'capped', OK, { memorySize: 128 });
    const version = await client.send(new PublishVersionCommand({ FunctionName: 'ok' }));
    await client.send(
      new CreateAliasCommand({
        FunctionName: 'ok',
        Name: 'live',
        FunctionVersion: version.Version ?? '1',
      }),
    );
    await client.send(
      new PutFunctionConcurrencyCommand({
        FunctionName: 'capped',
        ReservedConcurrentExecutions: 0,
      }),
    );
    await client.send(
      new PutFunctionEventInvokeConfigCommand({ FunctionName: 'fails', MaximumRetryAttempts: 0 }),
    );

    for (let i = 0; i < 3; i += 1)
      assert.deepEqual((await invokeJson(client, 'ok', { i })).body, {
        ok: true,
        event: { i },
      });
    for (let i = 0; i < 2; i += 1) await invokeJson(client, 'ok:live', { i });
    for (let i = 0; i < 2; i += 1) {
      const failed = await invokeJson(client, 'fails');
      assert.equal(failed.output.FunctionError, 'Unhandled');
    }
    const throttled = await failureOf(client.send(new InvokeCommand({ FunctionName: 'capped' })));
    assert.equal(throttled.status, 429);
    for (const name of ['ok', 'fails']) {
      const accepted = await client.send(
        new InvokeCommand({ FunctionName: name, InvocationType: 'Event', Payload: '{}' }),
      );
      assert.equal(accepted.StatusCode, 202);
    }

    const p = prometheus.url;
    await until(
      p,
      'sum(lamina_invocations_total{function_name="ok",resource="$LATEST",trigger="sync"})',
      equals(3),
    );
    await until(p, 'sum(lamina_invocations_total{function_name="ok",resource="live"})', equals(2));
    await until(
      p,
      'sum(lamina_invocations_total{function_name="ok",resource="$LATEST",trigger="async"})',
      equals(1),
    );
    // Two synchronous function errors and the asynchronous attempt (no retries).
    await until(p, 'sum(lamina_invocation_errors_total{function_name="fails"})', equals(3));
    await until(p, 'sum(lamina_throttles_total{function_name="capped"})', equals(1));
    await until(p, 'sum(lamina_invocations_total{function_name="capped"})', (v) => v === undefined);
    await until(p, 'sum(lamina_invocation_duration_seconds_count{function_name="ok"})', equals(6));
    await until(
      p,
      'sum(lamina_invocation_duration_seconds_bucket{function_name="ok",le="+Inf"})',
      equals(6),
    );
    // Every duration is under the 10 s bucket; none is negative.
    await until(
      p,
      'sum(lamina_invocation_duration_seconds_bucket{function_name="ok",le="10"})',
      equals(6),
    );
    await until(p, 'sum(lamina_cold_starts_total{function_name="ok"})', atLeast(1));
    await until(p, 'sum(lamina_init_duration_seconds_count{function_name="ok"})', atLeast(1));
    await until(p, 'sum(lamina_async_events_received_total{function_name="ok"})', equals(1));
    await until(p, 'sum(lamina_async_event_age_seconds_count{function_name="fails"})', equals(1));
    await until(
      p,
      'sum(lamina_async_events_dropped_total{function_name="fails",reason="RetriesExhausted"})',
      equals(1),
    );
    await until(p, 'sum(lamina_async_events_dropped_total{function_name="ok"})', equals(0));
    await until(p, 'max(lamina_max_memory_used_bytes{function_name="ok"})', atLeast(1));
  });

  test("the platform's gauges and the process metrics are scraped too", async () => {
    const p = prometheus.url;
    await until(p, 'lamina_account_concurrency_limit', atLeast(1));
    await until(p, 'sum(lamina_environments{state="idle"})', atLeast(1));
    await until(p, 'lamina_environment_memory_reserved_bytes', atLeast(128 * 1024 * 1024));
    await until(p, 'lamina_environment_memory_capacity_bytes', atLeast(128 * 1024 * 1024));
    await until(p, 'sum(lamina_async_queue_depth)', equals(0));
    await until(p, 'lamina_unreserved_concurrent_executions', equals(0));
    await until(p, 'nodejs_eventloop_lag_p99_seconds', (v) => v !== undefined && v >= 0);
    await until(p, 'process_resident_memory_bytes', atLeast(1));
    await until(p, 'lamina_metrics_overflow_total', equals(0));
  });
});
