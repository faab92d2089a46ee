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
import { FunctionUrlHandler } from './function-url-handler.js';
import { functionUrlRewrite, registerFunctionUrlRoutes } from './function-url-routes.js';
import { ROUTES, type Route } from './route-table.js';

/** What the HTTP API needs; `verifier` undefined means authentication is off (`--auth none`). */
export interface LambdaHttpApiOptions {
  readonly context: ApiContext;
  readonly verifier: Sigv4Verifier | undefined;
  readonly logger: FastifyBaseLogger;
  /** Domains under which `<url-id>.<domain>` Host headers address function URLs. */
  readonly urlDomains: readonly string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    lambdaRequestId: string;
  }
  interface FastifyContextConfig {
    operation?: string;
    tooLarge?: ErrorCode;
    /** Function URL requests skip the API's SigV4 check (AWS_IAM URLs do their own). */
    functionUrl?: boolean;
  }
}

/** Builds (does not start) the Fastify instance serving the Lambda API. */
export function buildLambdaHttpApi(options: LambdaHttpApiOptions): FastifyInstance {
  const app = Fastify({
    // Fastify logs every request at info; Lamina keeps the access log quiet and logs failures.
    loggerInstance: options.logger.child({}, { level: 'warn' }),
    // No child logger per request (a pino child is built for every call otherwise): failures are
    // logged with their request id explicitly.
    childLoggerFactory: (logger) => logger,
    bodyLimit: Math.max(...ROUTES.map((r) => readLimit(r.bodyLimit))),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 4096 },
    forceCloseConnections: 'idle',
    rewriteUrl: functionUrlRewrite(options.urlDomains),
  });
  app.decorateRequest('lambdaRequestId', '');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (request, reply) => {
    request.lambdaRequestId = randomUUID();
    void reply.header('x-amzn-RequestId', request.lambdaRequestId);
  });
  app.addHook('preHandler', async (request) => {
    if (request.routeOptions.config.functionUrl === true) return;
    if (options.verifier !== undefined) await options.verifier.verify(incoming(request));
  });

  for (const route of ROUTES) registerRoute(app, route, options.context);
  const urls = new FunctionUrlHandler({ context: options.context, verifier: options.verifier });
  registerFunctionUrlRoutes(app, urls, options.urlDomains, readLimit);

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

/**
 * How much of a body is read before refusing it. A body a little over the limit is read whole and
 * then refused, so the client gets its 413 instead of a connection reset in the middle of sending;
 * only far larger bodies are cut off early.
 */
function readLimit(limit: number): number {
  return Math.max(2 * limit, limit + 1024 * 1024);
}

function registerRoute(app: FastifyInstance, route: Route, context: ApiContext): void {
  const config = {
    operation: route.operation,
    tooLarge: route.tooLarge ?? 'RequestEntityTooLargeException',
  };
  app.route({
    method: route.method,
    url: route.path,
    bodyLimit: readLimit(route.bodyLimit),
    config,
    handler: async (request, reply) => {
      const req = apiRequest(request);
      if (req.body.length > route.bodyLimit)
        throw tooLarge(config.tooLarge, route.bodyLimit, route.operation);
      return send(reply, await route.handler(context, req));
    },
  });
}

function tooLarge(code: ErrorCode, limit: number, operation: string): LambdaError {
  return new LambdaError(
    code,
    `Request must be smaller than ${limit} bytes for the ${operation} operation`,
  );
}

function apiRequest(request: FastifyRequest): ApiRequest {
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  return {
    params: request.params as Record<string, string>,
    query: request.query as Record<string, string | string[]>,
    headers: request.headers,
    body,
    host: request.headers.host ?? 'localhost',
    requestId: request.lambdaRequestId,
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
    const route = ROUTES.find((r) => r.operation === request.routeOptions.config.operation);
    return tooLarge(
      request.routeOptions.config.tooLarge ?? 'RequestEntityTooLargeException',
      route?.bodyLimit ?? request.routeOptions.bodyLimit,
      request.routeOptions.config.operation ?? 'this',
    );
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = error instanceof Error ? error.message : 'Bad request';
    return new LambdaError('InvalidRequestContentException', message);
  }
  return error;
}
