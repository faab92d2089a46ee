// Functions' network benchmark:
// `node bench/function-network.mjs [--quick] [--only=PART] [--unprivileged]` after `npm run build`,
// as root. In one run: cold starts (new functions, and after a teardown) and warm invokes on a
// server with `--function-network on` and on one with `off`; 200 environments with networking at
// once; and a download from a test host over an environment's network. `--unprivileged` runs
// every server as nobody (user-mode networking). Prints one JSON document.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval } from 'node:timers';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { COLD_FUNCTION_SOURCE, measureColdStarts } from './cold-start.mjs';
import { deployFunction, sdkClient } from './lambda-functions.mjs';
import { BENCH_CREDENTIALS, startLaminaServer } from './lamina-server.mjs';
import { loadAverage, machineInfo } from './machine-info.mjs';
import { measureNewFunctionColdStarts } from './new-function-cold-start.mjs';
import { timeNodeStart } from './process-start.mjs';
import { parseReportLine } from './report-line.mjs';
import { createSignedInvoker } from './signed-invoke.mjs';
import { round, summarize } from './stats.mjs';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PLANS = {
  full: { newFunctions: 30, coldStarts: 50, warm: 2000, environments: 200, downloadMiB: 2048 },
  quick: { newFunctions: 10, coldStarts: 15, warm: 500, environments: 50, downloadMiB: 512 },
};
/** How long each of the many environments holds its invocation: all must be up at once. */
const HOLD_MS = 20_000;
const progress = (message) => process.stderr.write(`[bench] ${message}\n`);
/** The servers' user: root, or nobody with `--unprivileged`. */
let serverUser;

/** Cold and warm figures of one server (`--function-network on|off`). */
async function coldAndWarm(mode, plan) {
  progress(`network ${mode}: starting a server`);
  const server = await startLaminaServer(REPO_ROOT, {
    args: ['--function-network', mode],
    user: serverUser,
  });
  const client = sdkClient(server.endpoint, BENCH_CREDENTIALS);
  const invoker = createSignedInvoker(server.endpoint, BENCH_CREDENTIALS);
  try {
    progress(`network ${mode}: ${plan.newFunctions} new functions`);
    const fresh = await measureNewFunctionColdStarts({
      client,
      invoker,
      prefix: `net-${mode}`,
      count: plan.newFunctions,
      memorySize: 128,
      parseReport: parseReportLine,
      timeNodeStart,
      progress,
    });
    progress(`network ${mode}: ${plan.coldStarts} cold starts after a teardown`);
    await deployFunction(client, 'cold', COLD_FUNCTION_SOURCE, { memorySize: 128 });
    const cold = await measureColdStarts(invoker, 'cold', plan.coldStarts, parseReportLine);
    progress(`network ${mode}: ${plan.warm} warm invokes`);
    await deployFunction(client, 'warm', 'exports.handler = async () => null;\n', {
      memorySize: 128,
    });
    for (let i = 0; i < 100; i += 1) await invoker.invoke('warm');
    const warm = [];
    for (let i = 0; i < plan.warm; i += 1) warm.push((await invoker.invoke('warm')).ms);
    return {
      new_function_cold_start_ms: summarize(fresh.samples.map((s) => s.clientMs)),
      new_function_init_duration_ms: summarize(fresh.samples.map((s) => s.initMs)),
      cold_start_after_teardown_ms: summarize(cold.map((s) => s.clientMs)),
      warm_invoke_ms: summarize(warm),
    };
  } finally {
    invoker.close();
    client.destroy();
    await server.stop();
  }
}

