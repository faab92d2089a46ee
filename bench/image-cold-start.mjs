// Issue 20: the cold start of a container-image function (`PackageType: Image`) whose image is
// already unpacked, against a zip function of the same runtime. `node bench/image-cold-start.mjs
// [--quick] [--pairs N]` after `npm run build` (it imports the compiled test helpers from dist/:
// Debian's docker-registry on loopback, umoci and skopeo). One JSON document on stdout, progress
// on stderr.
//
// Both sides run the host's /usr/bin/node on the same bootstrap.mjs (a minimal Runtime API loop
// over node:http), so the difference is only the jail:
// - zip: `provided.al2023`, `bootstrap` = `#!/bin/sh` + `exec /usr/bin/node /var/task/bootstrap.mjs`
//   (the host's /usr is bound in zip jails);
// - image: a root file system holding the same /usr/bin/node and the libraries `ldd` lists for it
//   (dereferenced, same paths, the loader at /lib64/ld-linux-x86-64.so.2), bootstrap.mjs at
//   /var/task, ENTRYPOINT ["/usr/bin/node", "/var/task/bootstrap.mjs"], WORKDIR /var/task.
// Every sample is the first invoke of a new environment: after it, the event {"exit": true} makes
// the runtime exit, so the platform tears the environment down (Runtime.ExitError) before
// answering (as bench/cold-start.mjs does). Samples alternate zip, image, zip, image… so both see
// the same load; pair i is (zip i, image i). The first pull + unpack (create → Active) is timed
// once.
import { Buffer } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CreateFunctionCommand, GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import yazl from 'yazl';
import { measureColdStarts } from './cold-start.mjs';
import { BENCH_CREDENTIALS, startLaminaServer } from './lamina-server.mjs';
import { ROLE, sdkClient } from './lambda-functions.mjs';
import { loadAverage, machineInfo } from './machine-info.mjs';
import { parseReportLine } from './report-line.mjs';
import { createSignedInvoker } from './signed-invoke.mjs';
import { round, summarize } from './stats.mjs';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NODE = '/usr/bin/node';
const BOOTSTRAP_PATH = '/var/task/bootstrap.mjs';
const IMAGE_REPO_TAG = 'bench/node:1';
/** 1,769 MB is one vCPU of quota, as in the other benches; the same for both functions. */
const MEMORY_SIZE = 1769;
const ZIP_FUNCTION = 'bench-zip-provided';
const IMAGE_FUNCTION = 'bench-image';
const TARGET_MS = 5;
const PLANS = {
  full: { pairs: 150, warmup: 3, deadlineMs: 10 * 60_000 },
  quick: { pairs: 40, warmup: 2, deadlineMs: 5 * 60_000 },
};

/** The runtime both functions run: GET next, POST the response; {"exit": true} ends it. */
const BOOTSTRAP_MJS = `import http from 'node:http';

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const call = (method, path, body) =>
  new Promise((resolve, reject) => {
    const request = http.request(
      { host, port, method, path: '/2018-06-01/runtime/invocation/' + path },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            id: response.headers['lambda-runtime-aws-request-id'],
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    request.on('error', reject);
    request.end(body);
  });

for (;;) {
  const next = await call('GET', 'next');
  const event = next.body === '' ? null : JSON.parse(next.body);
  if (event !== null && event.exit === true) process.exit(0);
  await call('POST', next.id + '/response', 'null');
}
`;
const ZIP_BOOTSTRAP = `#!/bin/sh\nexec ${NODE} ${BOOTSTRAP_PATH}\n`;

const progress = (message) => process.stderr.write(`[bench] ${message}\n`);

function parseArguments(argv) {
  const usage =
    'usage: node bench/image-cold-start.mjs [--quick] [--pairs N]   (after npm run build)';
  let mode = 'full';
  let pairs;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--quick') mode = 'quick';
    else if (arg === '--pairs' || arg.startsWith('--pairs=')) {
      const value = arg === '--pairs' ? argv[(i += 1)] : arg.slice('--pairs='.length);
      pairs = Number(value);
      if (!Number.isInteger(pairs) || pairs < 1)
        throw Object.assign(new Error(`bad --pairs: ${value}`), { usage });
    } else throw Object.assign(new Error(`unknown argument: ${arg}`), { usage });
  }
  return { mode, plan: { ...PLANS[mode], ...(pairs === undefined ? {} : { pairs }) } };
}

/** The zip: `bootstrap` (0755) and bootstrap.mjs. */
async function zipPackage() {
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from(ZIP_BOOTSTRAP), 'bootstrap', { mtime: new Date(0), mode: 0o100755 });
  zip.addBuffer(Buffer.from(BOOTSTRAP_MJS), 'bootstrap.mjs', {
    mtime: new Date(0),
    mode: 0o100644,
  });
  zip.end();
  const chunks = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The image's root folder: /usr/bin/node, the libraries ldd lists (dereferenced), bootstrap. */
