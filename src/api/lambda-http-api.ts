/**
 * The HTTP edge of the control API: Fastify with its own body reading, a request id and Date on
 * every response, SigV4 in two steps around the body, the route table, and one error renderer for
 * everything that goes wrong.
 *
 * `onRequest` decides what the head alone can, before a byte of the body is read: the signature's
 * credentials, scope and date (function URLs: the URL, its auth type), the size the route allows,
 * and room in the server's budget of body bytes in flight. A refusal there answers at once and
 * lets the connection go unread (early-answer.ts), so an unsigned or unaffordable upload costs
 * neither memory nor reading.
 * The body parser then reads within that (body-reader.ts), and `preHandler` completes the
 * signature with the body's hash.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { bodyBudgetExceeded, type BodyBudget, type BodyClaim } from '../core/body-budget.js';
import { LambdaError, type ErrorCode } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import { bodySha256Hex } from '../core/sigv4-canonical.js';
import type { PendingSignature, RequestHead, Sigv4Verifier } from '../core/sigv4-verifier.js';
import type { ApiContext, ApiRequest, ApiResponse } from './api-types.js';
import {
  BODY_METHODS,
  bodyStillArriving,
  declaredBodyBytes,
  readBody,
  type ReceivedBody,
} from './body-reader.js';
import { answerBeforeBody, LingeringSockets } from './early-answer.js';
import { renderError, type RenderedError } from './error-response.js';
import { FunctionUrlHandler, type UrlAdmitted } from './function-url-handler.js';
import {
  functionUrlRewrite,
  registerFunctionUrlRoutes,
  sendUrlAnswer,
  urlRequestHead,
} from './function-url-routes.js';
import {
  authorizeControlRequest,
  checkSignedService,
  queryServiceOf,
  registerQueryRoute,
  rpcServiceOfRequest,
  urlAuthorizer,
  type IdentityEdge,
} from './identity-routes.js';
import { renderQueryError } from './query-protocol.js';
import { ROUTES, type Route } from './route-table.js';
import type { RpcService } from './rpc-service.js';
import { renderSchedulerError, SCHEDULER_ROUTES } from './scheduler-routes.js';
import { closeSilentConnectionsOnClose } from './silent-connections.js';
import type { MetricsEndpoint } from './prometheus-endpoint.js';
import { registerMetricsRoute } from './prometheus-route.js';

/** What the HTTP API needs; `verifier` undefined means authentication is off (`--auth none`). */
export interface LambdaHttpApiOptions {
  readonly context: ApiContext;
  readonly verifier: Sigv4Verifier | undefined;
  readonly logger: FastifyBaseLogger;
  /** Domains under which `<url-id>.<domain>` Host headers address function URLs. */
  readonly urlDomains: readonly string[];
  /** The server's budget of request-body bytes in flight, shared by every request. */
  readonly bodyBudget: BodyBudget;
  /** IAM and STS at `POST /`, and policies applied to IAM users' and roles' requests. */
  readonly identity?: IdentityEdge | undefined;
  /** The other services at `POST /` (CloudWatch Logs, CloudWatch metrics). */
  readonly rpcServices?: readonly RpcService[] | undefined;
  /** `GET /metrics` (Prometheus); undefined: served on its own port, or not at all (404). */
  readonly metrics?: MetricsEndpoint | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    lambdaRequestId: string;
    /** The API signature as checked from the head; completed with the body's hash. */
    lambdaSignature: PendingSignature | undefined;
    /** A function URL request as admitted from its head. */
    lambdaUrl: UrlAdmitted | undefined;
    /** This request's share of the body budget (methods with bodies). */
    lambdaBodyClaim: BodyClaim | undefined;
  }
  interface FastifyContextConfig {
    operation?: string;
    tooLarge?: ErrorCode;
    /** Largest body accepted, in bytes (default: the control API's 6 MB). */
    bodyLimit?: number;
    /** Code uploads: `ZipFile` values are decoded while the body arrives. */
    liftZipFiles?: boolean;
    /** Function URL requests skip the API's SigV4 check (AWS_IAM URLs do their own). */
    functionUrl?: boolean;
    /** IAM and STS (Query protocol; errors in XML), and the other services at `POST /`. */
    queryApi?: boolean;
    /** The signing names accepted at `POST /`. */
    queryServices?: readonly string[];
    /** EventBridge Scheduler (signed for `scheduler`; its error shape). */
    schedulerApi?: boolean;
  }
}

