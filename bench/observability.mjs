// Observability benchmark: `node bench/observability.mjs [--quick]` after `npm run build`. What
// watching invocations costs (the invocation records and usage, the Prometheus and CloudWatch
// metrics, the spans): two servers, one with `--observability off`, the same no-op function on
// each; warm invokes in alternating rounds for the latency, then 8 concurrent clients in
// alternating rounds for the throughput. Both servers' /metrics are scraped once a second, as
// Prometheus would. Prints one JSON document.
import { dirname, resolve } from 'node:path';
import { clearInterval, setInterval } from 'node:timers';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { deployFunction, sdkClient } from './lambda-functions.mjs';
import { BENCH_CREDENTIALS, startLaminaServer } from './lamina-server.mjs';
import { loadAverage, machineInfo } from './machine-info.mjs';
import { createSignedInvoker } from './signed-invoke.mjs';
import { round, summarize } from './stats.mjs';
import { measureThroughput, warmUpUntilSteady } from './warm-latency.mjs';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PLANS = {
  full: {
    rounds: 20,
    perRound: 500,
    clients: 8,
    throughputRounds: 6,
    throughputInvokes: 5000,
    warmUp: { roundInvokes: 4000, minRounds: 4, maxRounds: 10 },
  },
  quick: {
    rounds: 6,
    perRound: 200,
    clients: 8,
    throughputRounds: 2,
    throughputInvokes: 1000,
    warmUp: { roundInvokes: 1000, minRounds: 2, maxRounds: 3 },
  },
};
const TARGET_ADDED_US = 10;
const TARGET_INVOKES_PER_SECOND = 5000;
const progress = (message) => process.stderr.write(`[bench] ${message}\n`);

/** A server with the no-op function deployed, its invokers, and a once-a-second scraper. */
async function startTarget(name, args, clients) {
  progress(`starting the server with observability ${name}`);
  const server = await startLaminaServer(REPO_ROOT, { args });
  const lambda = sdkClient(server.endpoint, BENCH_CREDENTIALS);
  await deployFunction(lambda, 'warm', 'exports.handler = async () => null;\n', {
    memorySize: 128,
  });
  lambda.destroy();
  const sequential = createSignedInvoker(server.endpoint, BENCH_CREDENTIALS);
  const concurrent = Array.from({ length: clients }, () => {
    const invoker = createSignedInvoker(server.endpoint, BENCH_CREDENTIALS);
    return { invoker, invoke: () => invoker.invoke('warm') };
  });
  let scrapes = 0;
  const scraper = setInterval(() => {
    request(`${server.endpoint}/metrics`)
      .then((response) => response.body.text())
      .then(() => (scrapes += 1))
      .catch(() => undefined);
  }, 1000);
  return {
    name,
    sequential,
    concurrent,
    scrapes: () => scrapes,
    async stop() {
      clearInterval(scraper);
      sequential.close();
      for (const { invoker } of concurrent) invoker.close();
      await server.stop();
    },
  };
}

async function main() {
  const args = process.argv.slice(2);
  if (args.some((arg) => arg !== '--quick'))
    throw new Error('usage: node bench/observability.mjs [--quick]');
  const mode = args.includes('--quick') ? 'quick' : 'full';
  const plan = PLANS[mode];
  const targets = [];
  try {
    targets.push(await startTarget('on', [], plan.clients));
    targets.push(await startTarget('off', ['--observability', 'off'], plan.clients));
    const [on, off] = targets;
    const warmUp = {};
    for (const target of targets) {
      progress(`warming up (observability ${target.name})`);
      warmUp[target.name] = await warmUpUntilSteady(target.concurrent, plan.warmUp);
    }
    const samples = { on: [], off: [] };
    for (let r = 0; r < plan.rounds; r += 1) {
      progress(`latency round ${r + 1} of ${plan.rounds}`);
      // Alternate which goes first, so neither always runs on a warmer or colder machine.
      for (const target of r % 2 === 0 ? [on, off] : [off, on]) {
        for (let i = 0; i < plan.perRound; i += 1)
          samples[target.name].push((await target.sequential.invoke('warm')).ms);
      }
    }
    const throughput = { on: [], off: [] };
    for (let r = 0; r < plan.throughputRounds; r += 1) {
      progress(`throughput round ${r + 1} of ${plan.throughputRounds}`);
      for (const target of r % 2 === 0 ? [on, off] : [off, on]) {
        const run = await measureThroughput(target.concurrent, plan.throughputInvokes, 1);
        throughput[target.name].push(Math.round(run.invokesPerSecond));
      }
    }
    const onSummary = summarize(samples.on);
    const offSummary = summarize(samples.off);
    const addedUs = round((onSummary.p50_ms - offSummary.p50_ms) * 1000);
    const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const onRate = median(throughput.on);
    const result = {
      benchmark: 'lamina-observability',
      mode,
      machine: machineInfo(REPO_ROOT),
      warm_up: warmUp,
      warm_invoke_observability_on_ms: onSummary,
      warm_invoke_observability_off_ms: offSummary,
      observability_added_p50_us: addedUs,
      throughput_8_clients_invokes_per_second: {
        on: throughput.on,
        off: throughput.off,
        on_median: onRate,
        off_median: median(throughput.off),
      },
      metrics_scrapes: { on: on.scrapes(), off: off.scrapes() },
      targets: {
        added_p50_us: TARGET_ADDED_US,
        invokes_per_second_8_clients: TARGET_INVOKES_PER_SECOND,
      },
      met: {
        added_p50: addedUs <= TARGET_ADDED_US,
        throughput: onRate >= TARGET_INVOKES_PER_SECOND,
      },
    };
    result.machine.load_average_1m_at_end = loadAverage();
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    for (const target of targets) await target.stop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`[bench] FAILED: ${error instanceof Error ? error.stack : error}\n`);
    process.exit(1);
  },
);
