/**
 * Finding 4 ("Hostile tenants"): bodies were read before the signature was checked, so unsigned
 * 69 MB uploads, from outside or from a function through the API relay, raised the server's memory
 * to 1.6 GB. Reproduced against the built server over real connections: uploads without valid
 * credentials are answered before their body is read, signed uploads beyond the server's budget
 * of bytes in flight are refused with 429, and a victim function keeps its latency meanwhile.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import {
  CreateFunctionCommand,
  CreateFunctionUrlConfigCommand,
  UpdateFunctionUrlConfigCommand,
} from '@aws-sdk/client-lambda';
import {
  memoryReturns,
  prepareVictim,
  rssMiB,
  VICTIM_P99_LIMIT_MS,
} from '../helpers/attack-harness.js';
import { deploy, invokeJson } from '../helpers/functions.js';
import { failureOf, ROLE } from '../helpers/lambda-client.js';
import { poll } from '../helpers/poll.js';
import { rawUpload, type UploadOutcome } from '../helpers/raw-upload.js';
import { floodInWorker } from '../helpers/upload-flood.js';
import { useServer } from '../helpers/server-suite.js';
import { sha256Hex, signedHead } from '../helpers/signed-head.js';

/** A CreateFunction body of 69 MB, as large as AWS takes: a 52,000,000-byte "zip" (not one). */
const ZIP = randomBytes(52_000_000);
const CREATE_BODY = Buffer.from(
  JSON.stringify({
    FunctionName: 'uploaded',
    Runtime: 'nodejs20.x',
    Role: ROLE,
    Handler: 'index.handler',
    Code: { ZipFile: ZIP.toString('base64') },
  }),
);
const CREATE_SHA256 = sha256Hex(CREATE_BODY);
const CREATE_PATH = '/2015-03-31/functions';
/** More than the kernel's socket buffers take on loopback, far less than the body. */
const UNREAD = CREATE_BODY.length / 2;

