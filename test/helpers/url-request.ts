/**
 * Plain HTTP requests to function URLs. Node does not resolve `*.localhost` names (curl and
 * browsers do), so the connection goes to 127.0.0.1 while the URL, and so the Host header, stays
 * as Lamina printed it. `signedUrlRequest` signs with SigV4 (service `lambda`) for AWS_IAM URLs.
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { LookupFunction } from 'node:net';
import { Hash } from '@smithy/core/serde';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { TEST_CREDENTIALS } from './server-process.js';

/** AddPermission input that makes a NONE URL public (the statement AWS requires). */
export const PUBLIC_URL = {
  StatementId: 'public-url',
  Action: 'lambda:InvokeFunctionUrl',
  Principal: '*',
  FunctionUrlAuthType: 'NONE',
} as const;

export interface UrlAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The body parsed as JSON. */
  json(): unknown;
}

export interface UrlRequestInit {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
}

const loopback: LookupFunction = (_hostname, options, callback) => {
  if (options.all === true) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
};

/** Sends one request to `url` and reads the whole answer. */
export function urlRequest(url: string, init: UrlRequestInit = {}): Promise<UrlAnswer> {
  const body = init.body === undefined ? undefined : Buffer.from(init.body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: init.method ?? 'GET',
        headers: {
          ...(body === undefined ? {} : { 'content-length': String(body.length) }),
          ...init.headers,
        },
        lookup: loopback,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: bytes,
            json: () => JSON.parse(bytes.toString('utf8')) as unknown,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Sends a GET to `url` and resolves with the response as soon as its head arrives, so a test can
 * read a streamed body piece by piece.
 */
export function openUrlResponse(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { lookup: loopback }, resolve);
    req.on('error', reject);
    req.end();
  });
}

/** Like `urlRequest`, signed with SigV4 (service `lambda` unless told) by `credentials`. */
export async function signedUrlRequest(
  url: string,
  init: UrlRequestInit = {},
  credentials = TEST_CREDENTIALS,
  service = 'lambda',
): Promise<UrlAnswer> {
  const target = new URL(url);
  const body = init.body === undefined ? undefined : Buffer.from(init.body);
  const query: Record<string, string> = {};
  for (const [name, value] of target.searchParams) query[name] = value;
  const signer = new SignatureV4({
    service,
    region: 'us-east-1',
    credentials,
    sha256: Hash.bind(null, 'sha256'),
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: init.method ?? 'GET',
      protocol: target.protocol,
      hostname: target.hostname,
      port: Number(target.port),
      path: target.pathname,
      query,
      headers: { host: target.host, ...init.headers },
      ...(body === undefined ? {} : { body }),
    }),
  );
  return urlRequest(url, {
    method: init.method ?? 'GET',
    headers: signed.headers,
    ...(body === undefined ? {} : { body }),
  });
}