/** Builds (does not start) the Fastify instance serving the Lambda API. */
export function buildLambdaHttpApi(options: LambdaHttpApiOptions): FastifyInstance {
  const { verifier, bodyBudget, identity } = options;
  const app = Fastify({
    // Fastify logs every request at info; Lamina keeps the access log quiet and logs failures.
    loggerInstance: options.logger.child({}, { level: 'warn' }),
    // No child logger per request (a pino child is built for every call otherwise): failures are
    // logged with their request id explicitly.
    childLoggerFactory: (logger) => logger,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 4096 },
    forceCloseConnections: 'idle',
    rewriteUrl: functionUrlRewrite(options.urlDomains),
  });
  app.decorateRequest('lambdaRequestId', '');
  app.decorateRequest('lambdaSignature', undefined);
  app.decorateRequest('lambdaUrl', undefined);
  app.decorateRequest('lambdaBodyClaim', undefined);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', async (request: FastifyRequest, payload: IncomingMessage) => {
    const claim = request.lambdaBodyClaim;
    // onRequest claims for every method whose body Fastify reads.
    if (claim === undefined) throw new Error('A request body was read without a claim.');
    const config = request.routeOptions.config;
    const limit = config.bodyLimit ?? LIMITS.controlRequestBytes;
    return readBody(
      payload,
      {
        limitBytes: limit,
        readLimitBytes: readLimit(limit),
        declaredBytes: declaredBodyBytes(request.headers),
        hash: request.lambdaSignature !== undefined || request.lambdaUrl?.pending !== undefined,
        liftZipFiles: config.liftZipFiles === true,
        tooLarge: () => tooLargeFor(request),
      },
      claim,
    );
  });

  const urls = new FunctionUrlHandler({
    context: options.context,
    verifier,
    authorize: identity === undefined ? undefined : urlAuthorizer(identity, options.context.scope),
  });
  const lingering = new LingeringSockets();
  app.addHook('onRequest', async (request, reply) => {
    request.lambdaRequestId = randomUUID();
    void reply.header('x-amzn-RequestId', request.lambdaRequestId);
    // Prometheus cannot sign: /metrics has its own rule (a bearer token or loopback) and no body.
    if (request.routeOptions.config.metricsEndpoint === true) return undefined;
    if (request.routeOptions.config.functionUrl === true) {
      const admission = await urls.admit(urlRequestHead(request));
      if (admission.kind === 'answered') {
        const { answer } = admission;
        return bodyStillArriving(request.raw)
          ? answerBeforeBody(request, reply, lingering, answer)
          : sendUrlAnswer(reply, answer);
      }
      request.lambdaUrl = admission;
    } else if (verifier !== undefined) {
      request.lambdaSignature = verifier.authenticate(requestHead(request));
      checkSignedService(request);
    }
    claimBody(request, reply, bodyBudget);
    return undefined;
  });
  app.addHook('preHandler', async (request) => {
    const pending = request.lambdaSignature;
    if (pending !== undefined && verifier !== undefined) {
      await verifier.complete(pending, payloadSha256Hex(request));
    }
    const { config } = request.routeOptions;
    if (identity !== undefined && config.queryApi !== true && config.metricsEndpoint !== true)
      await authorizeControlRequest(request, identity, options.context.scope);
  });

  for (const route of [...ROUTES, ...SCHEDULER_ROUTES]) registerRoute(app, route, options.context);
  const rpcServices = options.rpcServices ?? [];
  if (identity !== undefined) registerQueryRoute(app, identity, rpcServices);
  registerFunctionUrlRoutes(app, urls, options.urlDomains);
  registerMetricsRoute(app, options.metrics);

  app.setNotFoundHandler(async (request, reply) => {
    const pending = request.lambdaSignature;
    if (pending !== undefined && verifier !== undefined) {
      await verifier.complete(pending, payloadSha256Hex(request));
    }
    throw new LambdaError(
      'UnknownOperationException',
      `Lamina does not implement ${request.method} ${request.url.split('?')[0] ?? ''}.`,
    );
    return reply;
  });

  app.setErrorHandler(async (error, request, reply) => {
    const { config } = request.routeOptions;
    const rendered =
      config.queryApi === true
        ? queryErrorAnswer(request, error, rpcServices)
        : config.schedulerApi === true
          ? renderSchedulerError(toLambdaError(error), request.lambdaRequestId)
          : renderError(toLambdaError(error), request.lambdaRequestId);
    if (rendered.status >= 500) logFailure(request, error);
    // Refused before its body arrived (credentials, size, budget): the rest is not read.
    if (bodyStillArriving(request.raw))
      return answerBeforeBody(request, reply, lingering, rendered);
    return reply.status(rendered.status).headers(rendered.headers).send(rendered.body);
  });
  app.addHook('onClose', (_instance, done) => {
    lingering.destroyAll();
    done();
  });
  closeSilentConnectionsOnClose(app);
  return app;
}

