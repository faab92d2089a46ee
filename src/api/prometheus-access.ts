/**
 * Who may read `/metrics`, decided from the request head alone. Prometheus cannot sign requests
 * with SigV4, so the endpoint has its own rule: with a token configured, `Authorization: Bearer
 * <token>` (compared in constant time) or 401; without one, loopback clients only (127.0.0.0/8,
 * ::1, ::ffff:127.x.x.x) or 403. Forwarding headers are not trusted: the socket's peer counts;
 * and a function's connection relayed to the API from inside its environment is no loopback
 * client, although its peer is the relay on this host.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIPv4 } from 'node:net';

export type MetricsAccess = 'allowed' | 'unauthorized' | 'forbidden';

/** Longest Authorization header looked at (a token is at most 512 characters). */
const MAX_AUTHORIZATION_CHARS = 1024;

/** A token's length bounds and characters (visible ASCII: it travels in a header). */
export const METRICS_TOKEN_RULES = { minChars: 16, maxChars: 512 } as const;

/** Why a token cannot be used, or undefined when it can. */
export function metricsTokenProblem(token: string): string | undefined {
  if (token.length < METRICS_TOKEN_RULES.minChars || token.length > METRICS_TOKEN_RULES.maxChars)
    return `must be ${METRICS_TOKEN_RULES.minChars} to ${METRICS_TOKEN_RULES.maxChars} characters`;
  if (!/^[\x21-\x7e]+$/.test(token)) return 'must be visible ASCII characters, without spaces';
  return undefined;
}

/** Whether the peer address is a loopback one (IPv4, IPv6, or IPv4-mapped IPv6). */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const lower = address.toLowerCase();
  if (lower === '::1') return true;
  const v4 = lower.startsWith('::ffff:') ? lower.slice('::ffff:'.length) : lower;
  return isIPv4(v4) && v4.startsWith('127.');
}

/** The decision for one request: its Authorization header (if any) and its peer's address. */
export function metricsAccess(
  token: string | undefined,
  authorization: string | undefined,
  remoteAddress: string | undefined,
  /** The connection was relayed from inside an environment (its loopback peer is the relay). */
  relayed = false,
): MetricsAccess {
  if (token === undefined) return isLoopback(remoteAddress) && !relayed ? 'allowed' : 'forbidden';
  if (authorization === undefined || authorization.length > MAX_AUTHORIZATION_CHARS)
    return 'unauthorized';
  const match = /^bearer +(\S+) *$/i.exec(authorization);
  if (match?.[1] === undefined) return 'unauthorized';
  return sameSecret(match[1], token) ? 'allowed' : 'unauthorized';
}

/** Compares digests, so neither the length nor a common prefix shows in the time taken. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}
