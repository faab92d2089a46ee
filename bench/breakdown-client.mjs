// The load side of invoke-breakdown.mjs, run as its own process so that it does not share the
// server's event loop: `node bench/breakdown-client.mjs <endpoint> <warm> <warmup> <cold>` deploys
// the no-op functions, prints `{"measuring":true}` after the warm-up, then invokes `bench-noop`
// <warm> times and cold-starts `bench-cold` <cold> times over raw signed HTTP, and prints the
// client latencies as JSON.
import { COLD_FUNCTION_SOURCE, measureColdStarts } from './cold-start.mjs';
import { BENCH_CREDENTIALS } from './lamina-server.mjs';
import { deployFunction, sdkClient } from './lambda-functions.mjs';
import { parseReportLine } from './report-line.mjs';
import { createSignedInvoker } from './signed-invoke.mjs';

const [endpoint, warm, warmup, cold] = process.argv
  .slice(2)
  .map((arg, i) => (i === 0 ? arg : Number(arg)));
const client = sdkClient(endpoint, BENCH_CREDENTIALS);
const invoker = createSignedInvoker(endpoint, BENCH_CREDENTIALS);
try {
  const options = { memorySize: 1769 };
  await deployFunction(client, 'bench-noop', 'exports.handler = async () => null;\n', options);
  await deployFunction(client, 'bench-cold', COLD_FUNCTION_SOURCE, options);
  for (let i = 0; i < warmup; i += 1) await invoker.invoke('bench-noop');
  process.stdout.write('{"measuring":true}\n');
  const latencies = [];
  for (let i = 0; i < warm; i += 1) {
    const response = await invoker.invoke('bench-noop');
    if (response.functionError !== undefined) throw new Error(response.body.toString());
    latencies.push(response.ms);
  }
  const colds = await measureColdStarts(invoker, 'bench-cold', cold, parseReportLine);
  process.stdout.write(
    `${JSON.stringify({ warm: latencies, cold: colds.map((s) => s.clientMs) })}\n`,
  );
} finally {
  invoker.close();
  client.destroy();
}
