// Asynchronous drain benchmark: `node bench/async-drain.mjs [--quick]` after `npm run build`.
// How fast the queue drains when functions may not run all their events at once:
//   reserved: 300 events of one function with reserved concurrency 2 (a 20 ms handler), queued on
//     a server that runs one event at a time and is then stopped; a new server on the same data
//     directory drains them (the floor: 20 ms × the events left / 2);
//   mixed: events over 20 functions with reserved concurrency 1, 2, 5 or none, queued the same
//     way; when each function first ran after the restart, and when the queue was empty.
// Prints one JSON document on stdout, progress on stderr.
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout } from 'node:timers';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import { eventsApi } from './async-events.mjs';
import { BENCH_CREDENTIALS, startLaminaServer } from './lamina-server.mjs';
import { deployFunction, sdkClient } from './lambda-functions.mjs';
import { machineInfo } from './machine-info.mjs';
import { createSignedInvoker } from './signed-invoke.mjs';
import { round, summarize } from './stats.mjs';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE =
  'exports.handler = async () => { const startedAt = Date.now(); ' +
  'await new Promise((r) => setTimeout(r, 20)); return { startedAt }; };\n';

export const DRAIN_PLANS = {
  full: { reservedEvents: 300, mixedEvents: 10_000 },
  quick: { reservedEvents: 300, mixedEvents: 2_000 },
};

const progressLine = (message) => process.stderr.write(`[bench] ${message}\n`);

/**
 * Deploys the functions (with their reserved concurrency) on a server whose queue runs one event
 * at a time, queues `perFunction` events for each, and stops it (SIGTERM: the event running
 * finishes); most events are still queued for the next server. Returns how many were left.
 */
async function queueThenStop(dataDir, functions, perFunction, progress) {
  const server = await startLaminaServer(REPO_ROOT, {
    dataDir,
    args: ['--async-concurrency', '1'],
  });
  const client = sdkClient(server.endpoint, BENCH_CREDENTIALS);
  const invoker = createSignedInvoker(server.endpoint, BENCH_CREDENTIALS, { connections: 32 });
  try {
    for (const { name, reserved } of functions) {
      await deployFunction(client, name, SOURCE, { memorySize: 128 });
      if (reserved !== undefined)
        await client.send(
          new PutFunctionConcurrencyCommand({
            FunctionName: name,
            ReservedConcurrentExecutions: reserved,
          }),
        );
    }
    progress(`drain: queueing ${perFunction * functions.length} events`);
    const sends = [];
    for (let i = 0; i < perFunction; i += 1) for (const { name } of functions) sends.push(name);
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        for (let name = sends.pop(); name !== undefined; name = sends.pop())
          await invoker.invoke(name, { event: true, payload: {} });
      }),
    );
    const api = await eventsApi(server.endpoint, BENCH_CREDENTIALS);
    let left = 0;
    for (const { name } of functions)
      left += (await api.all(name)).filter((e) => e.Status !== 'Succeeded').length;
    return left;
  } finally {
    invoker.close();
    client.destroy();
    await server.stop();
  }
}

/** Starts a server on the data directory and waits until no event waits or runs. */
async function drain(dataDir, functions, progress) {
  const server = await startLaminaServer(REPO_ROOT, { dataDir });
  const started = Date.now();
  try {
    const api = await eventsApi(server.endpoint, BENCH_CREDENTIALS);
    const deadline = performance.now() + 300_000;
    const waiting = async () => {
      for (const { name } of functions)
        for (const status of ['Queued', 'Running', 'Retrying'])
          if (await api.any(name, status)) return true;
      return false;
    };
    while (await waiting()) {
      if (performance.now() > deadline) throw new Error('events still waiting after 300 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const drainedAt = Date.now();
    const perFunction = [];
    for (const { name, reserved } of functions) {
      const events = await api.all(name);
      const starts = events
        .map((e) => e.Response.startedAt - started)
        .filter((ms) => ms >= 0)
        .sort((a, b) => a - b);
      perFunction.push({
        function: name,
        reserved: reserved ?? null,
        events: events.length,
        first_start_seconds: round(starts[0] / 1000),
        last_start_seconds: round(starts[starts.length - 1] / 1000),
        attempts_over_one: events.filter((e) => e.Attempts > 1).length,
        throttles: events.reduce((sum, e) => sum + (e.Throttles ?? 0), 0),
      });
    }
    progress(`drain: ${functions.length} functions drained in ${(drainedAt - started) / 1000} s`);
    return { seconds: round((drainedAt - started) / 1000), perFunction };
  } finally {
    await server.stop();
  }
}

export async function benchmarkAsyncDrain(mode, progress = progressLine) {
  const plan = DRAIN_PLANS[mode];
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const scenario = async (label, functions, perFunction) => {
    const dataDir = mkdtempSync(join(tmpdir(), `lamina-bench-drain-${label}-`));
    try {
      const left = await queueThenStop(dataDir, functions, perFunction, progress);
      return { ...(await drain(dataDir, functions, progress)), leftAtStart: left };
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  };
  const reserved = await scenario(
    'reserved',
    [{ name: 'drain-reserved', reserved: 2 }],
    plan.reservedEvents,
  );
  const mixedFunctions = Array.from({ length: 20 }, (_, i) => ({
    name: `drain-mixed-${i}`,
    reserved: [1, 2, 5, undefined][i % 4],
  }));
  const mixed = await scenario('mixed', mixedFunctions, plan.mixedEvents / 20);
  const firstStarts = mixed.perFunction.map((f) => f.first_start_seconds);
  return {
    reserved_concurrency_2: {
      events: plan.reservedEvents,
      waiting_at_restart: reserved.leftAtStart,
      drained_seconds: reserved.seconds,
      floor_seconds: (reserved.leftAtStart * 0.02) / 2,
      attempts_over_one: reserved.perFunction[0]?.attempts_over_one,
      throttles: reserved.perFunction[0]?.throttles,
      target_under_5_seconds: reserved.seconds < 5,
    },
    mixed_20_functions: {
      events: plan.mixedEvents,
      waiting_at_restart: mixed.leftAtStart,
      drained_seconds: mixed.seconds,
      first_start_seconds: summarize(firstStarts.map((s) => s * 1000)),
      every_function_started_within_1_second: firstStarts.every((s) => s <= 1),
      throttles: mixed.perFunction.reduce((sum, f) => sum + f.throttles, 0),
      per_function: mixed.perFunction,
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const mode = process.argv.includes('--quick') ? 'quick' : 'full';
  const result = await benchmarkAsyncDrain(mode);
  process.stdout.write(
    `${JSON.stringify({ benchmark: 'async-drain', mode, machine: machineInfo(), ...result }, null, 2)}\n`,
  );
}
