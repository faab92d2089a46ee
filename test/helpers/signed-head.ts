/**
 * SigV4 headers for a request whose body a test sends itself (raw uploads): signed by the real
 * @smithy/signature-v4 signer with the payload's hash declared in `x-amz-content-sha256`, as the
 * JS SDK signs.
 */
import { createHash } from 'node:crypto';
import { Hash } from '@smithy/core/serde';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { TEST_CREDENTIALS } from './server-process.js';

export interface HeadInit {
  readonly method?: string;
  readonly path: string;
  /** The body's hex SHA-256, or `UNSIGNED-PAYLOAD`. */
  readonly payloadSha256: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  readonly signedAt?: Date;
}

/** Hex SHA-256 of a body. */
export function sha256Hex(body: Buffer | string): string {
  return createHash('sha256').update(body).digest('hex');
}

/** The headers to send (all but host, which the connection's own is). */
export async function signedHead(
  endpoint: string,
  init: HeadInit,
): Promise<Record<string, string>> {
  const url = new URL(endpoint);
  const signer = new SignatureV4({
    credentials: init.credentials ?? TEST_CREDENTIALS,
    region: 'us-east-1',
    service: 'lambda',
    sha256: Hash.bind(null, 'sha256'),
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: init.method ?? 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: init.path,
      headers: {
        host: url.host,
        'x-amz-content-sha256': init.payloadSha256,
        ...init.headers,
      },
    }),
    { signingDate: init.signedAt ?? new Date() },
  );
  const headers: Record<string, string> = { ...signed.headers };
  delete headers['host'];
  return headers;
}
