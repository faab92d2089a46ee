// Asynchronous invocation benchmark: `node bench/async-events.mjs [--quick]` after `npm run build`
// (also part of `node bench/run.mjs`). Durable acceptance rate: many concurrent signed
// `InvocationType: Event` invokes, each answered 202 only once its event is committed (fsync);
// and end-to-end lag at a steady rate: from acceptance to the function's start and to the
// recorded result. Prints one JSON document on stdout, progress on stderr.
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout } from 'node:timers';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BENCH_CREDENTIALS, startLaminaServer } from './lamina-server.mjs';
import { deployFunction, sdkClient } from './lambda-functions.mjs';
import { loadAverage, machineInfo } from './machine-info.mjs';
import { createSignedInvoker } from './signed-invoke.mjs';
import { round, summarize } from './stats.mjs';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ASYNC_FUNCTION = 'bench-async';
/** Reports when it started, so the lag to the function's start can be measured. */
export const ASYNC_FUNCTION_SOURCE = 'exports.handler = async () => ({ startedAt: Date.now() });\n';

export const ASYNC_PLANS = {
  full: { warmup: 200, accepted: 10_000, inFlight: 128, lagRate: 100, lagSeconds: 20 },
  quick: { warmup: 100, accepted: 3_000, inFlight: 128, lagRate: 100, lagSeconds: 5 },
};

const progressLine = (message) => process.stderr.write(`[bench] ${message}\n`);

/** Lambda-format time (`2026-11-21T19:06:32.563+0000`) to epoch ms. */
const epochMs = (time) => Date.parse(time.replace('+0000', 'Z'));

/** A signed client of Lamina's events API (the one `lamina events` uses), from dist/. */
export async function eventsApi(endpoint, credentials) {
  const { LaminaApiClient } = await import(
    pathToFileURL(join(REPO_ROOT, 'dist/src/cli/lamina-api-client.js')).href
  );
  const client = new LaminaApiClient({ endpoint, region: 'us-east-1', credentials });
  const base = '/lamina/2026-11-01';
  return {
    /** Whether the function has any event of that status (one small page). */
    async any(functionName, status) {
      const { json } = await client.request(
        'GET',
        `${base}/functions/${functionName}/async-events`,
        { Status: status, MaxItems: '1' },
      );
      return json.AsyncEvents.length > 0;
    },
    async get(requestId) {
      return (await client.request('GET', `${base}/async-events/${requestId}`)).json;
    },
    /** Every event of the function (its pages followed). */
    async all(functionName) {
      const events = [];
      let marker;
      do {
        const query = { MaxItems: '1000', ...(marker === undefined ? {} : { Marker: marker }) };
        const { json } = await client.request(
          'GET',
          `${base}/functions/${functionName}/async-events`,
          query,
        );
        events.push(...json.AsyncEvents);
        marker = json.NextMarker;
      } while (marker !== undefined && marker !== null);
      return events;
    },
  };
}

