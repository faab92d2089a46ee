/**
 * The API fuzzer (part of the "hostile tenants" work). Run it with
 *
 *     npm run fuzz -- [--target lambda-api|runtime-api|all] [--requests N] [--seed S]
 *                     [--time-limit SECONDS] [--concurrency N]
 *
 * (`npm run -s fuzz …` keeps npm's own lines off stdout, leaving the JSON document alone there)
 * (as root, like the end-to-end tests: functions run in real sandboxes). Per target it starts a
 * real `lamina server` (test credentials, temp data directory, port 0), deploys a few functions,
 * and sends N requests (default 100,000) drawn by fast-check from the seed (fixed by default and
 * printed, so a run can be repeated), 16 in flight:
 *
 * - lambda-api: signed requests for every operation of the route table with mutated bodies,
 *   queries and headers, invokes of real functions with mutated payloads and headers, spoiled
 *   signatures, unsigned garbage, malformed HTTP over a plain socket (lambda-api-cases.ts);
 * - runtime-api: what a hostile function can send its environment's Runtime API socket: every
 *   Runtime, Extensions, Telemetry and Logs API path with real or random request and extension
 *   ids, streamed answers with trailers, oversized bodies, the binary runtime channel with broken
 *   frames, malformed HTTP, while normal invokes keep running (runtime-api-cases.ts).
 *
 * It prints one JSON document on stdout (progress on stderr): requests sent, answers per status
 * and per operation, findings with samples of the request bytes behind them, the server's
 * resident memory at start (after the first requests), peak and end, and the checks made after
 * the load. Findings: a 5xx other than AWS's documented function-side 502s, a request without an
 * answer within 30 s (long polls excepted), a spoiled or missing signature accepted, the server
 * dying (its part of the run lists the requests around its death; the run goes on from the next
 * request with a fresh server, up to 50 times) or no longer answering a signed ListFunctions or a
 * normal invoke, memory more than 50 MB above its start once the load has stopped, the server not
 * stopping within 20 s of SIGTERM.
 * `--time-limit` (default 1800 s for the whole run) stops sending when it passes and the report
 * says so. Exit status: 0 clean, 1 findings, 2 a usage error or a failure of the harness itself.
 * Not part of `npm test`: no file here ends in `.test.ts`.
 */
import { parseFuzzOptions, USAGE, type FuzzOptions, type FuzzTarget } from './fuzz-options.js';
import { combineParts } from './combined-report.js';
import { fuzzLambdaApi } from './lambda-api-fuzzer.js';
import { fuzzRuntimeApi } from './runtime-api-fuzzer.js';
import { SERVER_DIED, type TargetReport, type TargetRun } from './target-report.js';

const progress = (message: string) => process.stderr.write(`[fuzz] ${message}\n`);
/**
 * How many times a target's run goes on with a fresh server after its server died (the time
 * limit bounds it too).
 */
const MAX_RESTARTS = 50;

const RUNNERS: Record<FuzzTarget, (run: TargetRun) => Promise<TargetReport>> = {
  'lambda-api': fuzzLambdaApi,
  'runtime-api': fuzzRuntimeApi,
};

async function main(options: FuzzOptions): Promise<number> {
  const started = Date.now();
  const deadline = started + options.timeLimitSeconds * 1000;
  progress(
    `seed ${options.seed}, ${options.requests} requests per target, time limit ${options.timeLimitSeconds} s`,
  );
  const targets: Record<string, TargetReport> = {};
  for (const target of options.targets) {
    progress(`${target}: starting`);
    targets[target] = await fuzzTarget(target, options, deadline);
    progress(`${target}: ${targets[target].finding_count} finding(s)`);
  }
  const findings = Object.values(targets).reduce((sum, t) => sum + t.finding_count, 0);
  const report = {
    fuzzer: 'lamina-api-fuzz',
    generator: 'fast-check',
    seed: options.seed,
    requests_per_target: options.requests,
    time_limit_seconds: options.timeLimitSeconds,
    stopped_early: Object.values(targets).some((t) => t['stopped_early'] !== false),
    duration_seconds: Math.round((Date.now() - started) / 100) / 10,
    finding_count: findings,
    targets,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return findings > 0 ? 1 : 0;
}

/**
 * One target's run. When the server dies, that is a finding, and the run goes on from the next
 * request with a fresh server (at most `MAX_RESTARTS` times), so that one crash does not hide
 * what the rest of the requests would find; each server's part is reported on its own.
 */
async function fuzzTarget(
  target: FuzzTarget,
  options: FuzzOptions,
  deadline: number,
): Promise<TargetReport> {
  const parts: TargetReport[] = [];
  let firstIndex = 0;
  for (;;) {
    const part = await RUNNERS[target]({
      seed: options.seed,
      requests: options.requests,
      firstIndex,
      concurrency: options.concurrency,
      deadline,
      progress: (sent) => progress(`${target}: ${sent} requests sent`),
    });
    parts.push(part);
    firstIndex += Number(part['requests_sent']);
    if (part['stopped_early'] !== SERVER_DIED || parts.length > MAX_RESTARTS) break;
    if (firstIndex >= options.requests) break;
    progress(`${target}: the server died; going on from request ${firstIndex} with a fresh server`);
  }
  const [only] = parts;
  return parts.length === 1 && only !== undefined ? only : combineParts(parts, SERVER_DIED);
}

let options: FuzzOptions;
try {
  options = parseFuzzOptions(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
main(options).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `the fuzzer failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(2);
  },
);
