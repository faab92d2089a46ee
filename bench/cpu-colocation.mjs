// CPU co-location on and off, in alternation: for each, a fresh server warmed up to steady state,
// then the warm overhead of one client (raw signed HTTP against the bare round trip, interleaved)
// and the throughput of 8 clients. Prints JSON. `node bench/cpu-colocation.mjs [--rounds N]`.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHttpFloorServer } from './http-floor.mjs';
import { BENCH_CREDENTIALS, startLaminaServer } from './lamina-server.mjs';
import { deployFunction, sdkClient } from './lambda-functions.mjs';
import { cpuCounters, cpuShares, machineInfo } from './machine-info.mjs';
import { createSignedInvoker } from './signed-invoke.mjs';
import { round, summarize } from './stats.mjs';
import { measureInterleaved, measureThroughput, warmUpUntilSteady } from './warm-latency.mjs';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg === -1 ? 2 : Number(process.argv[roundsArg + 1]);
const FUNCTION = 'bench-colocation-noop';

/** One fresh server with `--cpu-colocation <mode>`: its warm figures. */
async function measure(mode) {
  const server = await startLaminaServer(REPO_ROOT, { args: ['--cpu-colocation', mode] });
  const opened = [];
  const invoker = (endpoint) => {
    const created = createSignedInvoker(endpoint, BENCH_CREDENTIALS);
    opened.push(created);
    return created;
  };
  const client = sdkClient(server.endpoint, BENCH_CREDENTIALS);
  const floor = await startHttpFloorServer();
  try {
    await deployFunction(client, FUNCTION, 'exports.handler = async () => null;\n', {
      memorySize: 128,
    });
    const clients = Array.from({ length: 8 }, () => {
      const one = invoker(server.endpoint);
      return { invoke: () => one.invoke(FUNCTION) };
    });
    const warmUp = await warmUpUntilSteady(clients, {
      roundInvokes: 4000,
      minRounds: 5,
      maxRounds: 10,
    });
    const raw = invoker(server.endpoint);
    const bare = invoker(floor.endpoint);
    const before = cpuCounters();
    const paired = await measureInterleaved(
      { invokeOnce: () => raw.invoke(FUNCTION) },
      { invokeOnce: () => bare.invoke(FUNCTION) },
      { blocks: 5, perBlock: 1000, warmup: 200 },
    );
    const throughput = await measureThroughput(clients, 10_000, 1);
    const rawP50 = summarize(paired.a).p50_ms;
    const bareP50 = summarize(paired.b).p50_ms;
    return {
      cpu_colocation: mode,
      warm_up_invokes_per_second_per_round: warmUp.invokes_per_second_per_round,
      raw_p50_ms: rawP50,
      bare_round_trip_p50_ms: bareP50,
      overhead_p50_ms: round(rawP50 - bareP50),
      invokes_per_second_8_clients: Math.round(throughput.invokesPerSecond),
      cpu: cpuShares(before, cpuCounters()),
    };
  } finally {
    for (const one of opened) one.close();
    floor.stop();
    client.destroy();
    await server.stop();
  }
}

const runs = [];
for (let index = 0; index < ROUNDS; index += 1) {
  for (const mode of ['on', 'off']) {
    process.stderr.write(`[bench] round ${index + 1}: --cpu-colocation ${mode}\n`);
    runs.push(await measure(mode));
  }
}
const median = (values) => values.sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
const of = (mode, key) => median(runs.filter((r) => r.cpu_colocation === mode).map((r) => r[key]));
console.log(
  JSON.stringify(
    {
      machine: machineInfo(REPO_ROOT),
      compared: 'the same server with --cpu-colocation on and off, fresh and warmed up each time',
      runs,
      median_overhead_p50_ms: {
        on: of('on', 'overhead_p50_ms'),
        off: of('off', 'overhead_p50_ms'),
      },
      median_invokes_per_second_8_clients: {
        on: of('on', 'invokes_per_second_8_clients'),
        off: of('off', 'invokes_per_second_8_clients'),
      },
    },
    null,
    2,
  ),
);
process.exit(0);
