/**
 * The answer to a request for `/metrics`, the same on the API port and on `--metrics-port`: a
 * request with a body is refused and its connection closed (nothing is read), then the access
 * rule (prometheus-access.ts), then only GET and HEAD render the metrics. Nothing a client sends
 * beyond the head is read, and a refusal costs no rendering.
 */
import { metricsAccess } from './prometheus-access.js';
import type { RenderedMetrics } from './prometheus-metrics.js';

/** What serving `/metrics` needs. */
export interface MetricsEndpoint {
  /** The bearer token scrapers must send; undefined: loopback clients only. */
  readonly token: string | undefined;
  readonly render: () => Promise<RenderedMetrics>;
  /** Told when rendering failed (the server logs it); the client gets a 500. */
  readonly onError: (error: unknown) => void;
  /**
   * Whether a connection from this loopback port was relayed from inside an environment (the
   * Lamina API relay): such a client is no loopback client.
   */
  readonly relayed?: ((remotePort: number | undefined) => boolean) | undefined;
}

/** The parts of a request the answer depends on. */
export interface MetricsRequestHead {
  readonly method: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly remoteAddress: string | undefined;
  readonly remotePort?: number | undefined;
}

export interface MetricsAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Empty for HEAD. */
  readonly body: string;
}

/**
 * A refusal closes its connection: a client that is refused keeps no connection (nor, on the
 * metrics port, one of its few connection slots) open.
 */
const REFUSED = {
  'content-type': 'text/plain; charset=utf-8',
  'cache-control': 'no-store',
  connection: 'close',
};

function refusal(status: number, message: string, headers: Record<string, string> = {}) {
  return { status, headers: { ...REFUSED, ...headers }, body: `${message}\n` };
}

/** Whether the request announces a body (a length above 0, or a chunked one). */
export function carriesBody(headers: MetricsRequestHead['headers']): boolean {
  const length = headers['content-length'];
  if (headers['transfer-encoding'] !== undefined) return true;
  return length !== undefined && length !== '0';
}

export async function answerMetricsRequest(
  endpoint: MetricsEndpoint,
  head: MetricsRequestHead,
): Promise<MetricsAnswer> {
  if (carriesBody(head.headers)) return refusal(400, 'A metrics request has no body.');
  const authorization = head.headers['authorization'];
  const access = metricsAccess(
    endpoint.token,
    typeof authorization === 'string' ? authorization : undefined,
    head.remoteAddress,
    endpoint.relayed?.(head.remotePort) === true,
  );
  if (access === 'unauthorized')
    return refusal(401, 'Unauthorized.', { 'www-authenticate': 'Bearer realm="lamina-metrics"' });
  if (access === 'forbidden')
    return refusal(
      403,
      'Forbidden: without a metrics token, /metrics answers loopback clients only.',
    );
  if (head.method !== 'GET' && head.method !== 'HEAD')
    return refusal(405, 'Method Not Allowed.', { allow: 'GET, HEAD' });
  let rendered: RenderedMetrics;
  try {
    rendered = await endpoint.render();
  } catch (error) {
    endpoint.onError(error);
    return refusal(500, 'The metrics could not be rendered.');
  }
  return {
    status: 200,
    headers: { 'content-type': rendered.contentType, 'cache-control': 'no-store' },
    body: head.method === 'HEAD' ? '' : rendered.body,
  };
}
