/**
 * End to end: InvokeWithResponseStream through the AWS SDK against real functions in real
 * sandboxes. The function that proves chunks arrive before it finishes waits for a signal the test
 * gives only after it has received the first chunk (a tag on the function, read through the Lamina
 * API from inside the sandbox), so it cannot finish first.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  GetFunctionCommand,
  InvokeCommand,
  InvokeWithResponseStreamCommand,
  ListTagsCommand,
  PutFunctionConcurrencyCommand,
  TagResourceCommand,
  type InvokeWithResponseStreamCompleteEvent,
  type InvokeWithResponseStreamResponseEvent,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { splitHttpIntegrationResponse } from '../../src/environment/streaming-invocation.js';
import { deploy, invokeJson } from '../helpers/functions.js';
import { failureOf } from '../helpers/lambda-client.js';
import { poll } from '../helpers/poll.js';
import { useServer } from '../helpers/server-suite.js';

/**
 * Writes `first <instance>|`, waits for the tag `release` on itself to equal `event.round`, then
 * writes `event.after` × 64 KB (far more than socket buffers hold) and `second`.
 */
const GATED = `
import { randomUUID } from 'node:crypto';
import { LambdaClient, ListTagsCommand } from '@aws-sdk/client-lambda';
const lambda = new LambdaClient({});
const instance = randomUUID();
export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  responseStream.setContentType('text/plain');
  responseStream.write('first ' + instance + '|');
  for (;;) {
    const { Tags } = await lambda.send(new ListTagsCommand({ Resource: context.invokedFunctionArn }));
    if (Tags?.release === event.round) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  console.log('released', event.round);
  const piece = 'z'.repeat(64 * 1024);
  for (let i = 0; i < (event.after ?? 0); i += 1) {
    if (!responseStream.write(piece)) await new Promise((r) => responseStream.once('drain', r));
  }
  responseStream.end('second');
});
`;

/** Writes `event.pieces` × 64 KB (waiting for drain as a stream should), then `|<instance>`. */
const LARGE = [
  "import { randomUUID } from 'node:crypto';",
  'const instance = randomUUID();',
  'export const handler = awslambda.streamifyResponse(async (event, responseStream) => {',
  "  const piece = 'y'.repeat(64 * 1024);",
  '  for (let i = 0; i < event.pieces; i += 1) {',
  '    if (!responseStream.write(piece)) await new Promise((r) => responseStream.once("drain", r));',
  '  }',
  "  responseStream.end('|' + instance);",
  '});',
].join('\n');

/** Tags itself `started`, waits for the tag `release` to equal `event.round`, then streams. */
const LATE = `
import { LambdaClient, ListTagsCommand, TagResourceCommand } from '@aws-sdk/client-lambda';
const lambda = new LambdaClient({});
export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  const Resource = context.invokedFunctionArn;
  await lambda.send(new TagResourceCommand({ Resource, Tags: { started: event.round } }));
  for (;;) {
    const { Tags } = await lambda.send(new ListTagsCommand({ Resource }));
    if (Tags?.release === event.round) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  responseStream.end('late');
});
`;

/** The events of a streamed invoke, read one by one. */
class Events {
  readonly #iterator: AsyncIterator<InvokeWithResponseStreamResponseEvent>;
  constructor(stream: AsyncIterable<InvokeWithResponseStreamResponseEvent> | undefined) {
    if (stream === undefined) assert.fail('no EventStream');
    this.#iterator = stream[Symbol.asyncIterator]();
  }

  async next(): Promise<InvokeWithResponseStreamResponseEvent | undefined> {
    const next = await this.#iterator.next();
    return next.done === true ? undefined : next.value;
  }

  /** Every remaining chunk's text, and the InvokeComplete event (which must come last). */
  async rest(): Promise<{ text: string; complete: InvokeWithResponseStreamCompleteEvent }> {
    let text = '';
    for (;;) {
      const event = await this.next();
      if (event === undefined) assert.fail('the stream ended without InvokeComplete');
      if (event.PayloadChunk !== undefined) {
        text += Buffer.from(event.PayloadChunk.Payload ?? new Uint8Array()).toString('utf8');
        continue;
      }
      if (event.InvokeComplete === undefined)
        assert.fail(`unexpected event ${JSON.stringify(event)}`);
      assert.equal(await this.next(), undefined, 'InvokeComplete is the last event');
      return { text, complete: event.InvokeComplete };
    }
  }
}