/**
 * An error of a `POST /` request before its handler ran (a signature, a size): in XML for IAM and
 * STS, in its own service's shape otherwise.
 */
function queryErrorAnswer(
  request: FastifyRequest,
  error: unknown,
  rpcServices: readonly RpcService[],
): RenderedError {
  const rpc = rpcServiceOfRequest(request, rpcServices);
  if (rpc !== undefined) return rpc.renderError(error, request.headers, request.lambdaRequestId);
  const { status, body } = renderQueryError(
    queryServiceOf(request),
    error,
    request.lambdaRequestId,
  );
  return { status, headers: { 'content-type': 'text/xml' }, body };
}

/** A 5xx is the server's failure, unless all that failed is sending to a client that hung up. */
function logFailure(request: FastifyRequest, error: unknown): void {
  const details = {
    err: error,
    requestId: request.lambdaRequestId,
    method: request.method,
    route: request.routeOptions.url,
  };
  const hungUp =
    (error as { code?: unknown }).code === 'ERR_STREAM_PREMATURE_CLOSE' &&
    request.raw.socket.destroyed;
  if (hungUp) request.log.info(details, 'the client hung up before its answer was sent');
  else request.log.error(details, 'request failed');
}

/**
 * Takes this request's share of the body budget before its body is read: all of a declared
 * Content-Length at once (refused with 413 when the route would never take it, 429 when the
 * budget has no room), a chunked body as it arrives. Given back when the response closes, whether
 * it was sent, failed or the client went away, or when the connection does.
 */
function claimBody(request: FastifyRequest, reply: FastifyReply, budget: BodyBudget): void {
  if (!BODY_METHODS.has(request.method)) return;
  const declared = declaredBodyBytes(request.headers);
  const limit = request.routeOptions.config.bodyLimit ?? LIMITS.controlRequestBytes;
  if (declared !== undefined && declared > readLimit(limit)) throw tooLargeFor(request);
  const claim = budget.open();
  request.lambdaBodyClaim = claim;
  // The response's close is the rule; the connection's close covers a response that never got
  // the socket (a pipelined request behind one that failed).
  const socket = request.raw.socket;
  const release = () => {
    claim.release();
    socket.removeListener('close', release);
  };
  reply.raw.once('close', release);
  socket.once('close', release);
  if (declared !== undefined && !claim.take(declared)) throw bodyBudgetExceeded();
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
    bodyLimit: route.bodyLimit,
    liftZipFiles: route.liftZipFiles === true,
    schedulerApi: route.service === 'scheduler',
  };
  app.route({
    method: route.method,
    url: route.path,
    config,
    handler: async (request, reply) => {
      const received = request.body as ReceivedBody | undefined;
      if ((received?.receivedBytes ?? 0) > route.bodyLimit) throw tooLargeFor(request);
      return send(reply, await route.handler(context, apiRequest(request, received)));
    },
  });
}

function tooLargeFor(request: FastifyRequest): LambdaError {
  const config = request.routeOptions.config;
  return new LambdaError(
    config.tooLarge ?? 'RequestEntityTooLargeException',
    `Request must be smaller than ${config.bodyLimit ?? LIMITS.controlRequestBytes} bytes for the ` +
      `${config.operation ?? 'this'} operation`,
  );
}

function apiRequest(request: FastifyRequest, received: ReceivedBody | undefined): ApiRequest {
  return {
    params: request.params as Record<string, string>,
    query: request.query as Record<string, string | string[]>,
    headers: request.headers,
    body: received?.bytes ?? Buffer.alloc(0),
    lifted: received?.lifted ?? [],
    host: request.headers.host ?? 'localhost',
    requestId: request.lambdaRequestId,
  };
}

function requestHead(request: FastifyRequest): RequestHead {
  return { method: request.method, rawUrl: request.raw.url ?? '/', headers: request.headers };
}

/** The SigV4 payload hash of what arrived (no body: the empty hash). */
function payloadSha256Hex(request: FastifyRequest): string {
  const received = request.body as ReceivedBody | undefined;
  return received?.sha256Hex ?? bodySha256Hex(received?.bytes);
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

/** Maps Fastify's own errors (bad framing, media types) to AWS errors. */
function toLambdaError(error: unknown): unknown {
  if (error instanceof LambdaError) return error;
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = error instanceof Error ? error.message : 'Bad request';
    return new LambdaError('InvalidRequestContentException', message);
  }
  return error;
}
