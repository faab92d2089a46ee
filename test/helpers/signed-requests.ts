/**
 * Requests signed with the test key for any service, prepared ahead (the signer hashes the body)
 * and sent from a worker thread, so that an attack of large bodies does not hold up the test's
 * own event loop while it measures a victim's latency: what is measured is the server's doing.
 */
import { Worker } from 'node:worker_threads';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../src/core/node-sha256.js';
import { TEST_CREDENTIALS } from './server-process.js';

/** A signed request, ready to send (structured-clonable, for the worker). */
export interface PreparedRequest {
  readonly url: string;
  readonly method: 'POST' | 'GET' | 'PUT' | 'DELETE';
  readonly headers: Record<string, string>;
  readonly body: Uint8Array | undefined;
}

export interface SentOutcome {
  readonly status: number;
  /** `x-amzn-ErrorType`, if any. */
  readonly type: string | null;
  /** The body (its first 2,000 characters when sent from the worker). */
  readonly text: string;
}

/** Signs a JSON request for `service` with the test key. */
export async function prepareSigned(
  endpoint: string,
  method: PreparedRequest['method'],
  path: string,
  body: string | undefined,
  service: string,
): Promise<PreparedRequest> {
  const url = new URL(path, endpoint);
  const bytes = body === undefined ? undefined : Buffer.from(body);
  const signed = await new SignatureV4({
    service,
    region: 'us-east-1',
    credentials: TEST_CREDENTIALS,
    sha256: NodeSha256,
  }).sign(
    new HttpRequest({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      headers: { host: url.host, 'content-type': 'application/json' },
      ...(bytes === undefined ? {} : { body: bytes }),
    }),
  );
  return { url: url.toString(), method, headers: signed.headers, body: bytes };
}

/** Sends a prepared request from this thread. */
export async function sendSigned(request: PreparedRequest): Promise<SentOutcome> {
  const response = await fetch(request.url, {
    method: request.method,
    headers: request.headers,
    ...(request.body === undefined ? {} : { body: request.body }),
  });
  return {
    status: response.status,
    type: response.headers.get('x-amzn-errortype'),
    text: await response.text(),
  };
}

/** Sends the requests `rounds` times, one after the other, from a worker thread. */
export function sendInWorker(
  requests: readonly PreparedRequest[],
  rounds: number,
): Promise<SentOutcome[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./signed-requests-worker.js', import.meta.url), {
      workerData: { requests, rounds },
    });
    worker.once('message', (outcomes: SentOutcome[]) => resolve(outcomes));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the request worker exited with ${code}`));
    });
  });
}
