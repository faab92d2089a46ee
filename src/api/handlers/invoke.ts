/**
 * Invoke: `POST /2015-03-31/functions/{F}/invocations`. RequestResponse answers 200 with the
 * function's bytes (function errors too, flagged by `X-Amz-Function-Error: Unhandled`); DryRun
 * answers 204; Event answers 202 once the event is durably queued (payload ≤ 1 MB).
 */
import { LambdaError, lambdaErrors } from '../../core/errors.js';
import { LIMITS } from '../../core/limits.js';
import type { InvokeRequest } from '../../invoke/invoke-service.js';
import { param, queryValue, type ApiRequest, type Handler } from '../api-types.js';
import { LOG_TAIL_BYTES } from '../../environment/log-tail.js';
import { traceHeaderOf } from '../trace-header.js';

const CLIENT_CONTEXT_BYTES = 3583;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export const invoke: Handler = async (ctx, req) => {
  const functionName = param(req, 'FunctionName');
  const qualifier = queryValue(req, 'Qualifier');
  const type = header(req, 'x-amz-invocation-type') ?? 'RequestResponse';
  if (type === 'DryRun') {
    const version = await ctx.invocations.check(functionName, qualifier);
    return { status: 204, headers: { 'x-amz-executed-version': version } };
  }
  if (type === 'Event') {
    if (req.body.length > LIMITS.eventPayloadBytes) throw payloadTooLarge(LIMITS.eventPayloadBytes);
    checkJson(req.body);
    await ctx.asyncEvents.accept({
      requestId: req.requestId,
      functionName,
      qualifier,
      payload: req.body,
      clientContext: clientContext(header(req, 'x-amz-client-context')),
      traceHeader: traceHeaderOf(req.headers),
    });
    return { status: 202 };
  }
  if (type !== 'RequestResponse') {
    throw lambdaErrors.invalidParameter(
      `1 validation error detected: Value '${type}' at 'invocationType' failed to satisfy constraint: ` +
        'Member must satisfy enum value set: [Event, RequestResponse, DryRun]',
    );
  }
  const result = await ctx.invocations.invoke(synchronousRequest(req, functionName, qualifier));
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-amz-executed-version': result.executedVersion,
  };
  if (result.outcome.kind === 'function-error') headers['x-amz-function-error'] = 'Unhandled';
  if (result.logTail !== undefined) headers['x-amz-log-result'] = logResult(result.logTail);
  return { status: 200, headers, body: result.outcome.payload };
};

/** A synchronous invocation (Invoke, InvokeWithResponseStream) of a JSON payload. */
export function synchronousRequest(
  req: ApiRequest,
  functionName: string,
  qualifier: string | undefined,
): InvokeRequest {
  checkJson(req.body);
  return {
    requestId: req.requestId,
    functionName,
    qualifier,
    payload: req.body,
    clientContext: clientContext(header(req, 'x-amz-client-context')),
    logTail: header(req, 'x-amz-log-type') === 'Tail',
    traceHeader: traceHeaderOf(req.headers),
  };
}

/** What AWS answers for an asynchronous payload over its limit. */
export function payloadTooLarge(limit: number): LambdaError {
  return new LambdaError(
    'RequestTooLargeException',
    `Request must be smaller than ${limit} bytes for the InvokeAsync operation`,
  );
}

/** `LogResult`: base64 of the last 4 KB of the invocation's log lines. */
export function logResult(logTail: string): string {
  const bytes = Buffer.from(logTail);
  return bytes.subarray(Math.max(0, bytes.length - LOG_TAIL_BYTES)).toString('base64');
}

export function header(req: ApiRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The payload must be JSON (empty is allowed: the function then receives `{}`). */
export function checkJson(body: Buffer): void {
  if (body.length === 0) return;
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    const bad = body.find((b) => b >= 0x80) ?? 0;
    throw lambdaErrors.badJson(
      `Could not parse request body into json: Could not parse payload into json: Invalid UTF-8 start byte 0x${bad.toString(16)}`,
    );
  }
  try {
    JSON.parse(text);
  } catch (error) {
    throw lambdaErrors.badJson(
      `Could not parse request body into json: Could not parse payload into json: ${error instanceof Error ? error.message : 'invalid JSON'}`,
    );
  }
}

/** `X-Amz-Client-Context` is base64 JSON; the runtime receives it decoded. */
export function clientContext(encoded: string | undefined): string | undefined {
  if (encoded === undefined || encoded === '') return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  if (decoded.length > CLIENT_CONTEXT_BYTES) {
    throw lambdaErrors.invalidParameter(
      `Client context must be at most ${CLIENT_CONTEXT_BYTES} bytes once decoded.`,
    );
  }
  try {
    JSON.parse(decoded);
  } catch {
    throw lambdaErrors.invalidParameter(
      'Client context must be a valid Base64-encoded JSON object.',
    );
  }
  return decoded;
}
