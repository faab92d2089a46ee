/**
 * A small client for Lamina's own HTTP API (`/lamina/2026-11-01/…`), signing each request with
 * SigV4 (service `lambda`) the way the AWS SDKs sign the Lambda API. Errors come back as
 * `LaminaApiError` with the AWS error name from `x-amzn-ErrorType`.
 */
import { Hash } from '@smithy/core/serde';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface ApiCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

export interface LaminaApiClientOptions {
  /** `http://host:port` of the server. */
  readonly endpoint: string;
  readonly region: string;
  /** Undefined: send unsigned requests (servers started with `--auth none`). */
  readonly credentials: ApiCredentials | undefined;
  /** The time requests are signed at (default: now), e.g. for a server whose clock is ahead. */
  readonly signingTime?: (() => Date) | undefined;
}

/** An error answer of the API. */
export class LaminaApiError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status: number) {
    super(message);
    this.name = code;
    this.code = code;
    this.status = status;
  }
}

export class LaminaApiClient {
  readonly #url: URL;
  readonly #signer: SignatureV4 | undefined;
  readonly #signingTime: (() => Date) | undefined;

  constructor(options: LaminaApiClientOptions) {
    this.#url = new URL(options.endpoint);
    this.#signingTime = options.signingTime;
    this.#signer =
      options.credentials === undefined
        ? undefined
        : new SignatureV4({
            credentials: {
              accessKeyId: options.credentials.accessKeyId,
              secretAccessKey: options.credentials.secretAccessKey,
              ...(options.credentials.sessionToken === undefined
                ? {}
                : { sessionToken: options.credentials.sessionToken }),
            },
            region: options.region,
            service: 'lambda',
            sha256: Hash.bind(null, 'sha256'),
          });
  }

  /** Sends a request and resolves with the status and the parsed JSON body. */
  async request(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    query: Readonly<Record<string, string | undefined>> = {},
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const definedQuery: Record<string, string> = {};
    for (const [key, value] of Object.entries(query))
      if (value !== undefined) definedQuery[key] = value;
    const unsigned = new HttpRequest({
      method,
      protocol: this.#url.protocol,
      hostname: this.#url.hostname,
      ...(this.#url.port === '' ? {} : { port: Number(this.#url.port) }),
      path,
      query: definedQuery,
      headers: { host: this.#url.host, 'content-type': 'application/json' },
      ...(payload === undefined ? {} : { body: payload }),
    });
    const signed =
      this.#signer === undefined
        ? unsigned
        : await this.#signer.sign(
            unsigned,
            this.#signingTime === undefined ? {} : { signingDate: this.#signingTime() },
          );
    const search = Object.entries(definedQuery)
      .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
      .join('&');
    const response = await fetch(`${this.#url.origin}${path}${search === '' ? '' : `?${search}`}`, {
      method,
      headers: signed.headers as Record<string, string>,
      ...(payload === undefined ? {} : { body: payload }),
    });
    const text = await response.text();
    let json: unknown = undefined;
    try {
      json = text === '' ? undefined : (JSON.parse(text) as unknown);
    } catch {
      json = text;
    }
    if (response.status >= 300) {
      const body = (typeof json === 'object' && json !== null ? json : {}) as Record<
        string,
        unknown
      >;
      const code =
        response.headers.get('x-amzn-errortype')?.split(':')[0] ?? `HTTP ${response.status}`;
      const message = body['message'] ?? body['Message'];
      throw new LaminaApiError(code, typeof message === 'string' ? message : text, response.status);
    }
    return { status: response.status, json };
  }
}
