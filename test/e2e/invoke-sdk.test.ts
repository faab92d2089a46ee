/** End to end: real functions in real sandboxes, invoked through the AWS SDK. */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { deploy, invokeJson } from '../helpers/functions.js';
import { failureOf } from '../helpers/lambda-client.js';
import { useServer } from '../helpers/server-suite.js';

describe('Invoke', () => {
  const suite = useServer();
  let client: LambdaClient;
  before(() => {
    client = suite.client;
  });

  test('a CommonJS handler echoes its event; the log tail has Lambda lines; warm reuse keeps state', async () => {
    await deploy(
      client,
      'echo',
      {
        'index.js': [
          'let calls = 0;',
          "const fs = require('fs');",
          'exports.handler = async (event, context) => {',
          '  calls += 1;',
          "  if (calls === 1) fs.writeFileSync('/tmp/marker', 'kept');",
          "  console.log('got', JSON.stringify(event));",
          '  return { event, calls, marker: fs.readFileSync("/tmp/marker", "utf8"), name: context.functionName,',
          '    remaining: context.getRemainingTimeInMillis() > 0, env: process.env.GREETING,',
          '    init: process.env.AWS_LAMBDA_INITIALIZATION_TYPE, region: process.env.AWS_REGION };',
          '};',
        ].join('\n'),
      },
      { environment: { GREETING: 'hi' } },
    );
    const first = await invokeJson(client, 'echo', { a: [1, 'x'] }, { LogType: 'Tail' });
    assert.equal(first.output.StatusCode, 200);
    assert.equal(first.output.ExecutedVersion, '$LATEST');
    assert.equal(first.output.FunctionError, undefined);
    assert.deepEqual(first.body, {
      event: { a: [1, 'x'] },
      calls: 1,
      marker: 'kept',
      name: 'echo',
      remaining: true,
      env: 'hi',
      init: 'on-demand',
      region: 'us-east-1',
    });
    assert.match(first.log, /^START RequestId: [0-9a-f-]{36} Version: \$LATEST$/m);
    // The invocation's id is the response's request id, as on Lambda.
    assert.ok(
      first.log.includes(`START RequestId: ${first.output.$metadata.requestId ?? 'none'} `),
    );
    assert.match(
      first.log,
      /^\d{4}-\d\d-\d\dT[\d:.]+Z\t[0-9a-f-]{36}\tINFO\tgot {"a":\[1,"x"\]}$/m,
    );
    assert.match(first.log, /^END RequestId: /m);
    assert.match(
      first.log,
      /^REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 512 MB\tMax Memory Used: \d+ MB\tInit Duration: [\d.]+ ms\t$/m,
    );

    const second = await invokeJson(client, 'echo', {}, { LogType: 'Tail' });
    assert.equal((second.body as { calls: number }).calls, 2);
    assert.doesNotMatch(second.log, /Init Duration/);
  });

  test('an empty payload arrives as {}; bytes are delivered as sent', async () => {
    const empty = await client.send(new InvokeCommand({ FunctionName: 'echo' }));
    assert.deepEqual(
      (JSON.parse(Buffer.from(empty.Payload ?? []).toString()) as { event: unknown }).event,
      {},
    );
    const exact = '{"b" :  "ü\\u0041",  "n": 1.50}';
    const out = await client.send(
      new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from(exact) }),
    );
    assert.deepEqual(
      (JSON.parse(Buffer.from(out.Payload ?? []).toString()) as { event: unknown }).event,
      JSON.parse(exact),
    );
  });

  test('ESM and callback handlers', async () => {
    await deploy(
      client,
      'esm',
      { 'app.mjs': 'export const run = async (e) => ({ esm: true, e });' },
      { handler: 'app.run' },
    );
    assert.deepEqual((await invokeJson(client, 'esm', { x: 1 })).body, { esm: true, e: { x: 1 } });
    await deploy(client, 'callback', {
      'index.js':
        'exports.handler = (e, ctx, cb) => { setTimeout(() => cb(null, { late: true }), 20); };',
    });
    assert.deepEqual((await invokeJson(client, 'callback')).body, { late: true });
  });

  test('function errors are 200 with X-Amz-Function-Error: Unhandled', async () => {
    await deploy(client, 'thrower', {
      'index.js': "exports.handler = async () => { throw new TypeError('boom'); };",
    });
    const result = await invokeJson(client, 'thrower', {});
    assert.equal(result.output.StatusCode, 200);
    assert.equal(result.output.FunctionError, 'Unhandled');
    const payload = result.body as { errorType: string; errorMessage: string; trace: string[] };
    assert.equal(payload.errorType, 'TypeError');
    assert.equal(payload.errorMessage, 'boom');
    assert.ok(Array.isArray(payload.trace));
  });

  test('timeouts stop the environment with Sandbox.Timedout; the next invoke starts fresh', async () => {
    await deploy(
      client,
      'slow',
      {
        'index.js':
          'let n = 0; exports.handler = async (e) => { n += 1; if (e.wait) await new Promise((r) => setTimeout(r, 5000)); return n; };',
      },
      { timeout: 1 },
    );
    const timedOut = await invokeJson(client, 'slow', { wait: true }, { LogType: 'Tail' });
    assert.equal(timedOut.output.FunctionError, 'Unhandled');
    const payload = timedOut.body as { errorType: string; errorMessage: string };
    assert.equal(payload.errorType, 'Sandbox.Timedout');
    assert.match(
      payload.errorMessage,
      /^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$/,
    );
    assert.match(timedOut.log, /Task timed out after 1\.00 seconds/);
    assert.match(timedOut.log, /Status: timeout/);
    assert.equal((await invokeJson(client, 'slow', {})).body, 1);
  });

  test('crashes, process.exit and out-of-memory are Runtime.ExitError', async () => {
    await deploy(client, 'exiter', {
      'index.js': 'exports.handler = async () => { process.exit(3); };',
    });
    const exited = (await invokeJson(client, 'exiter', {})).body as {
      errorType: string;
      errorMessage: string;
    };
    assert.equal(exited.errorType, 'Runtime.ExitError');
    assert.match(exited.errorMessage, /Runtime exited with error: exit status 3$/);

    await deploy(
      client,
      'hog',
      {
        'index.js':
          'exports.handler = async () => { const keep = []; for (;;) keep.push(Buffer.alloc(16 * 1024 * 1024, 1)); };',
      },
      { memorySize: 128, timeout: 60 },
    );
    const oom = await invokeJson(client, 'hog', {});
    assert.equal(oom.output.FunctionError, 'Unhandled');
    const oomPayload = oom.body as { errorType: string; errorMessage: string };
    assert.equal(oomPayload.errorType, 'Runtime.ExitError');
    assert.match(oomPayload.errorMessage, /signal: killed$/);
  });

  test('an init failure is reported on the invoke and init is retried on the next', async () => {
    await deploy(client, 'noinit', { 'index.js': 'exports.other = async () => 1;' });
    for (let i = 0; i < 2; i += 1) {
      const failed = await invokeJson(client, 'noinit', {});
      assert.equal(failed.output.FunctionError, 'Unhandled');
      assert.equal((failed.body as { errorType: string }).errorType, 'Runtime.HandlerNotFound');
    }
  });

  test('payload limits and JSON validation', async () => {
    const notJson = await failureOf(
      client.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{nope') })),
    );
    assert.equal(notJson.name, 'InvalidRequestContentException');
    assert.equal(notJson.status, 400);
    assert.match(
      notJson.message,
      /^Could not parse request body into json: Could not parse payload into json/,
    );
    const big = await failureOf(
      client.send(
        new InvokeCommand({
          FunctionName: 'echo',
          Payload: Buffer.from(JSON.stringify('x'.repeat(6_291_457))),
        }),
      ),
    );
    assert.equal(big.status, 413);
    assert.equal(big.name, 'RequestTooLargeException');

    await deploy(client, 'bigreply', {
      'index.js': "exports.handler = async () => 'y'.repeat(7 * 1024 * 1024);",
    });
    const reply = await invokeJson(client, 'bigreply', {});
    assert.equal(reply.output.FunctionError, 'Unhandled');
    assert.equal((reply.body as { errorType: string }).errorType, 'Function.ResponseSizeTooLarge');
  });

  test('simultaneous invokes get separate environments', async () => {
    await deploy(client, 'parallel', {
      'index.js':
        "const id = require('crypto').randomUUID(); exports.handler = async () => { await new Promise((r) => setTimeout(r, 300)); return id; };",
    });
    const ids = await Promise.all(
      [1, 2, 3].map(async () => (await invokeJson(client, 'parallel', {})).body),
    );
    assert.equal(new Set(ids).size, 3);
  });

  test('DryRun answers 204; Event answers 202; unknown functions are 404 (Event too)', async () => {
    const dry = await client.send(
      new InvokeCommand({ FunctionName: 'echo', InvocationType: 'DryRun' }),
    );
    assert.equal(dry.StatusCode, 204);
    const event = await client.send(
      new InvokeCommand({ FunctionName: 'echo', InvocationType: 'Event' }),
    );
    assert.equal(event.StatusCode, 202);
    const missing = await failureOf(client.send(new InvokeCommand({ FunctionName: 'nope' })));
    assert.equal(missing.name, 'ResourceNotFoundException');
    const missingEvent = await failureOf(
      client.send(new InvokeCommand({ FunctionName: 'nope', InvocationType: 'Event' })),
    );
    assert.equal(missingEvent.name, 'ResourceNotFoundException');
  });

  test('Python functions', async () => {
    await deploy(
      client,
      'py',
      {
        'handler.py':
          'import os\ndef handler(event, context):\n    return {"event": event, "fn": context.function_name, "exec": os.environ["AWS_EXECUTION_ENV"]}\n\ndef fail(event, context):\n    raise ValueError("bad value")\n',
      },
      { runtime: 'python3.11', handler: 'handler.handler' },
    );
    assert.deepEqual((await invokeJson(client, 'py', { p: 1 })).body, {
      event: { p: 1 },
      fn: 'py',
      exec: 'AWS_Lambda_python3.11',
    });
    await deploy(
      client,
      'pyfail',
      { 'handler.py': 'def fail(event, context):\n    raise ValueError("bad value")\n' },
      { runtime: 'python3.11', handler: 'handler.fail' },
    );
    const failed = await invokeJson(client, 'pyfail', {});
    assert.equal(failed.output.FunctionError, 'Unhandled');
    const payload = failed.body as {
      errorType: string;
      errorMessage: string;
      stackTrace: unknown[];
    };
    assert.equal(payload.errorType, 'ValueError');
    assert.equal(payload.errorMessage, 'bad value');
    assert.ok(Array.isArray(payload.stackTrace));
  });

  test('a custom runtime with a curl bootstrap', async () => {
    const bootstrap = [
      '#!/bin/bash',
      'set -euo pipefail',
      'API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"',
      'while true; do',
      '  HEADERS="$(mktemp)"',
      '  EVENT=$(curl -sS -LD "$HEADERS" "$API/invocation/next")',
      '  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d \'[:space:]\' | cut -d: -f2)',
      '  curl -sS -X POST "$API/invocation/$ID/response" -d "{\\"shell\\":true,\\"event\\":$EVENT,\\"handler\\":\\"$_HANDLER\\"}" > /dev/null',
      'done',
    ].join('\n');
    await deploy(client, 'custom', [{ name: 'bootstrap', content: bootstrap, mode: 0o100755 }], {
      runtime: 'provided.al2023',
      handler: 'function.handler',
    });
    assert.deepEqual((await invokeJson(client, 'custom', { c: 3 })).body, {
      shell: true,
      event: { c: 3 },
      handler: 'function.handler',
    });
    await deploy(
      client,
      'nobootstrap',
      { README: 'no bootstrap here' },
      { runtime: 'provided.al2' },
    );
    const missing = await invokeJson(client, 'nobootstrap', {});
    assert.equal((missing.body as { errorType: string }).errorType, 'Runtime.InvalidEntrypoint');
  });

  test('a function calls the Lamina API with its own credentials through AWS_ENDPOINT_URL_LAMBDA', async () => {
    await deploy(client, 'callee', {
      'index.js': 'exports.handler = async (e) => ({ called: e });',
    });
    await deploy(client, 'caller', {
      'index.mjs': [
        "import { LambdaClient, InvokeCommand } from '@aws-sdk/client-lambda';",
        'const lambda = new LambdaClient({});',
        'export const handler = async () => {',
        "  const out = await lambda.send(new InvokeCommand({ FunctionName: 'callee', Payload: JSON.stringify({ from: 'caller' }) }));",
        '  return { endpoint: process.env.AWS_ENDPOINT_URL_LAMBDA, key: process.env.AWS_ACCESS_KEY_ID.slice(0, 4),',
        '    result: JSON.parse(Buffer.from(out.Payload).toString()) };',
        '};',
      ].join('\n'),
    });
    const result = await invokeJson(client, 'caller', {});
    assert.deepEqual(
      result.body,
      { endpoint: 'http://127.0.0.1:9002', key: 'ASIA', result: { called: { from: 'caller' } } },
      result.text,
    );
  });
});
