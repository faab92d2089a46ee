/**
 * Where function URL requests enter the HTTP edge: a request whose Host is `<url-id>.<domain>` is
 * rewritten (before routing) onto the path form `/lambda-url/<url-id>/<path>`, which clients that
 * cannot set the Host may also call directly. Both reach one route, exempt from the API's SigV4
 * check (AWS_IAM URLs do their own).
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { urlIdFromHost } from '../core/function-url.js';
import { LIMITS } from '../core/limits.js';
import type { FunctionUrlHandler, FunctionUrlRequest } from './function-url-handler.js';

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
  readLimit: (limit: number) => number,
): void {
  for (const path of [`${URL_PATH_PREFIX}/:urlId`, `${URL_PATH_PREFIX}/:urlId/*`]) {
    app.route({
      method: METHODS,
      url: path,
      exposeHeadRoute: false,
      bodyLimit: readLimit(LIMITS.invokePayloadBytes),
      config: {
        operation: 'InvokeFunctionUrl',
        tooLarge: 'RequestTooLargeException',
        functionUrl: true,
      },
      handler: async (request, reply) => {
        const answer = await handler.handle(urlRequest(request, domains));
        void reply.status(answer.status);
        for (const [name, value] of Object.entries(answer.headers)) void reply.header(name, value);
        return reply.send(answer.body);
      },
    });
  }
}

function urlRequest(request: FastifyRequest, domains: readonly string[]): FunctionUrlRequest {
  const urlId = (request.params as { urlId: string }).urlId;
  const original = request.originalUrl;
  const queryAt = original.indexOf('?');
  let path = queryAt < 0 ? original : original.slice(0, queryAt);
  const host = request.headers.host;
  const viaHost = urlIdFromHost(host, domains) !== undefined;
  if (!viaHost) path = path.slice(`${URL_PATH_PREFIX}/${urlId}`.length);
  const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
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
    signed: { method: request.method, rawUrl: original, headers: request.headers, body },
  };
}
