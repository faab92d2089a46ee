/**
 * GET requests to registries over node:http/https, with a connect time-out and a stall time-out
 * (no request hangs forever). HTTPS by default with Node's trust store (NODE_EXTRA_CA_CERTS works).
 * As Docker does, hosts in the insecure list and loopback hosts may speak plain HTTP: HTTPS is
 * tried first (without certificate checks) and HTTP is used when the TLS handshake fails; the
 * answer is remembered per host.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIPv4 } from 'node:net';
import { hostName } from '../core/image-reference.js';

/** How long to wait, in milliseconds. */
export interface TransportTimeouts {
  /** From the start of a request until the connection (and TLS handshake) is up. Default 15 s. */
  readonly connectMs: number;
  /**
   * The longest silence of a connection, waiting for headers or in a body. Default 60 s. Once
   * connected, a connection must also deliver MIN_PROGRESS_BYTES in every such period (or end):
   * a registry dripping a byte now and then is stalling too.
   */
  readonly stallMs: number;
}

/** The least a connection must deliver per stall period (1 KiB per minute by default). */
const MIN_PROGRESS_BYTES = 1024;
/** The most response headers may take: Node's default, fixed so no process flag raises it. */
const MAX_HEADER_BYTES = 16 * 1024;

export const DEFAULT_TIMEOUTS: TransportTimeouts = { connectMs: 15_000, stallMs: 60_000 };

/** Why a request got no answer: a failed TLS handshake, a time-out, or another network error. */
export class TransportError extends Error {
  readonly kind: 'tls' | 'timeout' | 'network';

  constructor(kind: 'tls' | 'timeout' | 'network', message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TransportError';
    this.kind = kind;
  }
}

export interface TransportOptions {
  /** Hosts (`host` for any port, or `host:port`) allowed to speak plain HTTP. */
  readonly insecureRegistries: readonly string[];
  readonly timeouts?: Partial<TransportTimeouts>;
}

export class RegistryTransport {
  readonly #insecure: ReadonlySet<string>;
  readonly #timeouts: TransportTimeouts;
  readonly #plainHosts = new Set<string>();

