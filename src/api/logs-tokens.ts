/**
 * The paging tokens of the Logs API (`nextToken`, `nextForwardToken`, `nextBackwardToken`):
 * opaque to clients, but positions in the logs to the server, so each is sealed with an HMAC
 * under a key of this server's run, bound to its operation and log group (and stream), and
 * valid 24 hours as on AWS. A token that was forged, garbled, cut, taken from another group or
 * has expired opens as nothing, and the caller answers "The specified nextToken is invalid.".
 * Tokens do not outlive a server restart (its key is new).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { logsErrors } from './logs-errors.js';

/** How long a token is honoured (AWS: "The token expires after 24 hours"). */
export const TOKEN_LIFETIME_MS = 24 * 3_600_000;

/** Longest token looked at; longer text is no token of ours. */
const MAX_TOKEN_CHARS = 4096;

const MAC_BYTES = 18;

export class LogsTokens {
  readonly #key: Buffer;
  readonly #clock: Clock;

  constructor(key: Buffer, clock: Clock) {
    this.#key = key;
    this.#clock = clock;
  }

  /** A token carrying `value` for `kind` (the operation) in `scope` (the group, and stream). */
  seal(kind: string, scope: string, value: unknown): string {
    const payload = Buffer.from(
      JSON.stringify({ v: value, e: this.#clock.now() + TOKEN_LIFETIME_MS }),
    ).toString('base64url');
    return `${payload}.${this.#mac(kind, scope, payload)}`;
  }

  /** The value of a token sealed for `kind` and `scope`; throws InvalidParameterException. */
  open(kind: string, scope: string, token: string): unknown {
    const dot = token.indexOf('.');
    if (token.length > MAX_TOKEN_CHARS || dot < 0) throw logsErrors.invalidToken();
    const payload = token.slice(0, dot);
    const expected = Buffer.from(this.#mac(kind, scope, payload));
    const given = Buffer.from(token.slice(dot + 1));
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw logsErrors.invalidToken();
    let parsed: { v?: unknown; e?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof parsed;
    } catch {
      throw logsErrors.invalidToken();
    }
    if (typeof parsed.e !== 'number' || parsed.e < this.#clock.now())
      throw logsErrors.invalidToken();
    return parsed.v;
  }

  #mac(kind: string, scope: string, payload: string): string {
    return createHmac('sha256', this.#key)
      .update(`${kind}\n${scope}\n${payload}`)
      .digest()
      .subarray(0, MAC_BYTES)
      .toString('base64url');
  }
}
