/**
 * CORS for function URLs, from the URL's `Cors` configuration: the headers added to every answer
 * (replacing any the function set) and the answer Lamina gives to preflight requests itself.
 */
import type { UrlCors } from '../core/function-url.js';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

function first(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The allowed origin to echo, or undefined when the request's origin is not allowed. */
function allowedOrigin(cors: UrlCors, origin: string | undefined): string | undefined {
  const origins = cors.allowOrigins ?? [];
  if (origins.includes('*')) return '*';
  if (origin === undefined) return undefined;
  return origins.some((o) => o.toLowerCase() === origin.toLowerCase()) ? origin : undefined;
}

/** True for a CORS preflight: OPTIONS with `Origin` and `Access-Control-Request-Method`. */
export function isPreflight(method: string, headers: Headers): boolean {
  return (
    method === 'OPTIONS' &&
    first(headers, 'origin') !== undefined &&
    first(headers, 'access-control-request-method') !== undefined
  );
}

/** Headers for an actual (non-preflight) response. */
export function corsResponseHeaders(
  cors: UrlCors,
  requestHeaders: Headers,
): Record<string, string> {
  const origin = allowedOrigin(cors, first(requestHeaders, 'origin'));
  if (origin === undefined) return {};
  const out: Record<string, string> = { 'access-control-allow-origin': origin };
  if (origin !== '*') out['vary'] = 'Origin';
  if (cors.allowCredentials === true) out['access-control-allow-credentials'] = 'true';
  if (cors.exposeHeaders !== undefined && cors.exposeHeaders.length > 0)
    out['access-control-expose-headers'] = cors.exposeHeaders.join(',');
  return out;
}

/** Headers of Lamina's answer to a preflight (200, empty body). */
export function corsPreflightHeaders(
  cors: UrlCors,
  requestHeaders: Headers,
): Record<string, string> {
  const origin = allowedOrigin(cors, first(requestHeaders, 'origin'));
  const method = (first(requestHeaders, 'access-control-request-method') ?? '').toUpperCase();
  const methods = (cors.allowMethods ?? []).map((m) => m.toUpperCase());
  if (origin === undefined || !(methods.includes('*') || methods.includes(method))) return {};
  const out: Record<string, string> = {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': methods.join(','),
  };
  if (origin !== '*') out['vary'] = 'Origin';
  if (cors.allowHeaders !== undefined && cors.allowHeaders.length > 0)
    out['access-control-allow-headers'] = cors.allowHeaders.join(',');
  if (cors.allowCredentials === true) out['access-control-allow-credentials'] = 'true';
  if (cors.maxAge !== undefined) out['access-control-max-age'] = String(cors.maxAge);
  if (cors.exposeHeaders !== undefined && cors.exposeHeaders.length > 0)
    out['access-control-expose-headers'] = cors.exposeHeaders.join(',');
  return out;
}

/** A function's response headers with its own `access-control-*` ones removed. */
export function withoutCorsHeaders<T>(headers: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !name.startsWith('access-control-')),
  );
}
