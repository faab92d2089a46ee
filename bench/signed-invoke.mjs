// Invoke over raw keep-alive HTTP (undici), signed with @smithy/signature-v4: the same request the
// SDK sends, without the SDK's middleware stack, to separate its cost from the server's. The load
// generator shares the machine's cores with the server, so it is kept lean: undici costs about a
// third of node:http per request, and a signature is reused within its second (below).
import { Buffer } from 'node:buffer';
import { createHash, createHmac } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { Pool } from 'undici';

/** SHA-256 / HMAC-SHA-256 in the shape SignatureV4 expects, on node:crypto. */
export class Sha256 {
  #hash;
  constructor(secret) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', secret);
  }
  update(data) {
    this.#hash.update(typeof data === 'string' ? Buffer.from(data) : data);
  }
  digest() {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }
}

/**
 * Signs requests, reusing a signature for the same request within the same second: X-Amz-Date has
 * one-second resolution, so signing again would produce the very same bytes. The server sees
 * exactly what per-request signing sends, and verifies every request in full.
 */
function createSigner(url, credentials) {
  const signer = new SignatureV4({
    credentials,
    region: 'us-east-1',
    service: 'lambda',
    sha256: Sha256,
  });
  const recent = new Map();
  let recentSecond = 0;
  return async (path, headers, body) => {
    const second = Math.floor(Date.now() / 1000);
    if (second !== recentSecond) {
      recent.clear();
      recentSecond = second;
    }
    const key = `${path}\n${JSON.stringify(headers)}\n${body?.toString('base64') ?? ''}`;
    let signed = recent.get(key);
    if (signed === undefined) {
      signed = signer.sign(
        new HttpRequest({
          method: 'POST',
          protocol: 'http:',
          hostname: url.hostname,
          port: Number(url.port),
          path,
          headers: { host: url.host, ...headers },
          ...(body === undefined ? {} : { body }),
        }),
        { signingDate: new Date(second * 1000) },
      );
      recent.set(key, signed);
    }
    return signed;
  };
}

/**
 * A client with its own keep-alive connection (or `connections` of them). `invoke(name,
 * { logTail, payload, event })` resolves with { ms, status, body, logResult, functionError,
 * requestId }; `ms` covers signing, the request and the body. `event: true` sends
 * `X-Amz-Invocation-Type: Event` and expects 202 instead of 200.
 */
export function createSignedInvoker(
  endpoint,
  credentials,
  { timeoutMs = 30_000, connections = 1 } = {},
) {
  const url = new URL(endpoint);
  const pool = new Pool(url.origin, {
    connections,
    pipelining: 1,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const sign = createSigner(url, credentials);
  const invoke = async (functionName, { logTail = false, payload, event = false } = {}) => {
    const started = performance.now();
    const body = payload === undefined ? undefined : Buffer.from(JSON.stringify(payload));
    const signed = await sign(
      `/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`,
      {
        'content-type': 'application/octet-stream',
        'content-length': String(body?.length ?? 0),
        ...(logTail ? { 'x-amz-log-type': 'Tail' } : {}),
        ...(event ? { 'x-amz-invocation-type': 'Event' } : {}),
      },
      body,
    );
    // undici sends the same Host header itself, from the origin.
    const headers = { ...signed.headers };
    delete headers.host;
    const response = await pool.request({
      method: 'POST',
      path: signed.path,
      headers,
      body: body ?? '',
    });
    const bytes = Buffer.from(await response.body.arrayBuffer());
    const ms = performance.now() - started;
    if (response.statusCode !== (event ? 202 : 200)) {
      throw new Error(
        `Invoke ${functionName} answered ${response.statusCode}: ${bytes.toString()}`,
      );
    }
    const header = (name) => {
      const value = response.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    return {
      ms,
      body: bytes,
      logResult: header('x-amz-log-result'),
      functionError: header('x-amz-function-error'),
      requestId: header('x-amzn-requestid'),
    };
  };
  return { invoke, close: () => void pool.destroy().catch(() => undefined) };
}
