// Lamina benchmark: `node bench/run.mjs [--quick]` after `npm run build`. Starts its own server
// on a temp data directory, deploys no-op Node.js functions and prints one JSON document on stdout
// (progress on stderr). See docs/PERFORMANCE.md for what each figure means.
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { existsSync } from 'node:fs';
import { totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { measureBurst } from './burst.mjs';
import { benchmarkAsyncDrain } from './async-drain.mjs';
import { benchmarkAsyncEvents } from './async-events.mjs';
import { COLD_FUNCTION_SOURCE, measureColdStarts } from './cold-start.mjs';
import { measureNewFunctionColdStarts } from './new-function-cold-start.mjs';
import { environmentsCpuMs, processCpuMs } from './cpu-time.mjs';
import { environmentMemory } from './environment-memory.mjs';
import { startHttpFloorServer } from './http-floor.mjs';
import { BENCH_CREDENTIALS, startLaminaServer } from './lamina-server.mjs';
import { deployFunction, sdkClient } from './lambda-functions.mjs';
import { cpuCounters, cpuShares, loadAverage, machineInfo } from './machine-info.mjs';
import { processStartBaselines, timeNodeStart } from './process-start.mjs';
import { parseReportLine } from './report-line.mjs';
import { createSignedInvoker } from './signed-invoke.mjs';
import { round, summarize } from './stats.mjs';
import { targets } from './targets.mjs';
import {
  measureInterleaved,
  measureSequential,
  measureThroughput,
  warmUpUntilSteady,
} from './warm-latency.mjs';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** 1,769 MB is one vCPU of quota: the function is never throttled by its own CPU limit. */
const MEMORY_SIZE = 1769;
const WARM_FUNCTION = 'bench-noop';
const COLD_FUNCTION = 'bench-cold';

const PLANS = {
  full: {
    warmInvokes: 1000,
    warmup: 100,
    throughputClients: [1, 4, 8],
    throughputInvokes: 10000,
    warmUp: { clients: 8, roundInvokes: 4000, minRounds: 6, maxRounds: 12 },
    paired: { blocks: 5, perBlock: 1000 },
    coldStarts: 100,
    newFunctionColdStarts: 50,
    burstCalls: 100,
    processStarts: 50,
    deadlineMs: 12 * 60_000,
  },
  quick: {
    warmInvokes: 200,
    warmup: 30,
    throughputClients: [1, 4, 8],
    throughputInvokes: 300,
    warmUp: { clients: 8, roundInvokes: 1000, minRounds: 2, maxRounds: 3 },
    paired: { blocks: 2, perBlock: 100 },
    coldStarts: 10,
    newFunctionColdStarts: 10,
    burstCalls: 100,
    processStarts: 10,
    deadlineMs: 5 * 60_000,
  },
};

const progress = (message) => process.stderr.write(`[bench] ${message}\n`);

function parseArguments(argv) {
  const unknown = argv.filter((arg) => arg !== '--quick');
  if (unknown.length > 0) {
    const error = new Error(`unknown argument(s): ${unknown.join(' ')}`);
    error.usage = 'usage: node bench/run.mjs [--quick]   (after npm run build)';
    throw error;
  }
  return argv.includes('--quick') ? 'quick' : 'full';
}

/** Per-environment figures (mean over the live environments), in MiB. */
function memoryFigures(snapshot) {
  const envs = snapshot.environments;
  const mib = (pick) =>
    envs.length === 0
      ? null
      : round(envs.reduce((sum, e) => sum + pick(e), 0) / envs.length / 1024 ** 2);
  return {
    cgroup: snapshot.cgroup,
    environments: envs.length,
    processes_per_environment: envs.length === 0 ? null : envs[0].processes,
    cgroup_usage_mib: mib((e) => e.usageBytes),
    cgroup_anon_mib: mib((e) => e.anonBytes),
    processes_rss_mib: mib((e) => e.rssBytes),
    processes_pss_mib: mib((e) => e.pssBytes),
  };
}

async function benchmark(mode, cleanups, diagnostics) {
  const plan = PLANS[mode];
  if (!existsSync(join(REPO_ROOT, 'dist/src/cli/main.js')))
    throw new Error('dist/ is missing: run `npm run build` first');
  const result = { benchmark: 'lamina', mode, machine: machineInfo(REPO_ROOT) };
  if (result.machine.load_average_1m_at_start > result.machine.cores / 2)
    progress(
      `warning: load average ${result.machine.load_average_1m_at_start}: other work will skew the figures`,
    );
  const capacityMiB = Math.floor((totalmem() / 1024 ** 2) * 0.75);
  const levels = plan.throughputClients.filter((c) => (c + 1) * MEMORY_SIZE <= capacityMiB);
  result.settings = {
    memory_size_mb: MEMORY_SIZE,
    warm_invokes: plan.warmInvokes,
    warm_warmup_invokes: plan.warmup,
    warm_up_round_invokes: plan.warmUp.roundInvokes,
    load_generator:
      'undici, one keep-alive connection per client, SigV4 (@smithy/signature-v4) signature ' +
      'reused for an identical request within its second (the same bytes as signing again)',
    paired_blocks: plan.paired.blocks,
    paired_block_invokes: plan.paired.perBlock,
    throughput_invokes: plan.throughputInvokes,
    cold_starts: plan.coldStarts,
    process_starts: plan.processStarts,
  };

  const baselines = await processStartBaselines(plan.processStarts, progress);
  result.baseline = {
    node_e0: summarize(baselines.node),
    bwrap_node_e0: baselines.bwrap === undefined ? null : summarize(baselines.bwrap),
  };

  progress('starting lamina server');
  const server = await startLaminaServer(REPO_ROOT);
  cleanups.push(() => server.stop());
  diagnostics.push(() => `lamina server output (last lines):\n${server.logTail()}`);
  progress(`server at ${server.endpoint}; deploying ${WARM_FUNCTION} and ${COLD_FUNCTION}`);
  const client = sdkClient(server.endpoint, BENCH_CREDENTIALS);
  cleanups.push(() => client.destroy());
  await deployFunction(client, WARM_FUNCTION, 'exports.handler = async () => null;\n', {
    memorySize: MEMORY_SIZE,
  });
  await deployFunction(client, COLD_FUNCTION, COLD_FUNCTION_SOURCE, { memorySize: MEMORY_SIZE });

  const newInvoker = () => {
    const invoker = createSignedInvoker(server.endpoint, BENCH_CREDENTIALS);
    cleanups.push(() => invoker.close());
    return invoker;
  };
  const checked = (response) => {
    if (response.functionError !== undefined)
      throw new Error(`invoke failed (${response.functionError}): ${response.body.toString()}`);
    return response;
  };

  const warmStarted = cpuCounters();
  progress(`warm-up: rounds of ${plan.warmUp.roundInvokes} invokes until steady`);
  const warmUpClients = Array.from({ length: plan.warmUp.clients }, () => {
    const invoker = newInvoker();
    return { invoke: async () => checked(await invoker.invoke(WARM_FUNCTION)) };
  });
  result.warm_up = {
    clients: plan.warmUp.clients,
    ...(await warmUpUntilSteady(warmUpClients, plan.warmUp)),
  };
  progress(`  invokes/s per round: ${result.warm_up.invokes_per_second_per_round.join(', ')}`);

  progress(`warm, 1 client, AWS SDK: ${plan.warmInvokes} invokes`);
  const sdk = await measureSequential(
    async () => {
      const started = performance.now();
      const output = await client.send(new InvokeCommand({ FunctionName: WARM_FUNCTION }));
      const ms = performance.now() - started;
      if (output.StatusCode !== 200 || output.FunctionError !== undefined)
        throw new Error(`SDK invoke failed: ${output.StatusCode} ${output.FunctionError ?? ''}`);
      return { ms };
    },
    plan.warmInvokes,
    plan.warmup,
  );

  progress(
    `warm, 1 client, raw signed HTTP against the same request to a bare node:http server: ` +
      `${plan.paired.blocks} alternating blocks of ${plan.paired.perBlock} each`,
  );
  const raw = newInvoker();
  const floor = await startHttpFloorServer();
  cleanups.push(() => floor.stop());
  const floorInvoker = createSignedInvoker(floor.endpoint, BENCH_CREDENTIALS);
  cleanups.push(() => floorInvoker.close());
  const cpuNow = () => {
    const own = process.cpuUsage();
    return {
      server: processCpuMs(server.pid),
      environments: environmentsCpuMs(server.pid),
      client: (own.user + own.system) / 1000,
    };
  };
  const cpuSpent = { server: 0, environments: 0, client: 0 };
  let cpuBefore;
  const paired = await measureInterleaved(
    {
      invokeOnce: async () => ({ ms: checked(await raw.invoke(WARM_FUNCTION)).ms }),
      before: () => (cpuBefore = cpuNow()),
      after: () => {
        const now = cpuNow();
        for (const key of Object.keys(cpuSpent)) cpuSpent[key] += now[key] - cpuBefore[key];
      },
    },
    { invokeOnce: async () => ({ ms: (await floorInvoker.invoke(WARM_FUNCTION)).ms }) },
    { ...plan.paired, warmup: plan.warmup },
  );
  floorInvoker.close();
  floor.stop();
  const rawRun = { latencies: paired.a };
  const floorRun = { latencies: paired.b };
  const perInvoke = (key) => round(cpuSpent[key] / rawRun.latencies.length);

  progress(
    `warm, 1 client, raw signed HTTP with X-Amz-Log-Type: Tail: ${plan.warmInvokes} invokes`,
  );
  const tailRun = await measureSequential(
    async () => {
      const response = checked(await raw.invoke(WARM_FUNCTION, { logTail: true }));
      const report = parseReportLine(response.logResult);
      if (report?.durationMs === undefined) throw new Error('no REPORT line in the log tail');
      return { ms: response.ms, extra: report.durationMs };
    },
    plan.warmInvokes,
    plan.warmup,
  );
  const rawP50 = summarize(rawRun.latencies).p50_ms;
  const floorP50 = summarize(floorRun.latencies).p50_ms;
  const durationP50 = summarize(tailRun.extras).p50_ms;
  result.warm_invoke = {
    sdk: summarize(sdk.latencies),
    raw_http: summarize(rawRun.latencies),
    raw_http_log_tail: summarize(tailRun.latencies),
    bare_signed_round_trip: summarize(floorRun.latencies),
    overhead_over_bare_round_trip_p50_ms: round(rawP50 - floorP50),
    server_report_duration: summarize(tailRun.extras),
    outside_report_duration_p50_ms: round(summarize(tailRun.latencies).p50_ms - durationP50),
    sdk_cost_p50_ms: round(summarize(sdk.latencies).p50_ms - rawP50),
    cpu_ms_per_invoke: {
      server: perInvoke('server'),
      environment: perInvoke('environments'),
      client: perInvoke('client'),
      wall_mean_ms: summarize(rawRun.latencies).mean_ms,
    },
  };

  result.throughput = [];
  for (const clients of levels) {
    progress(
      `throughput: ${clients} concurrent raw HTTP clients, ${plan.throughputInvokes} invokes`,
    );
    const invokers = Array.from({ length: clients }, () => {
      const invoker = newInvoker();
      return { invoke: async () => checked(await invoker.invoke(WARM_FUNCTION)) };
    });
    const run = await measureThroughput(invokers, plan.throughputInvokes, 3);
    result.throughput.push({
      clients,
      invokes: plan.throughputInvokes,
      seconds: round(run.seconds),
      invokes_per_second: Math.round(run.invokesPerSecond),
      latency: summarize(run.latencies),
      environments: environmentMemory(server.pid).environments.length,
    });
  }
  result.machine.cpu_during_warm_figures = cpuShares(warmStarted, cpuCounters());
  if (levels.length < plan.throughputClients.length)
    progress(`skipped throughput levels that do not fit ${capacityMiB} MiB of environment memory`);

  progress('idle memory of the warm environments');
  result.idle_memory_per_environment = memoryFigures(environmentMemory(server.pid));

  progress(`cold starts: ${plan.coldStarts}, each followed by one node -e 0 (paired baseline)`);
  const pairedNode = [];
  const cold = await measureColdStarts(
    newInvoker(),
    COLD_FUNCTION,
    plan.coldStarts,
    parseReportLine,
    async (done) => {
      pairedNode.push(await timeNodeStart());
      if (done % 10 === 0) progress(`  ${done}/${plan.coldStarts}`);
    },
  );
  result.cold_start = {
    method: 'first invoke after the previous environment was torn down (process.exit)',
    client: summarize(cold.map((s) => s.clientMs)),
    init_duration: summarize(cold.map((s) => s.initMs)),
    first_invoke_report_duration: summarize(cold.map((s) => s.durationMs)),
    outside_init_and_duration_p50_ms: round(
      summarize(cold.map((s) => s.clientMs - s.initMs - s.durationMs)).p50_ms,
    ),
    paired_node_e0: summarize(pairedNode),
  };

  progress(`cold starts of new functions, pre-started pool on: ${plan.newFunctionColdStarts}`);
  const newFunctionColdStarts = async (lambda, invoker, prefix, count, method) => {
    const { samples, pairedNode } = await measureNewFunctionColdStarts({
      client: lambda,
      invoker,
      prefix,
      count,
      memorySize: MEMORY_SIZE,
      parseReport: parseReportLine,
      timeNodeStart,
      progress,
    });
    return {
      method,
      client: summarize(samples.map((s) => s.clientMs)),
      init_duration: summarize(samples.map((s) => s.initMs)),
      paired_node_e0: summarize(pairedNode),
    };
  };
  result.new_function_cold_start = await newFunctionColdStarts(
    client,
    newInvoker(),
    'bench-new',
    plan.newFunctionColdStarts,
    'first invoke of a function just created (pre-started pool on, the default)',
  );

  progress(`burst: ${plan.burstCalls} simultaneous first calls to a new function`);
  const burst = await measureBurst({
    client,
    newInvoker,
    name: 'bench-burst',
    calls: plan.burstCalls,
    memorySize: 128,
  });
  result.burst = {
    calls: plan.burstCalls,
    errors: burst.errors,
    latency: summarize(burst.latencies),
  };

  progress('cold starts of new functions with the pre-started pool off (second server)');
  const bare = await startLaminaServer(REPO_ROOT, { args: ['--prestart-pool-size', '0'] });
  cleanups.push(() => bare.stop());
  const bareClient = sdkClient(bare.endpoint, BENCH_CREDENTIALS);
  cleanups.push(() => bareClient.destroy());
  const bareInvoker = createSignedInvoker(bare.endpoint, BENCH_CREDENTIALS);
  cleanups.push(() => bareInvoker.close());
  result.new_function_cold_start_without_pool = await newFunctionColdStarts(
    bareClient,
    bareInvoker,
    'bench-bare',
    Math.max(5, Math.round(plan.newFunctionColdStarts / 2)),
    'first invoke of a function just created, --prestart-pool-size 0',
  );
  await bare.stop();
  // Its own servers: acceptance is measured with the default workers and with one.
  result.async_events = await benchmarkAsyncEvents(REPO_ROOT, mode, progress, cleanups);
  // Queues that functions' concurrency holds back, drained by a restarted server.
  result.async_drain = await benchmarkAsyncDrain(mode, progress);

  result.targets = targets(result);
  return result;
}

async function main() {
  const mode = parseArguments(process.argv.slice(2));
  const cleanups = [];
  const diagnostics = [];
  let interrupted;
  const onSignal = (signal) => {
    interrupted = signal;
    progress(`${signal} received; cleaning up`);
    void cleanUp(cleanups).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`the benchmark did not finish within ${PLANS[mode].deadlineMs / 1000} s`)),
      PLANS[mode].deadlineMs,
    );
  });
  try {
    const started = performance.now();
    const result = await Promise.race([benchmark(mode, cleanups, diagnostics), deadline]);
    result.run_seconds = round((performance.now() - started) / 1000);
    result.machine.load_average_1m_at_end = loadAverage();
    await cleanUp(cleanups);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } catch (error) {
    if (error instanceof Error)
      error.diagnostics = diagnostics.map((describe) => describe()).join('\n');
    throw error;
  } finally {
    clearTimeout(timer);
    await cleanUp(cleanups);
  }
  if (interrupted !== undefined) process.exitCode = 130;
}

/** Runs the registered cleanups last-first, once each; failures are reported, not thrown. */
async function cleanUp(cleanups) {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (error) {
      progress(`cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error) => {
    const detail = error?.usage ?? (error instanceof Error ? error.stack : undefined);
    process.stderr.write(`[bench] FAILED: ${error?.message ?? String(error)}\n${detail ?? ''}\n`);
    if (error?.diagnostics) process.stderr.write(`${error.diagnostics}\n`);
    process.exit(1);
  },
);
