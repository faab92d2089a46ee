// Where an invoke's time goes, inside the server: `node bench/invoke-breakdown.mjs [--quick]`
// after `npm run build`. Builds and runs a Lamina server in this process with timing wrappers around the steps
// of the invoke path (public methods of the compiled classes in dist/, and the node:fs/promises
// calls that touch the freezer, the memory counter and the log files), drives it from a separate
// client process (warm invokes, then cold starts), and adds the Runtime API round trip measured
// without a sandbox (directly and through socat) and a bare node:http round trip between two
// processes (the floor of each HTTP hop). Prints one JSON document. A diagnostic: it follows the
// code's structure, so it must be updated when those classes change (it fails loudly if a method
// is missing).
import { AsyncLocalStorage } from 'node:async_hooks';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import fsPromises from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pino from 'pino';
import { BENCH_CREDENTIALS } from './lamina-server.mjs';
import { machineInfo } from './machine-info.mjs';
import { measureHttpFloor } from './http-floor.mjs';
import { measureRuntimeApiHop } from './runtime-api-hop.mjs';
import { summarize } from './stats.mjs';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.argv.includes('--quick');
const COUNT = quick ? 200 : 1000;
const WARMUP = quick ? 30 : 100;
const COLD = quick ? 8 : 30;
/** Steps in the order they happen; the last two run after the answer, off the critical path. */
const STEPS = [
  'invoke_service',
  'resolve',
  'create',
  'sandbox_start',
  'specialise',
  'init',
  'environment_invoke',
  'thaw_write',
  'runtime_api_round_trip',
  'peak_memory_read',
  'freeze_write',
  'log_append',
];
/** Which invoke a step belongs to: { phase: 'warm' | 'cold', skip } (skip: the exit requests). */
const invocation = new AsyncLocalStorage();
const samples = { warm: new Map(), cold: new Map(), sigv4_verify: [] };
let recording = false;
const record = (step, ms) => {
  const current = invocation.getStore();
  if (!recording || current === undefined || current.skip) return;
  const list = samples[current.phase].get(step) ?? [];
  list.push(ms);
  samples[current.phase].set(step, list);
};
const progress = (message) => process.stderr.write(`[breakdown] ${message}\n`);

/** Which step of the invoke path an fs call belongs to, by the file it touches. */
function fsStep(name, path, data) {
  const file = String(path);
  if (file.endsWith('freezer.state') || file.endsWith('cgroup.freeze'))
    return /FROZEN|^1$/.test(String(data)) ? 'freeze_write' : 'thaw_write';
  if (/memory\.(max_usage_in_bytes|peak|current)$/.test(file)) return 'peak_memory_read';
  if (file.includes(`${join('logs', '')}`) && name === 'appendFile') return 'log_append';
  return undefined;
}

function instrumentFs() {
  for (const name of ['writeFile', 'readFile', 'appendFile']) {
    const original = fsPromises[name];
    fsPromises[name] = async function timed(path, ...rest) {
      const started = performance.now();
      try {
        return await original.call(this, path, ...rest);
      } finally {
        const step = fsStep(name, path, rest[0]);
        if (step !== undefined) record(step, performance.now() - started);
      }
    };
  }
  syncBuiltinESMExports();
}

/** Wraps `className.prototype.method` of a dist/src module to time it as `step`. */
async function instrumentMethod(modulePath, className, method, step, onTime = record) {
  const module = await import(pathToFileURL(join(REPO_ROOT, 'dist/src', modulePath)).href);
  const prototype = module[className]?.prototype;
  if (typeof prototype?.[method] !== 'function')
    throw new Error(`dist/src/${modulePath} has no ${className}.${method}: update this diagnostic`);
  const original = prototype[method];
  prototype[method] = async function timed(...args) {
    const started = performance.now();
    try {
      return await original.apply(this, args);
    } finally {
      onTime(step, performance.now() - started);
    }
  };
  return prototype;
}

/** Runs every InvokeService.invoke in a context saying which phase it belongs to. */
function tagInvocations(prototype) {
  const timed = prototype.invoke;
  prototype.invoke = function tagged(request) {
    const phase = request.functionName === 'bench-cold' ? 'cold' : 'warm';
    const skip = request.payload.includes('"exit"');
    return invocation.run({ phase, skip }, () => timed.call(this, request));
  };
}

/**
 * Times SigV4 verification of every request: `authenticate` (the head, in onRequest, synchronous)
 * plus `complete` (with the body's hash, in preHandler), added up per request.
 */
