/**
 * The metrics on their own port (`--metrics-port`): a bare node:http server that answers
 * `/metrics` (prometheus-endpoint.ts) and 404 for anything else. It is bounded like any
 * unauthenticated listener: small heads, short timeouts, few connections, nothing read beyond
 * the head.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerMetricsRequest, type MetricsEndpoint } from './prometheus-endpoint.js';
import { METRICS_PATH } from './prometheus-route.js';

/** Limits of the metrics listener: a scraper needs one connection and a small request. */
export const METRICS_LISTENER_LIMITS = {
  maxHeaderBytes: 8 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 20_000,
  /** A connection silent this long (a client that stopped reading its answer) is ended. */
  idleTimeoutMs: 60_000,
  maxConnections: 64,
  checkEveryMs: 1000,
} as const;

export class PrometheusListener {
  readonly #endpoint: MetricsEndpoint;
  readonly #server: Server;

  constructor(endpoint: MetricsEndpoint) {
    this.#endpoint = endpoint;
    this.#server = createServer(
      {
        maxHeaderSize: METRICS_LISTENER_LIMITS.maxHeaderBytes,
        headersTimeout: METRICS_LISTENER_LIMITS.headersTimeoutMs,
        requestTimeout: METRICS_LISTENER_LIMITS.requestTimeoutMs,
        // How often those two are checked (Node's default, 30 s, would let a slow head linger).
        connectionsCheckingInterval: METRICS_LISTENER_LIMITS.checkEveryMs,
        // Prometheus keeps its connection between scrapes (every 15 s by default); an idle one
        // holds one of the few connection slots only this long.
        keepAliveTimeout: METRICS_LISTENER_LIMITS.keepAliveTimeoutMs,
      },
      (request, response) => void this.#answer(request, response),
    );
    // Connections past this are dropped; a malformed or oversized head gets Node's own 400/431.
    this.#server.maxConnections = METRICS_LISTENER_LIMITS.maxConnections;
    this.#server.setTimeout(METRICS_LISTENER_LIMITS.idleTimeoutMs, (socket) => socket.destroy());
  }

  /** Listens; resolves with `http://host:port/metrics`. */
  async listen(host: string, port: number): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      const failed = (error: Error) => reject(error);
      this.#server.once('error', failed);
      this.#server.listen({ host, port }, () => {
        this.#server.removeListener('error', failed);
        resolve();
      });
    });
    const address = this.#server.address() as AddressInfo;
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${shown}:${address.port}${METRICS_PATH}`;
  }

  /** Stops listening and ends every connection. */
  async close(): Promise<void> {
    if (!this.#server.listening) return;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  async #answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const path = (request.url ?? '').split('?')[0];
      const answer =
        path === METRICS_PATH
          ? await answerMetricsRequest(this.#endpoint, {
              method: request.method ?? '',
              headers: request.headers,
              remoteAddress: request.socket.remoteAddress,
              remotePort: request.socket.remotePort,
            })
          : {
              status: 404,
              headers: { 'content-type': 'text/plain; charset=utf-8', connection: 'close' },
              body: 'Not Found: this port serves /metrics only.\n',
            };
      // Nothing of a body is read: a request that sent one loses its connection.
      const close = answer.headers['connection'] === 'close' || !request.complete;
      response.writeHead(answer.status, {
        ...answer.headers,
        ...(close ? { connection: 'close' } : {}),
        'content-length': Buffer.byteLength(answer.body),
      });
      response.end(answer.body);
      if (close) response.once('finish', () => request.socket.destroySoon());
    } catch (error) {
      this.#endpoint.onError(error);
      response.destroy();
    }
  }
}
