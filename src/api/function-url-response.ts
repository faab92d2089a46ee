/**
 * How a buffered function URL answer is read from the function's output (payload format 2.0): an
 * object with `statusCode` describes the HTTP response; any other JSON value is the body of a 200
 * `application/json` response (a JSON string is sent as its text, without quotes, as AWS does).
 */

import type { Readable } from 'node:stream';

/** An HTTP response of a function URL. */
export interface UrlResponse {
  readonly status: number;
  /** Lower-case names; `set-cookie` carries one value per cookie. */
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  /** The whole body, or (RESPONSE_STREAM URLs) a stream of it as the function writes it. */
  readonly body: Buffer | Readable;
}

/** A URL response whose body is complete. */
export interface BufferedUrlResponse extends UrlResponse {
  readonly body: Buffer;
}

/** What a URL answers when the function fails or returns something unusable. */
export function badGateway(): BufferedUrlResponse {
  return {
    status: 502,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    body: Buffer.from('Internal Server Error'),
  };
}

/** Reads the function's output; undefined when it is not a usable answer (→ 502). */
export function interpretUrlResponse(payload: Buffer): BufferedUrlResponse | undefined {
  const text = payload.toString('utf8');
  let value: unknown;
  try {
    value = text.trim() === '' ? null : JSON.parse(text);
  } catch {
    return undefined;
  }
  if (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    'statusCode' in value
  ) {
    return described(value);
  }
  const json = { 'content-type': 'application/json' };
  if (typeof value === 'string') return { status: 200, headers: json, body: Buffer.from(value) };
  if (value === null) return { status: 200, headers: json, body: Buffer.alloc(0) };
  return { status: 200, headers: json, body: payload };
}

function described(value: Record<string, unknown>): BufferedUrlResponse | undefined {
  const status = value['statusCode'];
  const code = typeof status === 'string' && /^\d+$/.test(status) ? Number(status) : status;
  if (typeof code !== 'number' || !Number.isInteger(code) || code < 100 || code > 599) {
    return undefined;
  }
  const headers: Record<string, string | string[]> = {};
  const given = value['headers'];
  if (typeof given === 'object' && given !== null && !Array.isArray(given)) {
    for (const [name, v] of Object.entries(given as Record<string, unknown>)) {
      if (v === null || v === undefined) continue;
      headers[name.toLowerCase()] = typeof v === 'string' ? v : JSON.stringify(v);
    }
  }
  headers['content-type'] ??= 'application/json';
  const cookies = value['cookies'];
  if (Array.isArray(cookies)) {
    const all = cookies.filter((c): c is string => typeof c === 'string');
    const existing = headers['set-cookie'];
    if (all.length > 0)
      headers['set-cookie'] = existing === undefined ? all : [String(existing), ...all];
  }
  const body = value['body'];
  let bytes: Buffer;
  if (body === undefined || body === null) bytes = Buffer.alloc(0);
  else if (typeof body === 'string')
    bytes = value['isBase64Encoded'] === true ? Buffer.from(body, 'base64') : Buffer.from(body);
  else bytes = Buffer.from(JSON.stringify(body));
  return { status: code, headers, body: bytes };
}