async function instrumentSigv4() {
  const module = await import(
    pathToFileURL(join(REPO_ROOT, 'dist/src/core/sigv4-verifier.js')).href
  );
  const prototype = module.Sigv4Verifier?.prototype;
  if (typeof prototype?.authenticate !== 'function' || typeof prototype?.complete !== 'function')
    throw new Error('dist/src/core/sigv4-verifier.js has no Sigv4Verifier.authenticate/complete');
  const headMs = new WeakMap();
  const { authenticate, complete } = prototype;
  prototype.authenticate = function timed(head) {
    const started = performance.now();
    const pending = authenticate.call(this, head);
    headMs.set(pending, performance.now() - started);
    return pending;
  };
  prototype.complete = async function timed(pending, payloadSha256Hex) {
    const started = performance.now();
    try {
      return await complete.call(this, pending, payloadSha256Hex);
    } finally {
      if (recording)
        samples.sigv4_verify.push(performance.now() - started + (headMs.get(pending) ?? 0));
    }
  };
}

function summarizeSteps(map) {
  return Object.fromEntries(STEPS.filter((s) => map.has(s)).map((s) => [s, summarize(map.get(s))]));
}

function runClient(endpoint) {
  const child = spawn(
    process.execPath,
    [join(REPO_ROOT, 'bench/breakdown-client.mjs'), endpoint, COUNT, WARMUP, COLD].map(String),
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  return new Promise((resolvePromise, reject) => {
    child.stdout.on('data', (chunk) => {
      output += chunk.toString();
      if (output.includes('{"measuring":true}')) recording = true;
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      recording = false;
      const last = output.trim().split('\n').at(-1) ?? '';
      if (code !== 0) reject(new Error(`the client exited with ${code}`));
      else resolvePromise(JSON.parse(last));
    });
  });
}

async function main() {
  instrumentFs();
  tagInvocations(
    await instrumentMethod('invoke/invoke-service.js', 'InvokeService', 'invoke', 'invoke_service'),
  );
  for (const [modulePath, className, method, step] of [
    ['invoke/function-resolver.js', 'ServiceFunctionResolver', 'resolve', 'resolve'],
    ['sandbox/bwrap-sandbox-driver.js', 'BwrapSandboxDriver', 'start', 'sandbox_start'],
    ['environment/environment-factory.js', 'EnvironmentFactory', 'specialise', 'specialise'],
    ['invoke/invoke-service.js', 'InvokeService', 'create', 'create'],
    ['environment/execution-environment.js', 'ExecutionEnvironment', 'init', 'init'],
    [
      'environment/execution-environment.js',
      'ExecutionEnvironment',
      'invoke',
      'environment_invoke',
    ],
    ['runtime-api/runtime-api-server.js', 'RuntimeApiServer', 'invoke', 'runtime_api_round_trip'],
  ])
    await instrumentMethod(modulePath, className, method, step);
  await instrumentSigv4();
  const { buildLamina } = await import(
    pathToFileURL(join(REPO_ROOT, 'dist/src/server/build-lamina.js')).href
  );
  const { DEFAULT_CONFIG } = await import(
    pathToFileURL(join(REPO_ROOT, 'dist/src/server/server-config.js')).href
  );

  const dataDir = mkdtempSync(join(tmpdir(), 'lamina-bench-'));
  chmodSync(dataDir, 0o711);
  const server = await buildLamina(
    { ...DEFAULT_CONFIG, port: 0, dataDir, logLevel: 'warn' },
    {
      logger: pino({ level: 'warn' }, pino.destination(2)),
      env: {
        LAMINA_ACCESS_KEY_ID: BENCH_CREDENTIALS.accessKeyId,
        LAMINA_SECRET_ACCESS_KEY: BENCH_CREDENTIALS.secretAccessKey,
      },
    },
  );
  let client;
  try {
    progress('starting the server in-process');
    await server.start();
    progress(`driving ${COUNT} warm invokes and ${COLD} cold starts from a client process`);
    client = await runClient(server.endpoint);
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  progress('Runtime API round trip without a sandbox: direct, then through socat');
  const hop = { count: COUNT, warmup: WARMUP };
  const direct = await measureRuntimeApiHop(REPO_ROOT, { ...hop, viaSocat: false });
  const relayed = await measureRuntimeApiHop(REPO_ROOT, { ...hop, viaSocat: true });
  progress('one bare node:http round trip between two processes');
  const floor = await measureHttpFloor(COUNT, WARMUP);

  process.stdout.write(
    `${JSON.stringify(
      {
        benchmark: 'lamina-invoke-breakdown',
        machine: machineInfo(REPO_ROOT),
        client_raw_http: { warm: summarize(client.warm), cold: summarize(client.cold) },
        server_steps: { warm: summarizeSteps(samples.warm), cold: summarizeSteps(samples.cold) },
        sigv4_verify_all_requests: summarize(samples.sigv4_verify),
        runtime_api_without_sandbox: {
          direct_tcp: summarize(direct),
          via_socat: summarize(relayed),
        },
        http_round_trip_floor: summarize(floor),
      },
      null,
      2,
    )}\n`,
  );
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(
      `[breakdown] FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
