/**
 * InvokeWithResponseStream: `POST /2021-11-15/functions/{F}/response-streaming-invocations`.
 * Errors before the function runs (not found, throttled, bad payload) are ordinary AWS error
 * responses; after that the answer is 200 with `X-Amz-Executed-Version` and an event stream:
 * a `PayloadChunk` per piece of the response as the function writes it (one with the whole
 * response for a function that does not stream), then `InvokeComplete` with the error, if any,
 * and the log tail. DryRun answers 204.
 */
import { Readable } from 'node:stream';
import { lambdaErrors } from '../../core/errors.js';
import type { StreamingInvocation } from '../../environment/streaming-invocation.js';
import { param, queryValue, type Handler } from '../api-types.js';
import {
  EVENT_STREAM_CONTENT_TYPE,
  invokeCompleteMessage,
  payloadChunkMessage,
} from '../event-stream-wire.js';
import { header, logResult, synchronousRequest } from './invoke.js';

export const invokeWithResponseStream: Handler = async (ctx, req) => {
  const functionName = param(req, 'FunctionName');
  const qualifier = queryValue(req, 'Qualifier');
  const type = header(req, 'x-amz-invocation-type') ?? 'RequestResponse';
  if (type === 'DryRun') {
    const version = await ctx.invocations.check(functionName, qualifier);
    return { status: 204, headers: { 'x-amz-executed-version': version } };
  }
  if (type !== 'RequestResponse') {
    throw lambdaErrors.invalidParameter(
      `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: ` +
        'Member must satisfy enum value set: [RequestResponse, DryRun]',
    );
  }
  const invocation = await ctx.invocations.invokeStreaming(
    synchronousRequest(req, functionName, qualifier),
  );
  const progress = { bodyRead: false };
  const stream = Readable.from(messages(invocation, progress));
  // A client that leaves before the body was read to its end: the rest is discarded, so the
  // function is not held back until its timeout.
  stream.once('close', () => {
    if (!progress.bodyRead) void discard(invocation.body);
  });
  return {
    status: 200,
    headers: {
      'content-type': EVENT_STREAM_CONTENT_TYPE,
      'x-amz-executed-version': invocation.executedVersion,
    },
    stream,
  };
};

/** The event stream: pulled by the HTTP response, so a slow client slows the function down. */
async function* messages(
  invocation: StreamingInvocation,
  progress: { bodyRead: boolean },
): AsyncGenerator<Uint8Array> {
  for await (const chunk of invocation.body) yield payloadChunkMessage(chunk);
  progress.bodyRead = true;
  const { error, logTail } = await invocation.completion;
  yield invokeCompleteMessage({
    ErrorCode: error?.errorType,
    ErrorDetails: error?.errorMessage,
    LogResult: logTail === undefined ? undefined : logResult(logTail),
  });
}

/** Reads what is left of a body and drops it (a body already given up on ends at once). */
async function discard(body: AsyncIterable<Buffer>): Promise<void> {
  try {
    for await (const chunk of body) void chunk;
  } catch {
    // closed early: nothing left to read
  }
}
