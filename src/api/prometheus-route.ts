/**
 * `GET /metrics` on the API port. The route is marked `metricsEndpoint`, so the API's hooks skip
 * SigV4 and IAM for it (Prometheus cannot sign) and it applies its own rule instead
 * (prometheus-endpoint.ts). With the metrics on their own port (`--metrics-port`), the API port
 * answers 404 here, without a signature, as for a path it does not serve.
 */
import type { FastifyInstance } from 'fastify';
import { LambdaError } from '../core/errors.js';
import { answerMetricsRequest, type MetricsEndpoint } from './prometheus-endpoint.js';

export const METRICS_PATH = '/metrics';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `/metrics`: no SigV4, no IAM; a bearer token or loopback clients (see prometheus-access). */
    metricsEndpoint?: boolean;
  }
}

/** Registers `GET` (and so `HEAD`) `/metrics`; `endpoint` undefined: served elsewhere (404). */
export function registerMetricsRoute(
  app: FastifyInstance,
  endpoint: MetricsEndpoint | undefined,
): void {
  app.route({
    method: 'GET',
    url: METRICS_PATH,
    config: { metricsEndpoint: true },
    handler: async (request, reply) => {
      if (endpoint === undefined)
        throw new LambdaError(
          'UnknownOperationException',
          `Lamina does not implement ${request.method} ${METRICS_PATH} on this port.`,
        );
      const answer = await answerMetricsRequest(endpoint, {
        method: request.method,
        headers: request.headers,
        remoteAddress: request.raw.socket.remoteAddress,
        remotePort: request.raw.socket.remotePort,
      });
      return reply.status(answer.status).headers(answer.headers).send(answer.body);
    },
  });
}