/** Environments' networks on the host: namespaces (root) or user-mode stacks (unprivileged). */
const networks = () => {
  try {
    if (serverUser === undefined)
      return readdirSync('/run/netns').filter((name) => name.startsWith('lamina-')).length;
    return readdirSync('/proc')
      .filter((pid) => /^\d+$/.test(pid))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/comm`, 'utf8') === 'slirp4netns\n';
        } catch {
          return false;
        }
      }).length;
  } catch {
    return 0;
  }
};

/** `count` environments at once, each holding its invocation until all have started. */
async function manyEnvironments(count) {
  progress(`${count} environments at once`);
  const server = await startLaminaServer(REPO_ROOT, {
    // 128 MB each would not fit in the default 75 % of this machine's memory; they use far less.
    args: ['--environment-memory', String(count * 128 + 4096)],
    user: serverUser,
  });
  const client = sdkClient(server.endpoint, BENCH_CREDENTIALS);
  const invoker = createSignedInvoker(server.endpoint, BENCH_CREDENTIALS, {
    connections: count,
    timeoutMs: 120_000,
  });
  try {
    await deployFunction(
      client,
      'hold',
      'exports.handler = async ({ ms }) => { await new Promise((r) => setTimeout(r, ms)); return null; };\n',
      { memorySize: 128, timeout: 120 },
    );
    const before = networks();
    let peak = before;
    const watch = setInterval(() => (peak = Math.max(peak, networks())), 100);
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: count }, () => invoker.invoke('hold', { payload: { ms: HOLD_MS } })),
    );
    clearInterval(watch);
    const failed = results.filter((r) => r.functionError !== undefined);
    return {
      environments: count,
      failed: failed.length,
      first_failure:
        failed[0] === undefined
          ? null
          : { error: failed[0].functionError, body: failed[0].body.toString().slice(0, 300) },
      seconds: round((performance.now() - started) / 1000),
      networks_before: before,
      networks_peak: peak,
      met: failed.length === 0 && peak - before >= count,
    };
  } finally {
    invoker.close();
    client.destroy();
    await server.stop();
  }
}

/** One function downloads `mib` MiB from the test host over its network. */
async function download(mib) {
  progress(`download of ${mib} MiB from a test host`);
  const { startTestInternet } = await import(
    pathToFileURL(join(REPO_ROOT, 'dist/test/helpers/test-internet.js')).href
  );
  const internet = await startTestInternet();
  const server = await startLaminaServer(REPO_ROOT, { user: serverUser });
  const client = sdkClient(server.endpoint, BENCH_CREDENTIALS);
  const invoker = createSignedInvoker(server.endpoint, BENCH_CREDENTIALS, { timeoutMs: 120_000 });
  try {
    await deployFunction(
      client,
      'download',
      `const http = require('node:http');
exports.handler = async ({ url }) => new Promise((resolve, reject) => {
  const start = process.hrtime.bigint();
  http.get(url, (res) => {
    let bytes = 0;
    res.on('data', (chunk) => { bytes += chunk.length; });
    res.on('end', () => resolve({ bytes, ms: Number(process.hrtime.bigint() - start) / 1e6 }));
  }).on('error', reject);
});\n`,
      { memorySize: 3538, timeout: 120 },
    );
    const url = `http://${internet.address}/bytes/${mib * 1024 * 1024}`;
    await invoker.invoke('download', { payload: { url: `http://${internet.address}/bytes/1024` } });
    const runs = [];
    for (let i = 0; i < 3; i += 1) {
      const result = await invoker.invoke('download', { payload: { url } });
      const { bytes, ms } = JSON.parse(result.body.toString());
      if (bytes !== mib * 1024 * 1024) throw new Error(`downloaded ${bytes} bytes`);
      runs.push((bytes * 8) / (ms / 1000) / 1e9);
    }
    const best = Math.max(...runs);
    return { mib, gbit_per_second: runs.map(round), met_1_gbit: best >= 1 };
  } finally {
    invoker.close();
    client.destroy();
    await server.stop();
    internet.stop();
  }
}

async function main() {
  const parts = ['cold-warm', 'many', 'download'];
  const args = process.argv.slice(2);
  const only = args.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
  const unknown = args.filter(
    (arg) => arg !== '--quick' && arg !== '--unprivileged' && !arg.startsWith('--only='),
  );
  if (unknown.length > 0 || (only !== undefined && !parts.includes(only)))
    throw new Error(
      `usage: node bench/function-network.mjs [--quick] [--only=${parts.join('|')}] [--unprivileged]`,
    );
  if (args.includes('--unprivileged')) serverUser = { uid: 65_534, gid: 65_534 };
  const runs = (part) => only === undefined || only === part;
  const mode = args.includes('--quick') ? 'quick' : 'full';
  const plan = PLANS[mode];
  const result = {
    benchmark: 'lamina-function-network',
    mode,
    server_user: serverUser === undefined ? 'root' : 'nobody (user-mode networking)',
    machine: machineInfo(REPO_ROOT),
  };
  const started = performance.now();
  if (runs('cold-warm')) {
    const on = await coldAndWarm('on', plan);
    const off = await coldAndWarm('off', plan);
    result.network_on = on;
    result.network_off = off;
    result.cold_start_p50_growth_ms = round(
      on.new_function_cold_start_ms.p50_ms - off.new_function_cold_start_ms.p50_ms,
    );
    result.cold_start_after_teardown_p50_growth_ms = round(
      on.cold_start_after_teardown_ms.p50_ms - off.cold_start_after_teardown_ms.p50_ms,
    );
    result.warm_p50_growth_ms = round(on.warm_invoke_ms.p50_ms - off.warm_invoke_ms.p50_ms);
  }
  if (runs('many')) result.many_environments = await manyEnvironments(plan.environments);
  if (runs('download')) result.download = await download(plan.downloadMiB);
  result.run_seconds = round((performance.now() - started) / 1000);
  result.machine.load_average_1m_at_end = loadAverage();
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`[bench] FAILED: ${error instanceof Error ? error.stack : error}\n`);
    process.exit(1);
  },
);
