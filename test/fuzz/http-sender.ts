/**
 * Sends well-formed HTTP requests to a server (TCP or a unix socket) with undici, signed with SigV4
 * exactly as the AWS SDK signs Lambda requests (`@smithy/signature-v4`, service `lambda`, the path
 * encoded once on the wire and twice in the canonical request), or unsigned. Answers are read
 * whole; a request without an answer within the deadline is reported as a hang.
 */
import { Hash } from '@smithy/core/serde';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { errors, Pool } from 'undici';
import { escapeBytes } from './fuzz-tally.js';
import { percentEncode } from './mutations.js';
import { sendRaw, type SocketTarget } from './raw-http.js';

/** One request as the generators describe it. */
export interface HttpCase {
  readonly method: string;
  /** The path as sent (labels already percent-encoded), without the query. */
  readonly path: string;
  readonly query: readonly (readonly [string, string])[];
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  readonly body: Buffer;
}

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** How a request is signed; the fields other than `credentials` spoil the signature on purpose. */
export interface Signing {
  readonly credentials: Credentials;
  readonly region?: string;
  readonly signingDate?: Date;
  /** Applied to the signed headers before sending. */
  readonly tamper?: (headers: Record<string, string | readonly string[]>) => void;
}

/** What came back: an HTTP status, or `hang`, `closed` (no answer), `client-refused` (not sent). */
export interface HttpAnswer {
  readonly status: number | 'hang' | 'closed' | 'client-refused';
  readonly errorType: string | undefined;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  /** The request as it went on the wire (head and body), for reports. */
  readonly wire: Buffer;
  readonly detail?: string;
}

/** RFC 3986 escaping, as SigV4 canonicalises query strings. */
export function escapeUri(text: string): string {
  return percentEncode(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export function queryString(query: HttpCase['query']): string {
  return query.map(([key, value]) => `${escapeUri(key)}=${escapeUri(value)}`).join('&');
}

export class HttpSender {
  #pool: Pool;
  readonly #makePool: () => Pool;
  readonly #target: SocketTarget;
  /** The Host header requests carry (`host:port` of the origin). */
  readonly host: string;
  readonly #timeoutMs: number;

  /** `origin` is `http://host:port` (or `http://localhost` with `socketPath`). */
  constructor(
    origin: string,
    options: { connections: number; timeoutMs: number; socketPath?: string },
  ) {
    const url = new URL(origin);
    this.#makePool = () =>
      new Pool(origin, {
        connections: options.connections,
        pipelining: 1,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        ...(options.socketPath === undefined ? {} : { socketPath: options.socketPath }),
      });
    this.#pool = this.#makePool();
    this.#target =
      options.socketPath === undefined
        ? { host: url.hostname, port: Number(url.port) }
        : { path: options.socketPath };
    this.host = url.host;
    this.#timeoutMs = options.timeoutMs;
  }

  /** Sends a case, signed when `signing` is given; `signal` cuts a long poll short. */
  async send(request: HttpCase, signing?: Signing, signal?: AbortSignal): Promise<HttpAnswer> {
    const search = queryString(request.query);
    const target = search === '' ? request.path : `${request.path}?${search}`;
    let headers: Record<string, string | readonly string[]> = { ...request.headers };
    const empty = { errorType: undefined, headers: {}, body: Buffer.alloc(0) };
    try {
      if (signing !== undefined) headers = await this.signedHeaders(request, signing);
    } catch (error) {
      // What a real SDK could not sign either (e.g. a lone surrogate in the query).
      const wire = wireBytes(request.method, target, this.host, headers, request.body);
      return { ...empty, status: 'client-refused', detail: String(error), wire };
    }
    if (undiciRefuses(request.method, target, headers, request.body.length)) {
      // undici would refuse it (and, in 7.30, leave a pool slot behind): the bytes go raw.
      return this.#sendRaw(
        wireBytes(request.method, target, this.host, headers, request.body, 'utf8'),
      );
    }
    const wire = wireBytes(request.method, target, this.host, headers, request.body);
    try {
      const response = await this.#pool.request({
        method: request.method,
        path: target,
        headers: headers as Record<string, string | string[]>,
        body: request.body.length === 0 && request.method === 'GET' ? null : request.body,
        ...(signal === undefined ? {} : { signal }),
      });
      const body = Buffer.from(await response.body.arrayBuffer());
      const errorType = response.headers['x-amzn-errortype'];
      return {
        status: response.statusCode,
        errorType: Array.isArray(errorType) ? errorType[0] : errorType,
        headers: response.headers,
        body,
        wire,
      };
    } catch (error) {
      if (error instanceof errors.InvalidArgumentError) this.#replacePool();
      return { ...empty, ...failure(error, this.#timeoutMs), wire };
    }
  }

  async #sendRaw(wire: Buffer): Promise<HttpAnswer> {
    const raw = await sendRaw(this.#target, [wire], this.#timeoutMs);
    // An interim answer (100 Continue to an Expect header) is not the answer.
    const final = raw.statuses.find((code) => code >= 200);
    const status = raw.timedOut ? 'hang' : (final ?? 'closed');
    return {
      status,
      errorType: raw.errorTypes[0],
      headers: {},
      body: Buffer.from(raw.head, 'latin1'),
      wire,
      ...(raw.timedOut ? { detail: `no answer within ${this.#timeoutMs} ms (sent raw)` } : {}),
    };
  }

  /** A pool that refused a request may keep a slot for it forever: it is let go. */
  #replacePool(): void {
    const old = this.#pool;
    this.#pool = this.#makePool();
    void old.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.#pool.destroy();
  }

  /** The headers to send for `request` signed as `signing` says (Host left to the client). */
  async signedHeaders(
    request: HttpCase,
    signing: Signing,
  ): Promise<Record<string, string | readonly string[]>> {
    const signer = new SignatureV4({
      credentials: signing.credentials,
      region: signing.region ?? 'us-east-1',
      service: 'lambda',
      sha256: Hash.bind(null, 'sha256'),
    });
    const query: Record<string, string | string[]> = {};
    for (const [key, value] of request.query) {
      const before = query[key];
      query[key] =
        before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
    }
    const unsignedHeaders: Record<string, string> = { host: this.host };
    for (const [name, value] of Object.entries(request.headers))
      unsignedHeaders[name] = typeof value === 'string' ? value : value.join(', ');
    if (request.body.length > 0) unsignedHeaders['content-length'] = String(request.body.length);
    const signed = await signer.sign(
      new HttpRequest({
        method: request.method,
        protocol: 'http:',
        hostname: this.host.split(':')[0] ?? 'localhost',
        path: request.path,
        query,
        headers: unsignedHeaders,
        body: request.body,
      }),
      signing.signingDate === undefined ? {} : { signingDate: signing.signingDate },
    );
    const headers: Record<string, string | readonly string[]> = { ...signed.headers };
    // undici writes Host itself, from the origin; the value is the one that was signed.
    delete headers['host'];
    signing.tamper?.(headers);
    return headers;
  }
}

