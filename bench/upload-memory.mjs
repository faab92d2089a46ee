// What large uploads cost the server's memory: `node bench/upload-memory.mjs [--requests N]
// [--concurrency C] [--unsigned]` after `npm run build`. Starts its own server, sends N (default 20)
// signed CreateFunction/UpdateFunctionCode requests of 69 MB each (a 52,000,000-byte zip that is not
// a zip, so they fail fast once read), C at a time (default 1; a 429 is tried again after its
// Retry-After, as SDKs do), sampling the server's resident memory every 20 ms; then waits up to
// 20 s for it to settle. `--unsigned` sends the same bodies
// without a signature. Prints one JSON document: baseline, peak and final RSS in MiB, the statuses.
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, resolve } from 'node:path';
import { clearInterval, setInterval } from 'node:timers';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { BENCH_CREDENTIALS, startLaminaServer } from './lamina-server.mjs';
import { Sha256 } from './signed-invoke.mjs';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at < 0 ? fallback : Number(args[at + 1]);
};
const REQUESTS = option('--requests', 20);
const CONCURRENCY = option('--concurrency', 1);
const UNSIGNED = args.includes('--unsigned');

const rssMiB = (pid) =>
  Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

const zip = randomBytes(52_000_000).toString('base64');
const bodies = {
  create: Buffer.from(
    JSON.stringify({
      FunctionName: 'upload-memory',
      Runtime: 'nodejs20.x',
      Role: 'arn:aws:iam::000000000000:role/lambda-role',
      Handler: 'index.handler',
      Code: { ZipFile: zip },
    }),
  ),
  update: Buffer.from(JSON.stringify({ ZipFile: zip })),
};

const server = await startLaminaServer(REPO_ROOT);
const url = new URL(server.endpoint);
const signer = new SignatureV4({
  credentials: BENCH_CREDENTIALS,
  region: 'us-east-1',
  service: 'lambda',
  sha256: Sha256,
});

async function send(method, path, body) {
  const headers = {
    host: url.host,
    'content-type': 'application/json',
    'content-length': String(body.length),
  };
  const signed = UNSIGNED
    ? { headers }
    : await signer.sign(
        new HttpRequest({ method, protocol: 'http:', hostname: url.hostname, path, headers, body }),
      );
  return new Promise((done) => {
    const req = request(
      { host: url.hostname, port: url.port, method, path, headers: signed.headers },
      (res) => {
        res.resume();
        res.on('end', () =>
          done({
            status: `${res.statusCode} ${res.headers['x-amzn-errortype'] ?? ''}`,
            retryAfter: Number(res.headers['retry-after'] ?? 0),
          }),
        );
      },
    );
    req.on('error', (error) => done({ status: error.code ?? error.message, retryAfter: 0 }));
    req.end(body);
  });
}

/** Sends until the answer is no throttle, waiting Retry-After between tries, as SDKs do. */
async function sendRetrying(method, path, body, throttled) {
  for (;;) {
    const answer = await send(method, path, body);
    if (!answer.status.startsWith('429')) return answer.status;
    throttled.count += 1;
    await delay(answer.retryAfter * 1000);
  }
}

try {
  const baseline = rssMiB(server.pid);
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(server.pid))), 20);
  const statuses = {};
  const throttled = { count: 0 };
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        const i = next++;
        const status =
          i % 2 === 0
            ? await sendRetrying('POST', '/2015-03-31/functions', bodies.create, throttled)
            : await sendRetrying(
                'PUT',
                '/2015-03-31/functions/upload-memory/code',
                bodies.update,
                throttled,
              );
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  const sentMs = Date.now() - started;
  let final = rssMiB(server.pid);
  for (let waited = 0; waited < 20_000 && final > baseline + 50; waited += 250) {
    await delay(250);
    final = rssMiB(server.pid);
  }
  clearInterval(sampler);
  const round = (n) => Math.round(n * 10) / 10;
  console.log(
    JSON.stringify(
      {
        requests: REQUESTS,
        concurrency: CONCURRENCY,
        signed: !UNSIGNED,
        bodyBytes: bodies.create.length,
        sentMs,
        statuses,
        throttledTries: throttled.count,
        rssMiB: { baseline: round(baseline), peak: round(peak), final: round(final) },
      },
      null,
      2,
    ),
  );
} finally {
  await server.stop();
}
