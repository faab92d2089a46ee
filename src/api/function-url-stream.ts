/**
 * How a RESPONSE_STREAM function URL answers: the function's output is passed to the HTTP client
 * as it arrives. A function that used `awslambda.HttpResponseStream.from` chooses the status,
 * headers and cookies in its prelude; any other output (including the JSON result of a function
 * that does not stream) is the body of a 200 with the content type the function gave. A function
 * that fails before its first byte is a 502; one that fails after it ends the connection before
 * the chunked body's end, so the client can tell the body is incomplete.
 */
import { Readable } from 'node:stream';
import {
  HTTP_INTEGRATION_CONTENT_TYPE,
  splitHttpIntegrationResponse,
  type StreamingInvocation,
} from '../environment/streaming-invocation.js';
import { badGateway, type UrlResponse } from './function-url-response.js';

/** The HTTP answer of a streamed invocation; resolves once the first bytes (or the end) arrive. */
export async function streamedUrlResponse(invocation: StreamingInvocation): Promise<UrlResponse> {
  if (invocation.contentType === HTTP_INTEGRATION_CONTENT_TYPE) {
    const split = await splitHttpIntegrationResponse(invocation.body);
    if (split.prelude === undefined) return discardThenFail(split.body, invocation);
    const headers: Record<string, string | readonly string[]> = {};
    for (const [name, value] of Object.entries(split.prelude.headers)) {
      headers[name.toLowerCase()] = value;
    }
    headers['content-type'] ??= 'application/octet-stream';
    if (split.prelude.cookies.length > 0) headers['set-cookie'] = split.prelude.cookies;
    return {
      status: split.prelude.statusCode,
      headers,
      body: streamed(split.body, invocation),
    };
  }
  const iterator = invocation.body[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done === true) {
    const { error } = await invocation.completion;
    if (error !== undefined) return badGateway();
    return { status: 200, headers: contentType(invocation), body: Buffer.alloc(0) };
  }
  const body = prepend(first.value, iterator);
  return { status: 200, headers: contentType(invocation), body: streamed(body, invocation) };
}

function contentType(invocation: StreamingInvocation): Record<string, string> {
  return { 'content-type': invocation.contentType ?? 'application/octet-stream' };
}

async function* prepend(first: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield first;
  for (let next = await rest.next(); next.done !== true; next = await rest.next()) {
    yield next.value;
  }
}

/**
 * The body as a stream pulled by the HTTP response (a slow client slows the function down). After
 * the last byte the invocation's outcome decides: an error destroys the stream, which ends the
 * connection mid-body. A client that leaves early makes the rest be read and dropped.
 */
function streamed(body: AsyncIterable<Buffer>, invocation: StreamingInvocation): Readable {
  const progress = { bodyRead: false };
  const stream = Readable.from(chunksThenOutcome(body, invocation, progress), {
    objectMode: false,
  });
  stream.once('close', () => {
    // Drain the invocation's own body (not a wrapper a pending read may still hold).
    if (!progress.bodyRead) void discard(invocation.body);
  });
  return stream;
}

async function* chunksThenOutcome(
  body: AsyncIterable<Buffer>,
  invocation: StreamingInvocation,
  progress: { bodyRead: boolean },
): AsyncGenerator<Buffer> {
  for await (const chunk of body) yield chunk;
  progress.bodyRead = true;
  const { error } = await invocation.completion;
  if (error !== undefined) {
    throw new Error(`the function failed mid-stream: ${error.errorType}: ${error.errorMessage}`);
  }
}

async function discardThenFail(
  body: AsyncIterable<Buffer>,
  invocation: StreamingInvocation,
): Promise<UrlResponse> {
  await discard(body);
  await invocation.completion;
  return badGateway();
}

async function discard(body: AsyncIterable<Buffer>): Promise<void> {
  try {
    for await (const chunk of body) void chunk;
  } catch {
    // already given up on: nothing left to read
  }
}