function chunkText(event: InvokeWithResponseStreamResponseEvent | undefined): string {
  if (event?.PayloadChunk === undefined) assert.fail(`expected a chunk: ${JSON.stringify(event)}`);
  return Buffer.from(event.PayloadChunk.Payload ?? new Uint8Array()).toString('utf8');
}

describe('InvokeWithResponseStream', () => {
  const suite = useServer();
  let client: LambdaClient;
  before(() => {
    client = suite.client;
  });

  const stream = (name: string, payload: unknown = {}, extra: { LogType?: 'Tail' } = {}) =>
    client.send(
      new InvokeWithResponseStreamCommand({
        FunctionName: name,
        Payload: Buffer.from(JSON.stringify(payload)),
        ...extra,
      }),
    );

  /**
   * Streams `name` once its one concurrency slot is free again: the abandoned invocation holding it
   * has ended (until then the invoke is throttled).
   */
  const afterAbandoned = (name: string, payload: unknown) =>
    poll(
      async () => {
        try {
          return await new Events((await stream(name, payload)).EventStream).rest();
        } catch (error) {
          if ((error as Error).name === 'TooManyRequestsException') return null;
          throw error;
        }
      },
      (value) => value !== null,
      30_000,
      'the abandoned invocation to end',
    );

  test('the first chunk arrives while the function still runs; the environment is reused', async () => {
    await deploy(client, 'gated', { 'index.mjs': GATED });
    const arn = (await client.send(new GetFunctionCommand({ FunctionName: 'gated' }))).Configuration
      ?.FunctionArn;
    const output = await stream('gated', { round: 'one' }, { LogType: 'Tail' });
    assert.equal(output.StatusCode, 200);
    assert.equal(output.ExecutedVersion, '$LATEST');
    assert.equal(output.ResponseStreamContentType, 'application/vnd.amazon.eventstream');
    const events = new Events(output.EventStream);
    const first = chunkText(await events.next());
    assert.match(first, /^first [0-9a-f-]{36}\|$/);
    // Only now may the function finish.
    await client.send(new TagResourceCommand({ Resource: arn, Tags: { release: 'one' } }));
    const { text, complete } = await events.rest();
    assert.equal(text, 'second');
    assert.equal(complete.ErrorCode, undefined);
    assert.equal(complete.ErrorDetails, undefined);
    const log = Buffer.from(complete.LogResult ?? '', 'base64').toString('utf8');
    assert.match(log, /^START RequestId: \S+ Version: \$LATEST$/m);
    assert.match(log, /released one/);
    assert.match(log, /^END RequestId: /m);
    assert.match(log, /^REPORT RequestId: .*Duration: /m);

    // The environment was kept: the same instance streams the next invocation.
    await client.send(new TagResourceCommand({ Resource: arn, Tags: { release: 'two' } }));
    const again = new Events((await stream('gated', { round: 'two' })).EventStream);
    const rest = await again.rest();
    assert.equal(rest.text, `${first}second`);
    assert.equal(rest.complete.LogResult, undefined, 'no log tail unless asked for');
  });

  test('a caller that leaves mid-stream does not hold the function back: it ends, its environment is kept', async () => {
    await deploy(client, 'left', { 'index.mjs': GATED }, { timeout: 60 });
    await client.send(
      new PutFunctionConcurrencyCommand({ FunctionName: 'left', ReservedConcurrentExecutions: 1 }),
    );
    const arn = (await client.send(new GetFunctionCommand({ FunctionName: 'left' }))).Configuration
      ?.FunctionArn;
    const command = new InvokeWithResponseStreamCommand({
      FunctionName: 'left',
      Payload: Buffer.from(JSON.stringify({ round: 'one', after: 512 })),
    });
    // The HTTP response itself, to hang up on it.
    let connection: { destroy(): void } | undefined;
    command.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        connection = (result.response as { body: { destroy(): void } }).body;
        return result;
      },
      { step: 'deserialize', name: 'keepTheConnection' },
    );
    const output = await client.send(command);
    const first = chunkText(await new Events(output.EventStream).next());
    if (connection === undefined) assert.fail('the HTTP response was not kept');
    connection.destroy();
    await client.send(new TagResourceCommand({ Resource: arn, Tags: { release: 'one' } }));
    // Its one slot is busy until the abandoned invocation has ended; then the same environment
    // serves the next one. Nobody reads its 32 MB: were they not discarded, it would be stuck on
    // its writes until its timeout, which kills the environment.
    const next = await afterAbandoned('left', { round: 'one' });
    assert.equal(next?.text, `${first}second`);
  });

  test('a caller that hangs up before the stream starts is no server error (fuzzing)', async () => {
    await deploy(client, 'late', { 'index.mjs': LATE }, { timeout: 60 });
    await client.send(
      new PutFunctionConcurrencyCommand({ FunctionName: 'late', ReservedConcurrentExecutions: 1 }),
    );
    const arn = (await client.send(new GetFunctionCommand({ FunctionName: 'late' }))).Configuration
      ?.FunctionArn;
    const hangUp = new AbortController();
    const abandoned = client
      .send(
        new InvokeWithResponseStreamCommand({
          FunctionName: 'late',
          Payload: Buffer.from(JSON.stringify({ round: 'one' })),
        }),
        { abortSignal: hangUp.signal },
      )
      .catch((error: unknown) => (error as Error).name);
    await poll(
      async () => (await client.send(new ListTagsCommand({ Resource: arn }))).Tags?.started,
      (started) => started === 'one',
      30_000,
      'the function to start',
    );
    hangUp.abort();
    assert.equal(await abandoned, 'AbortError');
    // Released, it starts its stream, which the server can no longer send.
    await client.send(new TagResourceCommand({ Resource: arn, Tags: { release: 'one' } }));
    const next = await afterAbandoned('late', { round: 'one' });
    assert.equal(next?.text, 'late');
    const errors = suite.server
      .output()
      .split('\n')
      .filter((line) => /"level":(50|60)/.test(line));
    assert.deepEqual(errors, []);
  });

  test('an error in the middle of the stream ends it with InvokeComplete ErrorCode/ErrorDetails', async () => {
    await deploy(client, 'breaks', {
      'index.mjs': [
        'export const handler = awslambda.streamifyResponse(async (event, responseStream) => {',
        "  responseStream.write('partial ');",
        '  await new Promise((resolve) => setTimeout(resolve, 10));',
        "  throw new RangeError('stream broke');",
        '});',
      ].join('\n'),
    });
    const events = new Events((await stream('breaks', {}, { LogType: 'Tail' })).EventStream);
    const { text, complete } = await events.rest();
    assert.equal(text, 'partial ');
    assert.equal(complete.ErrorCode, 'RangeError');
    assert.equal(complete.ErrorDetails, 'stream broke');
    const log = Buffer.from(complete.LogResult ?? '', 'base64').toString('utf8');
    assert.match(log, /RangeError: stream broke/);
  });

  test('a function that does not stream: its whole response in one chunk; its error in InvokeComplete', async () => {
    await deploy(client, 'buffered', {
      'index.js': [
        'exports.handler = async (event) => {',
        "  if (event.fail) throw new TypeError('no good');",
        '  return { echo: event, big: "x".repeat(100000) };',
        '};',
      ].join('\n'),
    });
    const output = await stream('buffered', { n: 1 });
    const events = new Events(output.EventStream);
    const only = chunkText(await events.next());
    assert.deepEqual(JSON.parse(only), { echo: { n: 1 }, big: 'x'.repeat(100000) });
    const { text, complete } = await events.rest();
    assert.equal(text, '');
    assert.equal(complete.ErrorCode, undefined);

    const failed = await new Events((await stream('buffered', { fail: true })).EventStream).rest();
    assert.equal(failed.text, '', 'an error payload is not a chunk');
    assert.equal(failed.complete.ErrorCode, 'TypeError');
    assert.equal(failed.complete.ErrorDetails, 'no good');
  });

  test('HttpResponseStream.from: the prelude and its 8 NUL bytes come first, as bytes, and split off', async () => {
    await deploy(client, 'http', {
      'index.js': [
        'exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {',
        '  const http = awslambda.HttpResponseStream.from(responseStream, {',
        "    statusCode: 418, headers: { 'x-kind': 'teapot' }, cookies: ['a=1'] });",
        "  http.write('<p>');",
        "  http.end('short and stout</p>');",
        '});',
      ].join('\n'),
    });
    const output = await stream('http');
    const chunks: Buffer[] = [];
    for await (const event of output.EventStream ?? []) {
      if (event.PayloadChunk !== undefined)
        chunks.push(Buffer.from(event.PayloadChunk.Payload ?? new Uint8Array()));
    }
    const prelude = JSON.stringify({
      statusCode: 418,
      headers: { 'x-kind': 'teapot' },
      cookies: ['a=1'],
    });
    assert.deepEqual(
      Buffer.concat(chunks),
      Buffer.concat([Buffer.from(prelude), Buffer.alloc(8), Buffer.from('<p>short and stout</p>')]),
    );
    const split = await splitHttpIntegrationResponse(
      (async function* () {
        for (const chunk of chunks) yield await Promise.resolve(chunk);
      })(),
    );
    assert.deepEqual(split.prelude, {
      statusCode: 418,
      headers: { 'x-kind': 'teapot' },
      cookies: ['a=1'],
    });
    let body = '';
    for await (const chunk of split.body) body += chunk.toString();
    assert.equal(body, '<p>short and stout</p>');
  });

  test('a streaming function invoked with Invoke answers its whole body', async () => {
    await deploy(client, 'streamer', {
      'index.mjs': [
        "import { Readable } from 'node:stream';",
        "import { pipeline } from 'node:stream/promises';",
        'export const handler = awslambda.streamifyResponse(async (event, responseStream) => {',
        "  responseStream.setContentType('text/plain');",
        "  await pipeline(Readable.from(['a', 'b', 'c']), responseStream);",
        '});',
      ].join('\n'),
    });
    const plain = await client.send(new InvokeCommand({ FunctionName: 'streamer' }));
    assert.equal(plain.StatusCode, 200);
    assert.equal(plain.FunctionError, undefined);
    assert.equal(Buffer.from(plain.Payload ?? new Uint8Array()).toString(), 'abc');
    const streamed = await new Events((await stream('streamer')).EventStream).rest();
    assert.equal(streamed.text, 'abc');
  });

  test('a stream may pass the 6 MB buffered limit; through plain Invoke the same response is too large', async () => {
    await deploy(client, 'large', { 'index.mjs': LARGE });
    const pieces = 128; // 8 MB
    const events = new Events((await stream('large', { pieces })).EventStream);
    let chunks = 0;
    let text = '';
    for (;;) {
      const event = await events.next();
      if (event?.PayloadChunk === undefined) {
        assert.equal(event?.InvokeComplete?.ErrorCode, undefined);
        break;
      }
      chunks += 1;
      text += Buffer.from(event.PayloadChunk.Payload ?? new Uint8Array()).toString();
    }
    assert.ok(chunks > 1, 'the response came in several chunks');
    const [body = '', instance = ''] = text.split('|');
    assert.equal(body.length, pieces * 64 * 1024);
    assert.equal(body, 'y'.repeat(body.length));

    const tooLarge = await invokeJson(client, 'large', { pieces: 100 });
    assert.equal(tooLarge.output.FunctionError, 'Unhandled');
    assert.equal(
      (tooLarge.body as { errorType: string }).errorType,
      'Function.ResponseSizeTooLarge',
      tooLarge.text,
    );
    // The oversized response killed the environment (the one that had streamed, reused for it).
    const small = await new Events((await stream('large', { pieces: 1 })).EventStream).rest();
    assert.equal(small.complete.ErrorCode, undefined);
    const [smallBody = '', smallInstance = ''] = small.text.split('|');
    assert.equal(smallBody.length, 64 * 1024);
    assert.match(smallInstance, /^[0-9a-f-]{36}$/);
    assert.notEqual(smallInstance, instance);
  });

  test('a stream over 200 MB is cut off with Function.ResponseSizeTooLarge and its environment stopped', async () => {
    // Generous: 200 MB through a busy 2-core machine can take longer than the default 10 s.
    await deploy(client, 'huge', { 'index.mjs': LARGE }, { timeout: 60 });
    const before = await new Events((await stream('huge', { pieces: 0 })).EventStream).rest();
    // 3,201 pieces of 64 KB pass 200 MB.
    const events = new Events((await stream('huge', { pieces: 3201 })).EventStream);
    let bytes = 0;
    let firstChunk = '';
    let complete: InvokeWithResponseStreamCompleteEvent | undefined;
    for (;;) {
      const event = await events.next();
      if (event === undefined) break;
      if (event.PayloadChunk !== undefined) {
        const payload = event.PayloadChunk.Payload ?? new Uint8Array();
        if (firstChunk === '') firstChunk = Buffer.from(payload.subarray(0, 1)).toString();
        bytes += payload.length;
      } else complete = event.InvokeComplete;
    }
    assert.equal(firstChunk, 'y');
    assert.ok(bytes <= 200 * 1024 * 1024, `${bytes} bytes passed on`);
    assert.ok(bytes > 6 * 1024 * 1024, `only ${bytes} bytes passed on`);
    assert.equal(complete?.ErrorCode, 'Function.ResponseSizeTooLarge');
    assert.match(complete?.ErrorDetails ?? '', /maximum allowed payload size \(209715200 bytes\)/);
    const after = await new Events((await stream('huge', { pieces: 0 })).EventStream).rest();
    assert.match(after.text, /^\|[0-9a-f-]{36}$/);
    assert.match(before.text, /^\|[0-9a-f-]{36}$/);
    assert.notEqual(after.text, before.text, 'the environment that streamed too much was stopped');
  });

  test('a timeout while streaming ends the stream with Sandbox.Timedout; the next invoke starts afresh', async () => {
    await deploy(
      client,
      'slow',
      {
        'index.mjs': [
          "import { randomUUID } from 'node:crypto';",
          'const instance = randomUUID();',
          'export const handler = awslambda.streamifyResponse(async (event, responseStream) => {',
          "  responseStream.write(instance + '|');",
          '  if (event.hang) await new Promise(() => setInterval(() => undefined, 1000));',
          "  responseStream.end('done');",
          '});',
        ].join('\n'),
      },
      { timeout: 1 },
    );
    const events = new Events((await stream('slow', { hang: true })).EventStream);
    const first = chunkText(await events.next());
    const { text, complete } = await events.rest();
    assert.equal(text, '');
    assert.equal(complete.ErrorCode, 'Sandbox.Timedout');
    assert.match(complete.ErrorDetails ?? '', /Task timed out after 1\.00 seconds/);
    const next = await new Events((await stream('slow', {})).EventStream).rest();
    assert.match(next.text, /\|done$/);
    assert.notEqual(next.text, `${first}done`, 'the timed-out environment was not reused');
  });

  test('errors before the stream starts are AWS errors; DryRun answers 204', async () => {
    const missing = await failureOf(stream('nope'));
    assert.equal(missing.name, 'ResourceNotFoundException');
    assert.equal(missing.status, 404);
    await deploy(client, 'dry', { 'index.js': 'exports.handler = async () => 1;' });
    const dry = await client.send(
      new InvokeWithResponseStreamCommand({ FunctionName: 'dry', InvocationType: 'DryRun' }),
    );
    assert.equal(dry.StatusCode, 204);
    assert.equal(dry.ExecutedVersion, '$LATEST');
    const badJson = await failureOf(
      client.send(
        new InvokeWithResponseStreamCommand({ FunctionName: 'dry', Payload: Buffer.from('{') }),
      ),
    );
    assert.equal(badJson.name, 'InvalidRequestContentException');
    const badType = await failureOf(
      client.send(
        new InvokeWithResponseStreamCommand({
          FunctionName: 'dry',
          InvocationType: 'Event' as 'DryRun',
        }),
      ),
    );
    assert.equal(badType.name, 'InvalidParameterValueException');
    assert.equal(
      (await invokeJson(client, 'dry')).text,
      '1',
      'plain Invoke is unaffected by the failed attempts',
    );
  });
});
