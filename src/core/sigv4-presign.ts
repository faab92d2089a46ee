/** Presigns GET URLs with SigV4 query parameters (@smithy/signature-v4 does the maths). */
import { Hash } from '@smithy/core/serde';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Clock } from './clock.js';

/** What a presigned URL is signed with. */
export interface PresignOptions {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
  readonly service: string;
  readonly expiresSeconds: number;
  readonly clock: Clock;
}

/** Returns `http://<host><path>?X-Amz-…` valid for `expiresSeconds`. */
export async function presignGetUrl(
  host: string,
  path: string,
  options: PresignOptions,
): Promise<string> {
  const signer = new SignatureV4({
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    region: options.region,
    service: options.service,
    sha256: Hash.bind(null, 'sha256'),
  });
  const request = new HttpRequest({
    method: 'GET',
    protocol: 'http:',
    hostname: host,
    path,
    headers: { host },
  });
  const signed = await signer.presign(request, {
    signingDate: new Date(options.clock.now()),
    expiresIn: options.expiresSeconds,
  });
  const query = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return `http://${host}${path}?${query}`;
}