  constructor(options: TransportOptions) {
    this.#insecure = new Set(options.insecureRegistries.map((host) => host.toLowerCase()));
    this.#timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  }

  /** Whether `host` (`host[:port]`) may be reached over plain HTTP: insecure list or loopback. */
  allowsPlainHttp(host: string): boolean {
    const lower = host.toLowerCase();
    return (
      this.#insecure.has(lower) ||
      this.#insecure.has(hostName(lower)) ||
      isLoopback(hostName(lower))
    );
  }

  /** The URL of `path` on a registry host, with the scheme learned for it so far. */
  urlFor(host: string, path: string): URL {
    return new URL(`${this.#plainHosts.has(host) ? 'http' : 'https'}://${host}${path}`);
  }

  /**
   * GETs `url`. For an HTTPS URL of a host that may speak plain HTTP, a failed TLS handshake is
   * retried over HTTP (and remembered). A plain HTTP URL of another host is refused.
   */
  async get(url: URL, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    const plainOk = this.allowsPlainHttp(url.host);
    if (url.protocol === 'http:' && !plainOk)
      throw new TransportError(
        'tls',
        `refusing plain HTTP to ${url.host}: it is not an insecure registry`,
      );
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new TransportError('network', `unsupported URL scheme ${url.protocol}`);
    try {
      return await send(url, headers, this.#timeouts, plainOk, signal);
    } catch (error) {
      if (!(error instanceof TransportError) || error.kind !== 'tls' || !plainOk) throw error;
      if (url.protocol !== 'https:') throw error;
      const plain = new URL(url);
      plain.protocol = 'http:';
      const response = await send(plain, headers, this.#timeouts, plainOk, signal);
      this.#plainHosts.add(url.host);
      return response;
    }
  }
}

/** An answer: status, headers, the URL that answered and the body still to be read. */
export interface Response {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly url: URL;
  readonly body: IncomingMessage;
}

function send(
  url: URL,
  headers: Record<string, string>,
  timeouts: TransportTimeouts,
  skipVerify: boolean,
  signal: AbortSignal | undefined,
): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const options = {
      method: 'GET',
      headers: { 'user-agent': 'lamina', ...headers },
      agent: false as const,
      timeout: timeouts.stallMs,
      maxHeaderSize: MAX_HEADER_BYTES,
      ...(signal === undefined ? {} : { signal }),
      ...(secure ? { rejectUnauthorized: !skipVerify } : {}),
    };
    const request = secure ? httpsRequest(url, options) : httpRequest(url, options);
    let connected = false;
    let handshaken = !secure;
    let body: IncomingMessage | undefined;
    // A connection must make progress, not only avoid silence: MIN_PROGRESS_BYTES per stall period
    // (silence itself is left to the `timeout` event, which names it as such).
    let progressTimer: NodeJS.Timeout | undefined;
    const watchProgress = () => {
      let seen = request.socket?.bytesRead ?? 0;
      progressTimer ??= setInterval(() => {
        const read = request.socket?.bytesRead ?? seen;
        const delta = read - seen;
        seen = read;
        if (delta <= 0 || delta >= MIN_PROGRESS_BYTES) return;
        const error = new TransportError(
          'timeout',
          `${url.host} sent only ${delta} bytes in ${timeouts.stallMs} ms`,
        );
        body?.destroy(error);
        request.destroy(error);
      }, timeouts.stallMs);
    };
    request.on('close', () => clearInterval(progressTimer));
    const connectTimer = setTimeout(() => {
      request.destroy(
        new TransportError(
          'timeout',
          `no connection to ${url.host} within ${timeouts.connectMs} ms`,
        ),
      );
    }, timeouts.connectMs);
    request.on('socket', (socket) => {
      socket.once('connect', () => {
        connected = true;
        if (secure) return;
        clearTimeout(connectTimer);
        watchProgress();
      });
      socket.once('secureConnect', () => {
        handshaken = true;
        clearTimeout(connectTimer);
        watchProgress();
      });
    });
    request.on('timeout', () => {
      const error = new TransportError(
        'timeout',
        `${url.host} sent nothing for ${timeouts.stallMs} ms`,
      );
      body?.destroy(error);
      request.destroy(error);
    });
    request.on('response', (response) => {
      clearTimeout(connectTimer);
      body = response;
      resolve({ status: response.statusCode ?? 0, headers: response.headers, url, body: response });
    });
    request.on('error', (error) => {
      clearTimeout(connectTimer);
      reject(classify(error, url, connected && !handshaken));
    });
    request.end();
  });
}

function classify(error: Error, url: URL, inHandshake: boolean): Error {
  if (error instanceof TransportError || error.name === 'AbortError') return error;
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (
    inHandshake ||
    code.startsWith('ERR_SSL_') ||
    code.startsWith('ERR_TLS_') ||
    code === 'EPROTO'
  )
    return new TransportError(
      'tls',
      `the TLS handshake with ${url.host} failed (${tlsReason(error)})`,
      {
        cause: error,
      },
    );
  if (code === 'HPE_HEADER_OVERFLOW')
    return new TransportError(
      'network',
      `${url.host} sent response headers larger than ${MAX_HEADER_BYTES} bytes`,
      { cause: error },
    );
  const what: Record<string, string> = {
    ECONNREFUSED: `${url.host} refused the connection`,
    ENOTFOUND: `the host name ${url.hostname} could not be resolved`,
    EAI_AGAIN: `the host name ${url.hostname} could not be resolved (temporary DNS failure)`,
    ECONNRESET: `${url.host} reset the connection`,
    EHOSTUNREACH: `${url.host} is unreachable`,
    ENETUNREACH: `${url.host} is unreachable (no route)`,
  };
  return new TransportError('network', what[code] ?? `${url.host}: ${error.message}`, {
    cause: error,
  });
}

/** OpenSSL's reason (`wrong version number`) rather than its multi-line message. */
function tlsReason(error: Error): string {
  const reason = /routines:[^:]*:([^:]+):/.exec(error.message)?.[1] ?? error.message.split('\n')[0];
  if (reason === 'wrong version number')
    return 'wrong version number: the server does not speak TLS';
  return reason ?? error.message;
}

/** localhost, 127.0.0.0/8 and ::1, which Docker lets speak plain HTTP without being listed. */
export function isLoopback(name: string): boolean {
  const lower = name.toLowerCase();
  if (lower === 'localhost' || lower === '::1' || lower === '0:0:0:0:0:0:0:1') return true;
  return isIPv4(lower) && lower.startsWith('127.');
}