/** Resolves once no event of the function waits or runs; returns the seconds it took. */
async function drained(api, functionName, deadlineMs) {
  const started = performance.now();
  for (;;) {
    let waiting = false;
    for (const status of ['Queued', 'Running', 'Retrying'])
      waiting ||= await api.any(functionName, status);
    if (!waiting) return (performance.now() - started) / 1000;
    if (performance.now() - started > deadlineMs)
      throw new Error(`events still waiting after ${deadlineMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Measures a server where ASYNC_FUNCTION exists. Acceptance: `accepted` events, `inFlight`
 * requests at a time over as many keep-alive connections, while the server's workers run the
 * events they accept; then the time until the queue is empty. Lag and drain (unless `lag` is false):
 * `lagRate` events per second for `lagSeconds`, once the queue is empty.
 */
export async function measureAsyncEvents(
  endpoint,
  credentials,
  plan,
  { progress = progressLine, lag = true } = {},
) {
  const api = await eventsApi(endpoint, credentials);
  const invoker = createSignedInvoker(endpoint, credentials, { connections: plan.inFlight });
  try {
    const send = async (payload) =>
      invoker.invoke(ASYNC_FUNCTION, { event: true, payload: payload ?? {} });
    const burst = async (count) => {
      let remaining = count;
      const latencies = [];
      await Promise.all(
        Array.from({ length: plan.inFlight }, async () => {
          while (remaining > 0) {
            remaining -= 1;
            latencies.push((await send()).ms);
          }
        }),
      );
      return latencies;
    };
    progress(`async: ${plan.warmup} warm-up events`);
    await burst(plan.warmup);
    await drained(api, ASYNC_FUNCTION, 120_000);

    progress(`async: ${plan.accepted} events, ${plan.inFlight} in flight`);
    const started = performance.now();
    const latencies = await burst(plan.accepted);
    const acceptSeconds = (performance.now() - started) / 1000;
    // One worker would take minutes to drain the burst; that server only measures acceptance.
    const drainSeconds = lag ? await drained(api, ASYNC_FUNCTION, 600_000) : null;
    const totalSeconds = lag ? (performance.now() - started) / 1000 : null;

    const acceptance = {
      events: plan.accepted,
      in_flight: plan.inFlight,
      seconds: round(acceptSeconds),
      accepted_per_second: Math.round(plan.accepted / acceptSeconds),
      latency_202: summarize(latencies),
      drained_after_seconds: round(totalSeconds),
      drain_per_second: totalSeconds === null ? null : Math.round(plan.accepted / totalSeconds),
      drain_tail_seconds: round(drainSeconds),
    };
    if (!lag) return { acceptance };

    progress(`async: steady ${plan.lagRate} events/s for ${plan.lagSeconds} s`);
    const total = plan.lagRate * plan.lagSeconds;
    const sends = [];
    const t0 = performance.now();
    for (let i = 0; i < total; i += 1) {
      const due = t0 + (i * 1000) / plan.lagRate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      sends.push(send({ i }));
    }
    const responses = await Promise.all(sends);
    await drained(api, ASYNC_FUNCTION, 120_000);
    const toStart = [];
    const toResult = [];
    for (const { requestId } of responses) {
      const event = await api.get(requestId);
      if (event.Status !== 'Succeeded') throw new Error(`event ${requestId} ended ${event.Status}`);
      const enqueued = epochMs(event.EnqueuedTime);
      toStart.push(event.Response.startedAt - enqueued);
      toResult.push(epochMs(event.FinishedTime) - enqueued);
    }
    return {
      acceptance,
      steady_lag: {
        rate_per_second: plan.lagRate,
        events: total,
        accepted_to_function_start: summarize(toStart),
        accepted_to_recorded_result: summarize(toResult),
      },
    };
  } finally {
    invoker.close();
  }
}

/** Deploys the benchmark's function on a server (128 MB: the queue is measured, not the CPU). */
export async function deployAsyncFunction(client) {
  await deployFunction(client, ASYNC_FUNCTION, ASYNC_FUNCTION_SOURCE, { memorySize: 128 });
}

/**
 * The whole asynchronous benchmark on servers of its own: acceptance while the default workers
 * (32 at once) drain the queue, plus the steady-rate lag; then acceptance on a server whose queue
 * runs one event at a time (`--async-concurrency 1`), so that the figure is the acceptance path's
 * own. `cleanups` receives what must be undone if the run is interrupted.
 */
export async function benchmarkAsyncEvents(repoRoot, mode, progress = progressLine, cleanups = []) {
  const plan = ASYNC_PLANS[mode];
  const run = async (args, lag) => {
    progress(`async: starting lamina server ${args.join(' ')}`.trim());
    const server = await startLaminaServer(repoRoot, { args });
    cleanups.push(() => server.stop());
    const client = sdkClient(server.endpoint, BENCH_CREDENTIALS);
    try {
      await deployAsyncFunction(client);
      return await measureAsyncEvents(server.endpoint, BENCH_CREDENTIALS, plan, { progress, lag });
    } catch (error) {
      progress(`lamina server output (last lines):\n${server.logTail()}`);
      throw error;
    } finally {
      client.destroy();
      await server.stop();
    }
  };
  const withWorkers = await run([], true);
  const acceptanceOnly = await run(['--async-concurrency', '1'], false);
  const best = acceptanceOnly.acceptance.accepted_per_second;
  return {
    acceptance_while_draining: withWorkers.acceptance,
    acceptance_one_worker: acceptanceOnly.acceptance,
    steady_lag: withWorkers.steady_lag,
    target_acceptance_2000_per_second: {
      while_draining_per_second: withWorkers.acceptance.accepted_per_second,
      one_worker_per_second: best,
      met: best >= 2000,
    },
  };
}

async function main() {
  const unknown = process.argv.slice(2).filter((arg) => arg !== '--quick');
  if (unknown.length > 0) throw new Error(`usage: node bench/async-events.mjs [--quick]`);
  const mode = process.argv.includes('--quick') ? 'quick' : 'full';
  const result = { benchmark: 'lamina-async-events', mode, machine: machineInfo(REPO_ROOT) };
  const started = performance.now();
  Object.assign(result, await benchmarkAsyncEvents(REPO_ROOT, mode));
  result.run_seconds = round((performance.now() - started) / 1000);
  result.machine.load_average_1m_at_end = loadAverage();
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`[bench] FAILED: ${error instanceof Error ? error.stack : error}\n`);
      process.exit(1);
    },
  );
}
