/**
 * The HTTP edge of the control API: Fastify with raw-buffer bodies (so SigV4 can hash exactly what
 * arrived), a request id and Date on every response, SigV4 before any handler, the route table,
 * and one error renderer for everything that goes wrong.
 */
import { randomUUID } from 'node:crypto';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { LambdaError, type ErrorCode } from '../core/errors.js';
import type { Sigv4Verifier } from '../core/sigv4-verifier.js';
import type { ApiContext, ApiRequest, ApiResponse } from './api-types.js';
import { renderError } from './error-response.js';
import { ROUTES, type Route } from './route-table.js';

/** What the HTTP API needs; `verifier` undefined means authentication is off (`--auth none`). */
export interface LambdaHttpApiOptions {
  readonly context: ApiContext;
  readonly verifier: Sigv4Verifier | undefined;
  readonly logger: FastifyBaseLogger;
}

declare module 'fastify' {
  interface FastifyRequest {
    lambdaRequestId: string;
  }
  interface FastifyContextConfig {
    operation?: string;
    tooLarge?: ErrorCode;
  }
}

/** Builds (does not start) the Fastify instance serving the Lambda API. */
export function buildLambdaHttpApi(options: LambdaHttpApiOptions): FastifyInstance {
  const app = Fastify({
    // Fastify logs every request at info; Lamina keeps the access log quiet and logs failures.
    loggerInstance: options.logger.child({}, { level: 'warn' }),
    bodyLimit: Math.max(...ROUTES.map((r) => r.bodyLimit)),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 4096 },
    forceCloseConnections: 'idle',
  });
  app.decorateRequest('lambdaRequestId', '');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (request, reply) => {
    request.lambdaRequestId = randomUUID();
    void reply.header('x-amzn-RequestId', request.lambdaRequestId);
  });
  app.addHook('preHandler', async (request) => {
    if (options.verifier !== undefined) await options.verifier.verify(incoming(request));
  });

  for (const route of ROUTES) registerRoute(app, route, options.context);

  app.setNotFoundHandler(async (request, reply) => {
    if (options.verifier !== undefined) await options.verifier.verify(incoming(request));
    throw new LambdaError(
      'UnknownOperationException',
      `Lamina does not implement ${request.method} ${request.url.split('?')[0] ?? ''}.`,
    );
    return reply;
  });

  app.setErrorHandler(async (error, request, reply) => {
    const rendered = renderError(toLambdaError(error, request), request.lambdaRequestId);
    if (rendered.status >= 500)
      request.log.error({ err: error, requestId: request.lambdaRequestId }, 'request failed');
    return reply.status(rendered.status).headers(rendered.headers).send(rendered.body);
  });
  return app;
}

function registerRoute(app: FastifyInstance, route: Route, context: ApiContext): void {
  app.route({
    method: route.method,
    url: route.path,
    bodyLimit: route.bodyLimit,
    config: {
      operation: route.operation,
      tooLarge: route.tooLarge ?? 'RequestEntityTooLargeException',
    },
    handler: async (request, reply) =>
      send(reply, await route.handler(context, apiRequest(request))),
  });
}

function apiRequest(request: FastifyRequest): ApiRequest {
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  return {
    params: request.params as Record<string, string>,
    query: request.query as Record<string, string | string[]>,
    headers: request.headers,
    body,
    host: request.headers.host ?? 'localhost',
  };
}

function incoming(request: FastifyRequest) {
  return {
    method: request.method,
    rawUrl: request.raw.url ?? '/',
    headers: request.headers,
    body: Buffer.isBuffer(request.body) ? request.body : undefined,
  };
}

async function send(reply: FastifyReply, response: ApiResponse): Promise<FastifyReply> {
  void reply.status(response.status);
  if (response.headers !== undefined) void reply.headers(response.headers);
  if (response.stream !== undefined) return reply.send(response.stream);
  if (response.body !== undefined) return reply.send(response.body);
  if (response.json !== undefined) {
    return reply.header('content-type', 'application/json').send(JSON.stringify(response.json));
  }
  return reply.send();
}

/** Maps Fastify's own errors (body too large, bad framing) to AWS errors. */
function toLambdaError(error: unknown, request: FastifyRequest): unknown {
  if (error instanceof LambdaError) return error;
  const code = (error as { code?: unknown }).code;
  const status = (error as { statusCode?: unknown }).statusCode;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const limit = request.routeOptions.bodyLimit;
    const operation = request.routeOptions.config.operation ?? 'this';
    return new LambdaError(
      request.routeOptions.config.tooLarge ?? 'RequestEntityTooLargeException',
      `Request must be smaller than ${limit} bytes for the ${operation} operation`,
    );
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = error instanceof Error ? error.message : 'Bad request';
    return new LambdaError('InvalidRequestContentException', message);
  }
  return error;
}
