/**
 * The invocation record a destination receives when an event finishes (Lambda's format, version
 * 1.0): who ran, why the record was sent, the request, and — when the function ran — the last
 * response and its context.
 */
import { parseJsonWithin } from '../core/json-depth.js';
import type { AsyncEvent } from './async-event.js';

/** The record as JSON-ready data. */
export interface InvocationRecord {
  readonly version: '1.0';
  readonly timestamp: string;
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: string;
    readonly approximateInvokeCount: number;
  };
  readonly requestPayload: unknown;
  readonly responseContext?: {
    readonly statusCode: number;
    readonly executedVersion: string;
    readonly functionError?: string;
  };
  readonly responsePayload?: unknown;
}

/**
 * The record of a finished event. `functionArn` is the ARN the event was invoked with, qualified
 * (`:$LATEST` for unqualified invokes), as AWS reports it. Without any attempt (expired while
 * throttled, reserved concurrency 0) there is no response, so no `responseContext`.
 */
export function invocationRecord(event: AsyncEvent, functionArn: string): InvocationRecord {
  const record: InvocationRecord = {
    version: '1.0',
    timestamp: new Date(event.finishedMs ?? event.enqueuedMs).toISOString(),
    requestContext: {
      requestId: event.requestId,
      functionArn,
      condition: event.condition ?? 'RetriesExhausted',
      approximateInvokeCount: event.attempts,
    },
    requestPayload: event.payload.length === 0 ? {} : jsonOrText(event.payload),
  };
  if (event.attempts === 0 || event.response === undefined || event.executedVersion === undefined)
    return record;
  return {
    ...record,
    responseContext: {
      statusCode: 200,
      executedVersion: event.executedVersion,
      ...(event.functionError === undefined ? {} : { functionError: event.functionError }),
    },
    responsePayload: jsonOrText(event.response),
  };
}

/** A payload as JSON when it parses, else as text. */
export function jsonOrText(bytes: Buffer): unknown {
  const text = bytes.toString('utf8');
  const parsed = parseJsonWithin(text);
  return parsed === undefined ? text : parsed.value;
}
