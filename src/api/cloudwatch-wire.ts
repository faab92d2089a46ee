/**
 * CloudWatch's two wire forms of an answer: awsJson1_0 (timestamps as epoch seconds; errors with
 * the shape id in `__type` and the Query code in `x-amzn-query-error`, as awsQueryCompatible
 * services answer) and awsQuery (XML in the 2010-08-01 namespace: lists as `<member>`, maps as
 * `<entry><key/><value/></entry>`, ISO 8601 timestamps; errors in an `<ErrorResponse>`).
 */
import { XMLBuilder } from 'fast-xml-parser';
import type { CloudWatchError } from './cloudwatch-errors.js';
import type { RpcAnswer } from './rpc-service.js';

export const CLOUDWATCH_NAMESPACE = 'http://monitoring.amazonaws.com/doc/2010-08-01/';
export const JSON_CONTENT_TYPE = 'application/x-amz-json-1.0';

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_' });

export function jsonAnswer(answer: Record<string, unknown>): RpcAnswer {
  return {
    status: 200,
    headers: { 'content-type': JSON_CONTENT_TYPE },
    body: JSON.stringify(toJson(answer)),
  };
}

export function xmlAnswer(
  operation: string,
  answer: Record<string, unknown>,
  requestId: string,
): RpcAnswer {
  return {
    status: 200,
    headers: { 'content-type': 'text/xml' },
    body: builder.build({
      [`${operation}Response`]: {
        '@_xmlns': CLOUDWATCH_NAMESPACE,
        [`${operation}Result`]: toXml(answer),
        ResponseMetadata: { RequestId: requestId },
      },
    }),
  };
}

export function jsonError(error: CloudWatchError): RpcAnswer {
  return {
    status: error.status,
    headers: {
      'content-type': JSON_CONTENT_TYPE,
      'x-amzn-query-error': `${error.code};${error.status >= 500 ? 'Receiver' : 'Sender'}`,
    },
    body: JSON.stringify({ __type: error.shape, message: error.message }),
  };
}

export function xmlError(error: CloudWatchError, requestId: string): RpcAnswer {
  return {
    status: error.status,
    headers: { 'content-type': 'text/xml' },
    body: builder.build({
      ErrorResponse: {
        '@_xmlns': CLOUDWATCH_NAMESPACE,
        Error: {
          Type: error.status >= 500 ? 'Receiver' : 'Sender',
          Code: error.code,
          Message: error.message,
        },
        RequestId: requestId,
      },
    }),
  };
}

function toJson(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of value as Map<string, unknown>)
      if (item !== undefined) out[key] = toJson(item);
    return out;
  }
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value))
      if (item !== undefined) out[key] = toJson(item);
    return out;
  }
  return value;
}

function toXml(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString().replace(/\.000Z$/, 'Z');
  if (value instanceof Map) {
    const entries: unknown[] = [];
    for (const [key, item] of value as Map<string, unknown>)
      if (item !== undefined) entries.push({ key, value: toXml(item) });
    return { entry: entries };
  }
  if (Array.isArray(value)) return { member: value.map(toXml) };
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = toXml(item);
    return out;
  }
  return String(value);
}