function failure(error: unknown, timeoutMs: number): Pick<HttpAnswer, 'status' | 'detail'> {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError)
    return { status: 'hang', detail: `no answer within ${timeoutMs} ms (${message})` };
  if (error instanceof errors.InvalidArgumentError)
    return { status: 'client-refused', detail: message };
  if (error instanceof Error && error.name === 'AbortError')
    return { status: 'closed', detail: 'aborted' };
  return { status: 'closed', detail: message };
}

/** The request as HTTP/1.1 bytes (what undici writes, give or take header order). */
export function wireBytes(
  method: string,
  target: string,
  host: string,
  headers: Readonly<Record<string, string | readonly string[]>>,
  body: Buffer,
  encoding: 'latin1' | 'utf8' = 'latin1',
): Buffer {
  const lines = [`${method} ${target} HTTP/1.1`];
  if (headers['host'] === undefined) lines.push(`host: ${host}`);
  for (const [name, value] of Object.entries(headers))
    for (const item of typeof value === 'string' ? [value] : value) lines.push(`${name}: ${item}`);
  if (body.length > 0 && headers['content-length'] === undefined)
    lines.push(`content-length: ${body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, encoding), body]);
}

/** The answer's body as short readable text, for reports. */
export function answerText(answer: HttpAnswer, max = 600): string {
  return answer.detail ?? escapeBytes(answer.body, max);
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Headers undici manages itself and refuses to be given. */
const UNDICI_OWN = new Set(['connection', 'transfer-encoding', 'keep-alive', 'upgrade', 'expect']);

/** Whether undici 7 would refuse to send this request (its argument checks). */
function undiciRefuses(
  method: string,
  target: string,
  headers: Readonly<Record<string, string | readonly string[]>>,
  bodyBytes: number,
): boolean {
  if (!TOKEN.test(method) || method === 'CONNECT') return true;
  if (!target.startsWith('/') || /[^\u0021-\u00ff]/.test(target)) return true;
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name) || UNDICI_OWN.has(name.toLowerCase())) return true;
    for (const item of typeof value === 'string' ? [value] : value)
      if (!HEADER_VALUE.test(item)) return true;
    if (name.toLowerCase() === 'content-length' && value !== String(bodyBytes)) return true;
  }
  return false;
}
