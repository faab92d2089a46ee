/**
 * End to end: the OFFICIAL Node.js runtime interface client (npm `aws-lambda-ric` 3.x, with its
 * libcurl/aws-lambda-cpp native addon) as the `bootstrap` of a `provided.al2023` function. The
 * package is built once by `scripts/build-test-ric.sh` into a cache folder; this test zips that
 * folder's node_modules with a handler and a shell bootstrap and drives it through the AWS SDK.
 */
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  InvokeCommand,
  InvokeWithResponseStreamCommand,
  type InvokeWithResponseStreamCompleteEvent,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { deploy, invokeJson } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import { REPO_ROOT, startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import type { ZipEntrySpec } from '../helpers/zips.js';

/** Where scripts/build-test-ric.sh builds by default; LAMINA_TEST_RIC_DIR overrides both. */
const RIC_DIR =
  process.env.LAMINA_TEST_RIC_DIR ?? join(REPO_ROOT, 'node_modules/.cache/lamina-aws-lambda-ric');
/** Written by the build script once the addon is built and loads. */
const BUILT_MARKER = '.lamina-built';
/** Build inputs the install scripts leave behind (curl and aws-lambda-cpp sources, objects). */
const NOT_NEEDED_AT_RUN_TIME = [
  'node_modules/aws-lambda-ric/deps',
  'node_modules/aws-lambda-ric/build',
];
const MAX_UNZIPPED_BYTES = 250 * 1024 * 1024;
/** A hung invoke fails its test instead of the whole run. */
const LIMIT = { timeout: 120_000 };

const BOOTSTRAP = [
  '#!/bin/sh',
  // The package's bin (bin/index.mjs) takes the handler as its argument and uses the cwd
  // (/var/task) as the function directory, as the AWS base images' entrypoint does.
  'exec /usr/bin/node /var/task/node_modules/aws-lambda-ric/bin/index.mjs "$_HANDLER"',
  '',
].join('\n');

// `instance` tells processes apart (pids repeat: each jail has its own PID namespace).
const APP = `
import { randomUUID } from 'node:crypto';
const instance = randomUUID();
let calls = 0;
export const handler = async (event, context) => {
  calls += 1;
  if (event !== null && typeof event === 'object' && 'fail' in event) {
    throw new TypeError('ric failure for ' + JSON.stringify(event.fail));
  }
  console.log('ric-handler-log', calls);
  return {
    raw: JSON.stringify(event),
    calls,
    instance,
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    invokedFunctionArn: context.invokedFunctionArn,
    memoryLimitInMB: context.memoryLimitInMB,
    awsRequestId: context.awsRequestId,
    logGroupName: context.logGroupName,
    remaining: context.getRemainingTimeInMillis(),
    clientContext: context.clientContext ?? null,
    traceId: process.env._X_AMZN_TRACE_ID ?? null,
  };
};
`;

// A streaming handler: two chunks, then an end or (for `fail`) an error in the middle of the stream.
const STREAMER = `
export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.setContentType('text/plain');
  responseStream.write('ric-1 ');
  await new Promise((resolve) => setTimeout(resolve, 20));
  responseStream.write('ric-2');
  if (event.fail) throw new Error('ric stream broke');
  responseStream.end();
});
`;

interface HandlerResult {
  readonly raw: string;
  readonly calls: number;
  readonly instance: string;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
  readonly logGroupName: string;
  readonly remaining: number;
  readonly clientContext: unknown;
  readonly traceId: string | null;
}

/** The built node_modules as zip entries (executable bits kept, symlinks stored as symlinks). */
function builtNodeModules(): ZipEntrySpec[] {
  if (!existsSync(join(RIC_DIR, BUILT_MARKER))) {
    throw new Error(
      `aws-lambda-ric is not built in ${RIC_DIR}: run \`sh scripts/build-test-ric.sh\` first ` +
        '(about 2 minutes; it needs autoconf, automake, libtool, cmake, make and g++).',
    );
  }
  const entries: ZipEntrySpec[] = [];
  let bytes = 0;
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const inZip = relative(RIC_DIR, path).split(sep).join('/');
      if (NOT_NEEDED_AT_RUN_TIME.includes(inZip)) continue;
      const stat = lstatSync(path);
      if (stat.isDirectory()) walk(path);
      else if (stat.isSymbolicLink()) {
        entries.push({ name: inZip, content: readlinkSync(path), mode: 0o120777 });
      } else if (stat.isFile()) {
        const content = readFileSync(path);
        bytes += content.length;
        entries.push({ name: inZip, content, mode: 0o100000 | (stat.mode & 0o777) });
      }
    }
  };
  walk(join(RIC_DIR, 'node_modules'));
  assert.ok(
    entries.some((e) => e.name === 'node_modules/aws-lambda-ric/dist/rapid-client.node'),
    `the native addon is missing from ${RIC_DIR}: rerun scripts/build-test-ric.sh`,
  );
  assert.ok(bytes < MAX_UNZIPPED_BYTES, `the built node_modules is too large (${bytes} bytes)`);
  return entries;
}