describe('finding 4: request bodies are not read before the credentials are checked', () => {
  const suite = useServer();
  let pid = 0;
  /** The server's memory before any attack. */
  let startMiB = 0;
  before(() => {
    pid = suite.server.child.pid ?? 0;
    startMiB = rssMiB(pid);
  });

  /** The three ways to be refused from the head: no signature, an unknown key, an old date. */
  async function refusedHeads(): Promise<Array<[string, Record<string, string>, string]>> {
    const endpoint = suite.server.endpoint;
    return [
      ['unsigned', {}, 'MissingAuthenticationTokenException'],
      [
        'unknown key',
        await signedHead(endpoint, {
          path: CREATE_PATH,
          payloadSha256: CREATE_SHA256,
          credentials: { accessKeyId: 'LKIAUNKNOWNUNKNOWN00', secretAccessKey: 'guessed' },
        }),
        'UnrecognizedClientException',
      ],
      [
        'expired',
        await signedHead(endpoint, {
          path: CREATE_PATH,
          payloadSha256: CREATE_SHA256,
          signedAt: new Date(Date.now() - 20 * 60_000),
        }),
        'InvalidSignatureException',
      ],
    ];
  }

  function assertRefusedUnread(outcome: UploadOutcome, errorType: string, what: string): void {
    assert.equal(outcome.status, 403, `${what}: ${outcome.body}`);
    assert.equal(outcome.headers['x-amzn-errortype'], errorType, what);
    assert.equal(outcome.headers['connection'], 'close', what);
    assert.ok(outcome.headers['x-amzn-requestid'], what);
    assert.ok(
      outcome.sentAtAnswer < UNREAD,
      `${what}: answered after ${outcome.sentAtAnswer} of ${CREATE_BODY.length} bytes`,
    );
    assert.ok(outcome.closedByServer, `${what}: the server let the connection go`);
  }

  test('unsigned, unknown-key and expired 69 MB uploads are refused before the body is read', async () => {
    const baseline = rssMiB(pid);
    for (const [what, headers, errorType] of await refusedHeads()) {
      const outcome = await rawUpload(suite.server.endpoint, {
        path: CREATE_PATH,
        headers: { 'content-type': 'application/json', ...headers },
        contentLength: CREATE_BODY.length,
        body: CREATE_BODY,
      });
      assertRefusedUnread(outcome, errorType, what);
      if (what === 'expired') assert.match(outcome.body, /Signature expired/);
    }
    const grown = rssMiB(pid) - baseline;
    assert.ok(grown < 20, `the server grew by ${grown.toFixed(1)} MiB`);
  });

  test('a Content-Length promising 69 MB and a trickle of it is answered at once', async () => {
    for (const [what, headers, errorType] of await refusedHeads()) {
      const outcome = await rawUpload(suite.server.endpoint, {
        path: CREATE_PATH,
        headers: { 'content-type': 'application/json', ...headers },
        contentLength: CREATE_BODY.length,
        trickle: true,
        deadlineMs: 10_000,
      });
      assertRefusedUnread(outcome, errorType, `${what}, trickled`);
      assert.ok(outcome.sentAtAnswer <= 256 * 1024, `${what}: one chunk was sent`);
    }
  });

  test('many signed 69 MB uploads at once: those beyond the budget get 429 before being read', async () => {
    const headers = {
      'content-type': 'application/json',
      ...(await signedHead(suite.server.endpoint, {
        path: CREATE_PATH,
        payloadSha256: CREATE_SHA256,
      })),
    };
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () =>
        rawUpload(suite.server.endpoint, {
          path: CREATE_PATH,
          headers,
          contentLength: CREATE_BODY.length,
          body: CREATE_BODY,
          deadlineMs: 60_000,
        }),
      ),
    );
    const throttled = outcomes.filter((o) => o.status === 429);
    const read = outcomes.filter((o) => o.status !== 429);
    // 256 MiB, of which uploads may fill three quarters: two 69 MB bodies at a time.
    assert.ok(throttled.length >= 1, `statuses ${outcomes.map((o) => o.status).join(' ')}`);
    assert.ok(read.length >= 1 && read.length <= 5);
    for (const outcome of throttled) {
      assert.equal(outcome.headers['x-amzn-errortype'], 'TooManyRequestsException');
      assert.equal(outcome.headers['retry-after'], '1');
      assert.equal(
        (JSON.parse(outcome.body) as { Reason?: string }).Reason,
        'CallerRateLimitExceeded',
      );
      assert.equal(outcome.headers['connection'], 'close');
      assert.ok(outcome.sentAtAnswer < UNREAD, `429 after ${outcome.sentAtAnswer} bytes`);
    }
    for (const outcome of read) {
      // Read, decoded and refused as the zip it is not.
      assert.equal(outcome.status, 400, outcome.body);
      assert.equal(outcome.headers['x-amzn-errortype'], 'InvalidParameterValueException');
    }
  });

  test('the SDK gets TooManyRequestsException (CallerRateLimitExceeded, Retry-After) when the budget is full', async () => {
    const endpoint = suite.server.endpoint;
    const headers = {
      'content-type': 'application/json',
      ...(await signedHead(endpoint, { path: CREATE_PATH, payloadSha256: CREATE_SHA256 })),
    };
    // Two signed uploads that send their first chunk only hold two thirds of the budget.
    const giveUp = new AbortController();
    const holders = [1, 2].map(() =>
      rawUpload(endpoint, {
        path: CREATE_PATH,
        headers,
        contentLength: CREATE_BODY.length,
        trickle: true,
        signal: giveUp.signal,
      }).catch(() => undefined),
    );
    try {
      const failure = await poll(
        () =>
          failureOf(
            suite.client.send(
              new CreateFunctionCommand({
                FunctionName: 'by-sdk',
                Runtime: 'nodejs20.x',
                Role: ROLE,
                Handler: 'index.handler',
                Code: { ZipFile: ZIP },
              }),
            ),
          ),
        (f) => f.name === 'TooManyRequestsException',
        30_000,
        'a throttled CreateFunction',
      );
      assert.equal(failure.status, 429);
      assert.match(failure.message, /too many request bytes/);
    } finally {
      giveUp.abort();
      await Promise.all(holders);
    }
  });

  test('function URLs: AWS_IAM without credentials, and NONE without the public permission, are refused before the body', async () => {
    await deploy(suite.client, 'url-target', {
      'index.mjs': 'export const handler = async () => ({ statusCode: 200, body: "ran" });',
    });
    for (const [authType, errorType] of [
      ['AWS_IAM', 'AccessDeniedException'],
      ['NONE', 'AccessDeniedException'],
    ] as const) {
      const { FunctionUrl } =
        authType === 'AWS_IAM'
          ? await suite.client.send(
              new CreateFunctionUrlConfigCommand({
                FunctionName: 'url-target',
                AuthType: authType,
              }),
            )
          : await suite.client.send(
              new UpdateFunctionUrlConfigCommand({
                FunctionName: 'url-target',
                AuthType: authType,
              }),
            );
      const urlId = new URL(FunctionUrl ?? '').hostname.split('.')[0] ?? '';
      // Within what a URL request may carry before it is refused for its size (6 MB, read to
      // 12 MB): only the credentials can refuse it before its body.
      const outcome = await rawUpload(suite.server.endpoint, {
        path: `/lambda-url/${urlId}/`,
        contentLength: 10 * 1024 * 1024,
        trickle: true,
        deadlineMs: 10_000,
      });
      assert.equal(outcome.status, 403, `${authType}: ${outcome.body}`);
      assert.equal(outcome.headers['x-amzn-errortype'], errorType);
      assert.equal(outcome.headers['connection'], 'close');
      assert.ok(outcome.closedByServer);
    }
  });

  describe('what the attacks cost everyone else', () => {
    let victim: Awaited<ReturnType<typeof prepareVictim>> | undefined;
    before(async () => {
      victim = await prepareVictim(suite.client);
    });

    test('a victim keeps its warm latency while 69 MB uploads are refused: no signature, unknown key, expired, over the budget', async () => {
      if (victim === undefined) throw new Error('no victim');
      const endpoint = suite.server.endpoint;
      // The uploads read by the tests before (signed, within the budget) gave their memory back.
      const baseline = await memoryReturns(pid, startMiB);
      const signed = await signedHead(endpoint, {
        path: CREATE_PATH,
        payloadSha256: CREATE_SHA256,
      });
      // Two signed uploads that send one chunk hold what uploads may take of the budget; once the
      // server has answered a request sent after them, it has claimed theirs.
      const giveUp = new AbortController();
      const started: Array<Promise<void>> = [];
      const holders = [1, 2].map(() => {
        let onBodyStarted = () => undefined as void;
        started.push(new Promise<void>((resolve) => (onBodyStarted = resolve)));
        return rawUpload(endpoint, {
          path: CREATE_PATH,
          headers: { 'content-type': 'application/json', ...signed },
          contentLength: CREATE_BODY.length,
          trickle: true,
          signal: giveUp.signal,
          onBodyStarted,
        }).catch(() => undefined);
      });
      await Promise.all(started);
      assert.equal((await fetch(`${endpoint}${CREATE_PATH}`)).status, 403);

      const heads = await refusedHeads();
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 20);
      // Ten waves of 10 uploads at once (6 without valid credentials, 4 signed), sent from a
      // worker thread so that pushing them does not delay this thread's own measurements.
      const wave = [1, 2].flatMap(() =>
        [...heads.map(([, h]) => h), signed, signed].map((headers) => ({
          path: CREATE_PATH,
          headers: { 'content-type': 'application/json', ...headers },
          contentLength: CREATE_BODY.length,
        })),
      );
      const { result, p99Ms, latenciesMs } = await victim.during(
        () =>
          floodInWorker(
            endpoint,
            Array.from({ length: 10 }, () => wave),
          ),
        100,
      );
      clearInterval(sampler);
      giveUp.abort();
      await Promise.all(holders);
      const statuses = result.map((o) => o.status);
      assert.equal(statuses.filter((s) => s === 403).length, 60, statuses.join(' '));
      assert.equal(statuses.filter((s) => s === 429).length, 40, statuses.join(' '));
      assert.ok(result.every((o) => o.sentAtAnswer < UNREAD));
      assert.ok(
        p99Ms < VICTIM_P99_LIMIT_MS,
        `victim p99 ${p99Ms.toFixed(1)} ms over ${latenciesMs.length} invokes`,
      );
      const final = await memoryReturns(pid, baseline);
      // Reported in the test output: the figures of the run.
      console.log(
        `victim p99 ${p99Ms.toFixed(1)} ms (${latenciesMs.length} invokes); server RSS ` +
          `${startMiB.toFixed(0)} at start, ${baseline.toFixed(0)} after the read uploads, ` +
          `peak ${peak.toFixed(0)} under attack, ${final.toFixed(0)} after`,
      );
    });
  });

  describe('from inside a function, through the API relay', () => {
    const ATTACKER = `
const http = require('node:http');
exports.handler = async (event) => {
  const url = new URL(process.env.AWS_ENDPOINT_URL_LAMBDA);
  const total = event.total;
  const chunk = Buffer.alloc(1024 * 1024, 'A');
  return new Promise((resolve) => {
    let sent = 0;
    let sentAtAnswer;
    const req = http.request({
      host: url.hostname, port: url.port, method: 'POST', path: '/2015-03-31/functions',
      headers: { 'content-type': 'application/json', 'content-length': total },
    }, (res) => {
      sentAtAnswer = sent;
      let body = '';
      res.on('data', (d) => (body += d));
      const done = () => resolve({
        status: res.statusCode, type: res.headers['x-amzn-errortype'],
        connection: res.headers.connection, sentAtAnswer, total, body,
      });
      res.on('end', done);
      res.on('error', done);
    });
    req.on('error', (error) => {
      if (sentAtAnswer === undefined) resolve({ error: error.code, sent, total });
    });
    const pump = () => {
      while (sent < total && sentAtAnswer === undefined) {
        const size = Math.min(chunk.length, total - sent);
        sent += size;
        if (!req.write(chunk.subarray(0, size))) return req.once('drain', pump);
      }
      if (sent >= total) req.end();
    };
    pump();
  });
};`;

    before(async () => {
      await deploy(suite.client, 'relay-attacker', { 'index.js': ATTACKER }, { timeout: 60 });
    });

    test('an unsigned 69 MB POST to 127.0.0.1:9002 is refused before the server reads it', async () => {
      const baseline = rssMiB(pid);
      const { body } = await invokeJson(suite.client, 'relay-attacker', {
        total: CREATE_BODY.length,
      });
      const report = body as {
        status?: number;
        type?: string;
        connection?: string;
        sentAtAnswer?: number;
        error?: string;
      };
      assert.equal(report.status, 403, JSON.stringify(report));
      assert.equal(report.type, 'MissingAuthenticationTokenException');
      assert.equal(report.connection, 'close');
      assert.ok(
        (report.sentAtAnswer ?? Infinity) < UNREAD,
        `answered after ${report.sentAtAnswer} of ${CREATE_BODY.length} bytes`,
      );
      const grown = rssMiB(pid) - baseline;
      assert.ok(grown < 20, `the server grew by ${grown.toFixed(1)} MiB`);
    });
  });
});
