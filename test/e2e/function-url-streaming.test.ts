/**
 * RESPONSE_STREAM function URLs end to end: the HTTP client gets the status, headers and cookies of
 * the function's `awslambda.HttpResponseStream.from` prelude and the first bytes of the body while
 * the function still runs (it waits for a tag the test sets only after reading them); an error
 * after the first bytes ends the connection before the body's end; one before them is a 502; a
 * function that does not stream has its result passed on as it is.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { before, describe, test } from 'node:test';
import {
  AddPermissionCommand,
  CreateFunctionUrlConfigCommand,
  GetFunctionCommand,
  TagResourceCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { deploy } from '../helpers/functions.js';
import { useServer } from '../helpers/server-suite.js';
import { PUBLIC_URL, openUrlResponse, urlRequest } from '../helpers/url-request.js';

const STREAMED = `
import { LambdaClient, ListTagsCommand } from '@aws-sdk/client-lambda';
const lambda = new LambdaClient({});
export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  if (event.rawPath === '/fail-early') throw new Error('nothing written');
  const http = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 201,
    headers: { 'Content-Type': 'text/plain', 'X-Kind': 'streamed' },
    cookies: ['a=1', 'b=2; Secure'],
  });
  http.write('first|');
  if (event.rawPath === '/fail-late') throw new TypeError('broke after the first bytes');
  for (;;) {
    const { Tags } = await lambda.send(new ListTagsCommand({ Resource: context.invokedFunctionArn }));
    if (Tags?.release === event.rawQueryString) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  http.end('second');
});
`;

/** The next piece of a response body (undefined at its end). */
function nextPiece(res: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      res.off('data', onData);
      res.off('end', onEnd);
      res.off('error', reject);
    };
    const onData = (chunk: Buffer) => {
      cleanup();
      res.pause();
      resolve(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(undefined);
    };
    res.on('data', onData);
    res.once('end', onEnd);
    res.once('error', reject);
    res.resume();
  });
}

/** Everything left of a body, and whether it reached its proper end. */
function rest(res: IncomingMessage): Promise<{ text: string; complete: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    res.once('close', () => resolve({ text, complete: res.complete }));
    res.resume();
  });
}

describe('RESPONSE_STREAM function URLs', () => {
  const suite = useServer();
  let client: LambdaClient;

  const createUrl = async (name: string): Promise<string> => {
    const created = await client.send(
      new CreateFunctionUrlConfigCommand({
        FunctionName: name,
        AuthType: 'NONE',
        InvokeMode: 'RESPONSE_STREAM',
      }),
    );
    await client.send(new AddPermissionCommand({ FunctionName: name, ...PUBLIC_URL }));
    return created.FunctionUrl ?? assert.fail('no FunctionUrl');
  };

  let streamedUrl: string;
  before(async () => {
    client = suite.client;
    await deploy(client, 'streamed', { 'index.mjs': STREAMED });
    streamedUrl = await createUrl('streamed');
  });

  test('status, headers and cookies from the prelude; the first bytes arrive while the function runs', async () => {
    const arn = (await client.send(new GetFunctionCommand({ FunctionName: 'streamed' })))
      .Configuration?.FunctionArn;

    const res = await openUrlResponse(`${streamedUrl}gated?one`);
    assert.equal(res.statusCode, 201);
    assert.equal(res.headers['content-type'], 'text/plain');
    assert.equal(res.headers['x-kind'], 'streamed');
    assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2; Secure']);
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    assert.equal((await nextPiece(res))?.toString('utf8'), 'first|');
    // Only now may the function finish.
    await client.send(new TagResourceCommand({ Resource: arn, Tags: { release: 'one' } }));
    assert.deepEqual(await rest(res), { text: 'second', complete: true });
  });

  test('an error after the first bytes ends the connection before the body is complete', async () => {
    const res = await openUrlResponse(`${streamedUrl}fail-late`);
    assert.equal(res.statusCode, 201);
    const { text, complete } = await rest(res);
    assert.equal(text, 'first|');
    assert.equal(complete, false, 'the chunked body must not end normally');
  });

  test('an error before the first byte is a 502', async () => {
    const answer = await urlRequest(`${streamedUrl}fail-early`);
    assert.equal(answer.status, 502);
    assert.equal(answer.body.toString('utf8'), 'Internal Server Error');
  });

  test('a function that does not stream has its result passed on as it is', async () => {
    await deploy(client, 'buffered', {
      'index.js': `exports.handler = async (event) => ({ statusCode: 201, body: event.rawPath });`,
    });
    const url = await createUrl('buffered');
    const answer = await urlRequest(`${url}x`);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], 'application/json');
    assert.deepEqual(answer.json(), { statusCode: 201, body: '/x' });
  });
});