/** The request id Lamina printed on the START line of a log tail. */
function startedRequestId(log: string): string {
  const match = /^START RequestId: ([0-9a-f-]{36}) Version: \$LATEST$/m.exec(log);
  assert.ok(match?.[1] !== undefined, `no START line in:\n${log}`);
  return match[1];
}

describe('the official aws-lambda-ric as a provided.al2023 bootstrap', () => {
  const dir = tempDir();
  let server: ServerProcess | undefined;
  let client: LambdaClient | undefined;
  let files: readonly ZipEntrySpec[] | undefined;

  /** The client, once the build was found and the function deployed (by the first test). */
  const lambda = (): LambdaClient => {
    assert.ok(files !== undefined, 'the function was not deployed: see the first failure');
    assert.ok(client !== undefined, 'the server did not start');
    return client;
  };

  before(async () => {
    server = await startServer({ dataDir: dir.path });
    client = lambdaClient(server.endpoint);
  });
  after(async () => {
    client?.destroy();
    await server?.stop();
    dir.remove();
  });

  test(
    'the built client deploys as a provided.al2023 function with a shell bootstrap',
    LIMIT,
    async () => {
      assert.ok(client !== undefined, 'the server did not start');
      const entries = [
        ...builtNodeModules(),
        { name: 'app.mjs', content: APP },
        { name: 'streamer.mjs', content: STREAMER },
        { name: 'bootstrap', content: BOOTSTRAP, mode: 0o100755 },
      ];
      await deploy(client, 'ric', entries, { runtime: 'provided.al2023', handler: 'app.handler' });
      files = entries;
    },
  );

  let firstInstance = '';
  let callsSoFar = 0;

  test(
    'an invoke returns the handler result with the right context; the next one is warm',
    LIMIT,
    async () => {
      const first = await invokeJson(lambda(), 'ric', { hello: 'ric' }, { LogType: 'Tail' });
      assert.equal(first.output.StatusCode, 200);
      assert.equal(first.output.FunctionError, undefined, first.text);
      const result = first.body as HandlerResult;
      const requestId = startedRequestId(first.log);
      assert.deepEqual(
        { ...result, instance: '', remaining: 0, traceId: '' },
        {
          raw: '{"hello":"ric"}',
          calls: 1,
          instance: '',
          functionName: 'ric',
          functionVersion: '$LATEST',
          invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:ric',
          memoryLimitInMB: '512',
          awsRequestId: requestId,
          logGroupName: '/aws/lambda/ric',
          remaining: 0,
          clientContext: null,
          traceId: '',
        },
      );
      assert.ok(
        result.remaining > 0 && result.remaining <= 10_000,
        `remaining ${result.remaining}`,
      );
      assert.match(result.traceId ?? '', /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}/);
      assert.match(
        first.log,
        new RegExp(
          `^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\t${requestId}\\tINFO\\tric-handler-log 1$`,
          'm',
        ),
      );
      assert.match(first.log, /Init Duration/);

      const second = await invokeJson(lambda(), 'ric', { n: 2 }, { LogType: 'Tail' });
      const warm = second.body as HandlerResult;
      assert.equal(warm.calls, 2, second.text);
      assert.equal(warm.instance, result.instance);
      assert.equal(warm.raw, '{"n":2}');
      assert.notEqual(warm.awsRequestId, requestId);
      assert.equal(warm.awsRequestId, startedRequestId(second.log));
      assert.doesNotMatch(second.log, /Init Duration/);
      firstInstance = result.instance;
      callsSoFar = warm.calls;
    },
  );

  test(
    'events arrive byte for byte through the native client, small and large',
    LIMIT,
    async () => {
      const events = [
        {
          text: 'ü€😀 "quoted" \\ back\nslash\t\u0001 </script>',
          numbers: [0, -1, 1.5, 1e21, 123456789012],
          nested: { empty: {}, list: [], nil: null, yes: true },
        },
        { blob: 'x'.repeat(1024 * 1024), more: 'ü'.repeat(100_000) },
      ];
      for (const event of events) {
        const exact = JSON.stringify(event);
        const out = await invokeJson(lambda(), 'ric', event);
        assert.equal(out.output.FunctionError, undefined, out.text.slice(0, 500));
        const result = out.body as HandlerResult;
        assert.equal(result.raw.length, exact.length);
        assert.ok(result.raw === exact, 'the event the handler saw differs from the one sent');
        assert.equal(result.instance, firstInstance);
        callsSoFar += 1;
        assert.equal(result.calls, callsSoFar);
      }
    },
  );

  test('a client context reaches context.clientContext', LIMIT, async () => {
    const clientContext = { client: { app_title: 'ric-test' }, custom: { note: 'ünï' }, env: {} };
    const out = await invokeJson(
      lambda(),
      'ric',
      {},
      { ClientContext: Buffer.from(JSON.stringify(clientContext)).toString('base64') },
    );
    const result = out.body as HandlerResult;
    assert.deepEqual(result.clientContext, clientContext, out.text);
    callsSoFar = result.calls;
  });

  test(
    'a thrown error is FunctionError Unhandled with errorType, errorMessage and trace',
    LIMIT,
    async () => {
      const failed = await invokeJson(lambda(), 'ric', { fail: { x: 1 } });
      assert.equal(failed.output.StatusCode, 200);
      assert.equal(failed.output.FunctionError, 'Unhandled');
      const payload = failed.body as { errorType: string; errorMessage: string; trace: unknown };
      assert.deepEqual(Object.keys(payload).sort(), ['errorMessage', 'errorType', 'trace']);
      assert.equal(payload.errorType, 'TypeError');
      assert.equal(payload.errorMessage, 'ric failure for {"x":1}');
      assert.ok(Array.isArray(payload.trace), failed.text);
      const trace = payload.trace as unknown[];
      assert.equal(trace[0], 'TypeError: ric failure for {"x":1}');
      assert.ok(
        trace.some((line) => typeof line === 'string' && line.includes('/var/task/app.mjs')),
        failed.text,
      );

      // The runtime survives its handler's error: the same process answers the next invoke.
      const next = (await invokeJson(lambda(), 'ric', { again: true })).body as HandlerResult;
      assert.equal(next.instance, firstInstance);
      assert.equal(next.calls, callsSoFar + 2);
    },
  );

  test(
    'a handler that is not exported is an init error (Runtime.HandlerNotFound)',
    LIMIT,
    async () => {
      await deploy(lambda(), 'ric-nohandler', files ?? [], {
        runtime: 'provided.al2023',
        handler: 'app.nope',
      });
      const failed = await invokeJson(lambda(), 'ric-nohandler', {});
      assert.equal(failed.output.FunctionError, 'Unhandled');
      const payload = failed.body as { errorType: string; errorMessage: string };
      assert.equal(payload.errorType, 'Runtime.HandlerNotFound', failed.text);
      assert.equal(payload.errorMessage, 'app.nope is undefined or not exported');
    },
  );

  test(
    'a streaming handler streams through the Runtime API: chunks, then InvokeComplete (with its error)',
    LIMIT,
    async () => {
      await deploy(lambda(), 'ric-streamer', files ?? [], {
        runtime: 'provided.al2023',
        handler: 'streamer.handler',
      });
      const streamed = async (event: unknown) => {
        const output = await lambda().send(
          new InvokeWithResponseStreamCommand({
            FunctionName: 'ric-streamer',
            Payload: Buffer.from(JSON.stringify(event)),
          }),
        );
        let text = '';
        let complete: InvokeWithResponseStreamCompleteEvent | undefined;
        for await (const part of output.EventStream ?? []) {
          if (part.PayloadChunk !== undefined)
            text += Buffer.from(part.PayloadChunk.Payload ?? new Uint8Array()).toString();
          if (part.InvokeComplete !== undefined) complete = part.InvokeComplete;
        }
        return { text, complete };
      };
      const ok = await streamed({});
      assert.equal(ok.text, 'ric-1 ric-2');
      assert.deepEqual(ok.complete, {});
      const broken = await streamed({ fail: true });
      assert.equal(broken.text, 'ric-1 ric-2');
      assert.equal(broken.complete?.ErrorCode, 'Error');
      assert.equal(broken.complete?.ErrorDetails, 'ric stream broke');
      const plain = await lambda().send(new InvokeCommand({ FunctionName: 'ric-streamer' }));
      assert.equal(Buffer.from(plain.Payload ?? new Uint8Array()).toString(), 'ric-1 ric-2');
    },
  );
});
