// Invoke over a raw node:http keep-alive connection, signed with @smithy/signature-v4: the same
// request the SDK sends, without the SDK's middleware stack, to separate its cost from the server's.
import { Buffer } from 'node:buffer';
import { createHash, createHmac } from 'node:crypto';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

/** SHA-256 / HMAC-SHA-256 in the shape SignatureV4 expects, on node:crypto. */
class Sha256 {
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
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const signer = new SignatureV4({
    credentials,
    region: 'us-east-1',
    service: 'lambda',
    sha256: Sha256,
  });
  const invoke = async (functionName, { logTail = false, payload, event = false } = {}) => {
    const started = performance.now();
    const body = payload === undefined ? undefined : Buffer.from(JSON.stringify(payload));
    const unsigned = new HttpRequest({
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: `/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`,
      headers: {
        host: url.host,
        'content-type': 'application/octet-stream',
        'content-length': String(body?.length ?? 0),
        ...(logTail ? { 'x-amz-log-type': 'Tail' } : {}),
        ...(event ? { 'x-amz-invocation-type': 'Event' } : {}),
      },
      ...(body === undefined ? {} : { body }),
    });
    const signed = await signer.sign(unsigned);
    const response = await new Promise((resolve, reject) => {
      const req = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: signed.path,
          headers: signed.headers,
          timeout: timeoutMs,
        },
        (res) => {
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`invoke timed out after ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
    const ms = performance.now() - started;
    const { res } = response;
    if (res.statusCode !== (event ? 202 : 200)) {
      throw new Error(
        `Invoke ${functionName} answered ${res.statusCode}: ${response.body.toString()}`,
      );
    }
    return {
      ms,
      body: response.body,
      logResult: res.headers['x-amz-log-result'],
      functionError: res.headers['x-amz-function-error'],
      requestId: res.headers['x-amzn-requestid'],
    };
  };
  return { invoke, close: () => agent.destroy() };
}