async function buildRootfs(dir) {
  await mkdir(join(dir, 'usr/bin'), { recursive: true });
  await copyFile(NODE, join(dir, NODE));
  await chmod(join(dir, NODE), 0o755);
  const ldd = execFileSync('ldd', [NODE]).toString();
  const libraries = [...ldd.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((match) => match[1]);
  if (!libraries.some((path) => path.includes('ld-linux')))
    throw new Error(`ldd named no loader for ${NODE}:\n${ldd}`);
  for (const library of libraries) {
    await mkdir(join(dir, dirname(library)), { recursive: true });
    await copyFile(library, join(dir, library)); // copyFile follows symlinks: dereferenced
  }
  for (const folder of ['tmp', 'var/task', 'etc'])
    await mkdir(join(dir, folder), { recursive: true });
  await chmod(join(dir, 'tmp'), 0o1777);
  await writeFile(join(dir, BOOTSTRAP_PATH), BOOTSTRAP_MJS);
  return libraries;
}

/** Polls the function's State every 20 ms until it leaves Pending; answers it with the ms. */
async function waitActive(client, name, started, timeoutMs = 300_000) {
  for (;;) {
    const config = await client.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
    if (config.State !== 'Pending') {
      if (config.State !== 'Active')
        throw new Error(`${name} is ${config.State}: ${config.StateReason ?? ''}`);
      return { ms: performance.now() - started, config };
    }
    if (performance.now() - started > timeoutMs)
      throw new Error(`${name} still Pending after ${timeoutMs} ms`);
    await delay(20);
  }
}

/**
 * Paired differences b − a, summarized, with a distribution-free 95 % confidence interval of
 * their median (order statistics k and n − k + 1 of the sorted differences, k from the binomial
 * distribution's normal approximation): how far the p50 could move by chance at this load.
 */
function differences(a, b) {
  const diffs = a.map((x, i) => b[i] - x);
  const sorted = [...diffs].sort((x, y) => x - y);
  const n = sorted.length;
  const k = Math.max(1, Math.floor(n / 2 - (1.96 * Math.sqrt(n)) / 2));
  return {
    ...summarize(diffs),
    p50_ci95_ms: n < 6 ? null : [round(sorted[k - 1]), round(sorted[n - k])],
  };
}

function side(samples) {
  return {
    client: summarize(samples.map((s) => s.clientMs)),
    init_duration: summarize(samples.map((s) => s.initMs)),
    first_invoke_report_duration: summarize(samples.map((s) => s.durationMs)),
  };
}

async function benchmark(mode, plan, cleanups, diagnostics) {
  if (!existsSync(join(REPO_ROOT, 'dist/src/cli/main.js')))
    throw new Error('dist/ is missing: run `npm run build` first');
  const helpers = (name) => pathToFileURL(join(REPO_ROOT, 'dist/test/helpers', name)).href;
  const { startRegistry } = await import(helpers('oci-registry.js'));
  const { imageFromDirectory } = await import(helpers('oci-images.js'));
  const result = { benchmark: 'image-cold-start', mode, machine: machineInfo(REPO_ROOT) };
  if (result.machine.load_average_1m_at_start > result.machine.cores / 2)
    progress(
      `warning: load average ${result.machine.load_average_1m_at_start}: other work will skew the figures`,
    );
  result.settings = {
    pairs: plan.pairs,
    warmup_per_side: plan.warmup,
    memory_size_mb: MEMORY_SIZE,
    node: `${NODE} (${execFileSync(NODE, ['--version']).toString().trim()}) on both sides`,
    zip: `provided.al2023, bootstrap: ${JSON.stringify(ZIP_BOOTSTRAP)}`,
    image: `ENTRYPOINT ["${NODE}", "${BOOTSTRAP_PATH}"], WORKDIR /var/task`,
    order: 'zip, image, zip, image…; pair i = (zip i, image i)',
    method: 'first invoke after the previous environment was torn down (process.exit)',
  };

  progress('starting the registry and building the image (umoci, skopeo)');
  const registry = await startRegistry();
  cleanups.push(() => registry.stop());
  const work = await mkdtemp(join(tmpdir(), 'lamina-bench-image-'));
  cleanups.push(() => rm(work, { recursive: true, force: true }));
  const rootfs = join(work, 'rootfs');
  const libraries = await buildRootfs(rootfs);
  const buildStarted = performance.now();
  const digest = await imageFromDirectory(registry.host, IMAGE_REPO_TAG, rootfs, {
    Entrypoint: [NODE, BOOTSTRAP_PATH],
    WorkingDir: '/var/task',
  });
  result.image = {
    uri: `${registry.host}/${IMAGE_REPO_TAG}`,
    digest,
    files: [NODE, ...libraries, BOOTSTRAP_PATH],
    build_and_push_ms: round(performance.now() - buildStarted),
  };

  progress('starting lamina server');
  const server = await startLaminaServer(REPO_ROOT);
  cleanups.push(() => server.stop());
  diagnostics.push(() => `lamina server output (last lines):\n${server.logTail()}`);
  const client = sdkClient(server.endpoint, BENCH_CREDENTIALS);
  cleanups.push(() => client.destroy());

  progress(`creating ${ZIP_FUNCTION} (provided.al2023 zip)`);
  const zipStarted = performance.now();
  await client.send(
    new CreateFunctionCommand({
      FunctionName: ZIP_FUNCTION,
      Runtime: 'provided.al2023',
      Handler: 'bootstrap',
      Role: ROLE,
      Code: { ZipFile: await zipPackage() },
      MemorySize: MEMORY_SIZE,
      Timeout: 10,
    }),
  );
  const zipActive = await waitActive(client, ZIP_FUNCTION, zipStarted);

  progress(`creating ${IMAGE_FUNCTION} from ${result.image.uri} (first pull and unpack)`);
  const imageStarted = performance.now();
  const created = await client.send(
    new CreateFunctionCommand({
      FunctionName: IMAGE_FUNCTION,
      PackageType: 'Image',
      Code: { ImageUri: result.image.uri },
      Role: ROLE,
      MemorySize: MEMORY_SIZE,
      Timeout: 10,
    }),
  );
  const imageActive = await waitActive(client, IMAGE_FUNCTION, imageStarted);
  result.create_to_active = {
    method: 'CreateFunction sent → GetFunctionConfiguration State Active (polled every 20 ms)',
    zip_ms: round(zipActive.ms),
    image_first_pull_and_unpack_ms: round(imageActive.ms),
    image_state_on_create: created.State,
    image_code_size_bytes: imageActive.config.CodeSize ?? null,
  };
  progress(`  image Active after ${Math.round(imageActive.ms)} ms`);

  const invoker = createSignedInvoker(server.endpoint, BENCH_CREDENTIALS);
  cleanups.push(() => invoker.close());
  const coldStart = async (name) => (await measureColdStarts(invoker, name, 1, parseReportLine))[0];

  progress(`warm-up: ${plan.warmup} unmeasured cold starts of each`);
  for (let i = 0; i < plan.warmup; i += 1) {
    await coldStart(ZIP_FUNCTION);
    await coldStart(IMAGE_FUNCTION);
  }

  progress(`${plan.pairs} pairs of cold starts (zip, image, zip, image…)`);
  const loadBefore = loadAverage();
  const zip = [];
  const image = [];
  for (let i = 1; i <= plan.pairs; i += 1) {
    zip.push(await coldStart(ZIP_FUNCTION));
    image.push(await coldStart(IMAGE_FUNCTION));
    if (i % 20 === 0) progress(`  ${i}/${plan.pairs}`);
  }
  const zipClient = zip.map((s) => s.clientMs);
  const imageClient = image.map((s) => s.clientMs);
  const clientDifference = differences(zipClient, imageClient);
  const initDifference = differences(
    zip.map((s) => s.initMs),
    image.map((s) => s.initMs),
  );
  result.cold_start = {
    load_average_1m_before_samples: loadBefore,
    load_average_1m_after_samples: loadAverage(),
    zip: side(zip),
    image: side(image),
    paired_difference_image_minus_zip: {
      client_p50_ms: clientDifference.p50_ms,
      client_p90_ms: clientDifference.p90_ms,
      client_p50_ci95_ms: clientDifference.p50_ci95_ms,
      client: clientDifference,
      init_duration_p50_ms: initDifference.p50_ms,
      init_duration_p90_ms: initDifference.p90_ms,
      init_duration: initDifference,
    },
    difference_of_p50s_client_ms: round(
      summarize(imageClient).p50_ms - summarize(zipClient).p50_ms,
    ),
  };
  result.target = {
    description:
      'issue 20: cold start of an image function whose image is unpacked within 5 ms of a zip ' +
      'function of the same runtime (judged on the p50 of the paired client-latency differences)',
    target_ms: TARGET_MS,
    paired_difference_p50_ms: clientDifference.p50_ms,
    meets_target: clientDifference.p50_ms <= TARGET_MS,
    // Whether the target holds even at the upper end of the p50's confidence interval.
    met_at_ci95_upper: clientDifference.p50_ci95_ms?.[1] <= TARGET_MS,
  };
  return result;
}

async function main() {
  const { mode, plan } = parseArguments(process.argv.slice(2));
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
      () => reject(new Error(`the benchmark did not finish within ${plan.deadlineMs / 1000} s`)),
      plan.deadlineMs,
    );
  });
  try {
    const started = performance.now();
    const result = await Promise.race([benchmark(mode, plan, cleanups, diagnostics), deadline]);
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
