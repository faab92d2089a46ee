/**
 * Where function URL requests enter the HTTP edge: a request whose Host is `<url-id>.<domain>` is
 * rewritten (before routing) onto the path form `/lambda-url/<url-id>/<path>`, which clients that
 * cannot set the Host may also call directly. Both reach one route, exempt from the API's SigV4
 * check (AWS_IAM URLs do their own): the URL is admitted from its head in `onRequest`
 * (`urlRequestHead`, `FunctionUrlHandler.admit`), before the body is read.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { urlIdFromHost } from '../core/function-url.js';
import { LIMITS } from '../core/limits.js';
import { bodySha256Hex } from '../core/sigv4-canonical.js';
import type { ReceivedBody } from './body-reader.js';
import type {
  FunctionUrlHandler,
  FunctionUrlRequest,
  UrlRequestHead,
} from './function-url-handler.js';
import type { UrlResponse } from './function-url-response.js';

/** The path prefix of the path form. */
export const URL_PATH_PREFIX = '/lambda-url';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** Fastify's `rewriteUrl`: Host-addressed URL requests onto the path form; others unchanged. */
export function functionUrlRewrite(domains: readonly string[]): (req: IncomingMessage) => string {
  return (req) => {
    const url = req.url ?? '/';
    const urlId = urlIdFromHost(req.headers.host, domains);
    return urlId === undefined ? url : `${URL_PATH_PREFIX}/${urlId}${url}`;
  };
}

/** Registers the URL route (any method, any path below the url id). */
export function registerFunctionUrlRoutes(
  app: FastifyInstance,
  handler: FunctionUrlHandler,
  domains: readonly string[],
): void {
  for (const path of [`${URL_PATH_PREFIX}/:urlId`, `${URL_PATH_PREFIX}/:urlId/*`]) {
    app.route({
      method: METHODS,
      url: path,
      exposeHeadRoute: false,
      config: {
        operation: 'InvokeFunctionUrl',
        tooLarge: 'RequestTooLargeException',
        bodyLimit: LIMITS.invokePayloadBytes,
        functionUrl: true,
      },
      handler: async (request, reply) => {
        const admitted = request.lambdaUrl;
        // onRequest admits every URL request it lets through to here.
        if (admitted === undefined) throw new Error('A function URL request was not admitted.');
        return sendUrlAnswer(reply, await handler.handle(urlRequest(request, domains), admitted));
      },
    });
  }
}

/** What `FunctionUrlHandler.admit` needs of a URL request, all from its head. */
export function urlRequestHead(request: FastifyRequest): UrlRequestHead {
  return {
    urlId: (request.params as { urlId: string }).urlId,
    method: request.method,
    headers: request.headers,
    requestId: request.lambdaRequestId,
    signed: { method: request.method, rawUrl: request.originalUrl, headers: request.headers },
  };
}

/** Sends a URL answer. */
export function sendUrlAnswer(reply: FastifyReply, answer: UrlResponse): FastifyReply {
  void reply.status(answer.status);
  for (const [name, value] of Object.entries(answer.headers)) void reply.header(name, value);
  return reply.send(answer.body);
}

function urlRequest(request: FastifyRequest, domains: readonly string[]): FunctionUrlRequest {
  const urlId = (request.params as { urlId: string }).urlId;
  const original = request.originalUrl;
  const queryAt = original.indexOf('?');
  let path = queryAt < 0 ? original : original.slice(0, queryAt);
  const host = request.headers.host;
  const viaHost = urlIdFromHost(host, domains) !== undefined;
  if (!viaHost) path = path.slice(`${URL_PATH_PREFIX}/${urlId}`.length);
  const received = request.body as ReceivedBody | undefined;
  const body = received?.bytes ?? Buffer.alloc(0);
  return {
    method: request.method,
    rawPath: path === '' ? '/' : path,
    rawQueryString: queryAt < 0 ? '' : original.slice(queryAt + 1),
    rawHeaders: request.raw.rawHeaders,
    headers: request.headers,
    body,
    sourceIp: request.ip,
    urlId,
    domainName: viaHost
      ? (host ?? '').replace(/:\d+$/, '').toLowerCase()
      : `${urlId}.${domains[0] ?? 'localhost'}`,
    requestId: request.lambdaRequestId,
    timeMs: Date.now(),
    protocol: 'http',
    port: String(request.socket.localPort ?? ''),
    receivedBytes: received?.receivedBytes ?? 0,
    payloadSha256Hex: received?.sha256Hex ?? bodySha256Hex(body),
  };
}
