/**
 * Verifies AWS Signature Version 4 on incoming requests, header form and presigned query form, in
 * two steps so that a request is refused before its body is read: `authenticate` checks what the
 * head alone can tell (a signature is there and well formed, the scope, a known key and its
 * session token, the date) and builds the canonical request up to its payload hash; `complete`
 * takes the hash of the body that arrived and compares signatures in constant time.
 *
 * This is on every API call's path, so the canonical request is assembled here (the path, query
 * and headers in SigV4's canonical forms, as @smithy/signature-v4 builds them) and the signing key
 * is cached per access key and day: once the day's key is known, a verification is synchronous
 * hashing.
 *
 * The payload hash is always that of the body received. `x-amz-content-sha256: UNSIGNED-PAYLOAD`
 * is an Amazon S3 option; Lambda signs its payloads, so a request signed without its body does not
 * verify (a signature mismatch, as AWS answers it), and neither does a body changed after signing.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createScope, getSigningKey } from '@smithy/signature-v4';
import type { Clock } from './clock.js';
import { LambdaError } from './errors.js';
import { NodeSha256 } from './node-sha256.js';
import {
  bodySha256Hex,
  canonicalHeaders,
  canonicalPath,
  canonicalQuery,
  sha256Hex,
} from './sigv4-canonical.js';
import {
  header,
  incomplete,
  parseSignedHead,
  type ParsedSignature,
  type RequestHead,
} from './sigv4-request.js';

export type { RequestHead } from './sigv4-request.js';

/** A request as it arrived: its head and its raw body. */
export interface IncomingRequest extends RequestHead {
  readonly body: Uint8Array | undefined;
}

/** Settings of a verifier; `maxSkewMs` defaults to AWS's 15 minutes. */
export interface Sigv4VerifierOptions {
  readonly service: string;
  /**
   * Other services signed for at the same endpoint (`iam`, `sts`): accepted here, the caller
   * checks which one a route serves (`PendingSignature.service`).
   */
  readonly otherServices?: readonly string[] | undefined;
  readonly region: string;
  /** Secret access key of an access key id, or undefined when the key is unknown. */
  readonly secretFor: (accessKeyId: string) => string | undefined;
  /** The session token a temporary key must present (undefined: the key takes none). */
  readonly sessionTokenFor?: (accessKeyId: string) => string | undefined;
  /** Whether an unknown key is a temporary one that has expired (ExpiredTokenException). */
  readonly hasExpired?: (accessKeyId: string) => boolean;
  readonly clock: Clock;
  readonly maxSkewMs?: number;
}

/** Who signed a verified request. */
export interface VerifiedCaller {
  readonly accessKeyId: string;
}

/**
 * A signature whose head passed (`authenticate`): the caller is known and in time; what is left
 * is to hash the payload into the canonical request and compare (`complete`).
 */
export interface PendingSignature {
  readonly accessKeyId: string;
  /** The service of the credential's scope (`lambda`, or one of `otherServices`). */
  readonly service: string;
  /** The canonical request without its last line, the payload hash. */
  readonly canonicalHead: string;
  /** The request's x-amz-content-sha256 header, if any. */
  readonly declaredPayloadHash: string | undefined;
  /** Whether that header is one of the signed headers (its value then stands in the request). */
  readonly payloadHashSigned: boolean;
  readonly longDate: string;
  readonly scope: string;
  readonly signingKey: Uint8Array | Promise<Uint8Array>;
  /** The signature the request carries. */
  readonly signature: string;
}

const SHA256 = NodeSha256;
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const MAX_CACHED_KEYS = 256;

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/** AWS's words for a temporary key past its expiry. */
export const TOKEN_EXPIRED = 'The security token included in the request is expired';
const invalidSignature = (message: string) => new LambdaError('InvalidSignatureException', message);

/** Headers SignatureV4 generates itself, never taken from the request it signs. */
const GENERATED_HEADERS = ['authorization', 'x-amz-date', 'date'];

/** Verifies SigV4 signatures against a fixed set of credentials. */
export class Sigv4Verifier {
  readonly #options: Sigv4VerifierOptions;
  readonly #maxSkewMs: number;
  /** Derived signing keys per key, day, region and service. */
  readonly #signingKeys = new Map<string, Uint8Array | Promise<Uint8Array>>();

  constructor(options: Sigv4VerifierOptions) {
    this.#options = options;
    this.#maxSkewMs = options.maxSkewMs ?? 15 * 60 * 1000;
  }

  /** Resolves with the caller when the signature of head and body is valid; rejects with a 403. */
  async verify(request: IncomingRequest): Promise<VerifiedCaller> {
    return this.complete(this.authenticate(request), bodySha256Hex(request.body));
  }

  /**
   * Checks everything the head can tell, in the order AWS reports it: a signature is there
   * (MissingAuthenticationTokenException) and well formed (IncompleteSignatureException), its scope
   * (InvalidSignatureException), a key that has not expired (ExpiredTokenException), a known key
   * with its session token (UnrecognizedClientException),
   * the date within the allowed skew or expiry (InvalidSignatureException), the signed headers
   * present. Throws the 403 LambdaError; never reads the body.
   */
  authenticate(head: RequestHead): PendingSignature {
    const { rawPath, query, presigned, parsed } = parseSignedHead(head);
    this.#checkScope(parsed);
    const secret = this.#options.secretFor(parsed.accessKeyId);
    const token = this.#options.sessionTokenFor?.(parsed.accessKeyId);
    if (secret === undefined && this.#options.hasExpired?.(parsed.accessKeyId) === true)
      throw new LambdaError('ExpiredTokenException', TOKEN_EXPIRED);
    if (secret === undefined || !sameToken(parsed.securityToken, token)) {
      throw new LambdaError(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    }
    const signingDate = this.#checkDate(parsed);
    const headers = signedHeaderValues(head.headers, parsed.signedHeaders);
    // As SignatureV4 signs: the generated headers are not taken from the request; the header form
    // always signs x-amz-date, the presigned form carries it in the query instead.
    for (const generated of GENERATED_HEADERS) delete headers[generated];
    if (!presigned) headers['x-amz-date'] = parsed.amzDate;
    const canonical = canonicalHeaders(headers);
    const longDate = formatAmzDate(signingDate.getTime());
    return {
      accessKeyId: parsed.accessKeyId,
      service: parsed.service,
      canonicalHead:
        `${head.method}\n${canonicalPath(rawPath)}\n${canonicalQuery(query)}\n` +
        `${canonical.block}\n${canonical.names}\n`,
      declaredPayloadHash: header(head.headers, 'x-amz-content-sha256'),
      payloadHashSigned: headers['x-amz-content-sha256'] !== undefined,
      longDate,
      scope: createScope(longDate.slice(0, 8), parsed.region, parsed.service),
      signingKey: this.#signingKey(parsed, secret, longDate.slice(0, 8)),
      signature: parsed.signature,
    };
  }

  /**
   * Finishes a verification with the hex SHA-256 of the body that arrived: a declared
   * x-amz-content-sha256 must match it, and the signature must match the one computed over it.
   */
  async complete(pending: PendingSignature, payloadSha256Hex: string): Promise<VerifiedCaller> {
    const declared = pending.declaredPayloadHash;
    const unsigned = declared === UNSIGNED_PAYLOAD;
    if (declared !== undefined && !unsigned && declared.toLowerCase() !== payloadSha256Hex) {
      throw invalidSignature(
        'The provided x-amz-content-sha256 header does not match what was computed.',
      );
    }
    // A signed declared hash is what the client put in its canonical request (in its own case);
    // UNSIGNED-PAYLOAD is not a hash, so the body's own hash takes its place.
    const payloadHash =
      pending.payloadHashSigned && declared !== undefined && !unsigned
        ? declared
        : payloadSha256Hex;
    const stringToSign =
      `AWS4-HMAC-SHA256\n${pending.longDate}\n${pending.scope}\n` +
      sha256Hex(pending.canonicalHead + payloadHash);
    const key =
      pending.signingKey instanceof Uint8Array ? pending.signingKey : await pending.signingKey;
    const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
    if (!sameHex(expected, pending.signature)) throw invalidSignature(SIGNATURE_MISMATCH);
    return { accessKeyId: pending.accessKeyId };
  }

  #checkScope(parsed: ParsedSignature): void {
    if (
      parsed.service !== this.#options.service &&
      !(this.#options.otherServices ?? []).includes(parsed.service)
    ) {
      throw invalidSignature(
        `Credential should be scoped to correct service: '${this.#options.service}'. `,
      );
    }
    if (parsed.region !== this.#options.region) {
      throw invalidSignature(
        `Credential should be scoped to a valid region. This endpoint serves ` +
          `'${this.#options.region}'; the request was signed for '${parsed.region}'.`,
      );
    }
    if (!parsed.amzDate.startsWith(parsed.shortDate)) {
      throw invalidSignature(
        `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: ` +
          `'${parsed.shortDate}' != '${parsed.amzDate.slice(0, 8)}', from '${parsed.amzDate}'.`,
      );
    }
  }

  #checkDate(parsed: ParsedSignature): Date {
    const signedAt = parseAmzDate(parsed.amzDate);
    if (signedAt === undefined) {
      throw incomplete(`Date must be in ISO-8601 'basic format'. Got '${parsed.amzDate}'.`);
    }
    const now = this.#options.clock.now();
    if (parsed.expiresSeconds !== undefined) {
      if (now > signedAt.getTime() + parsed.expiresSeconds * 1000) {
        throw invalidSignature(
          `Signature expired: ${parsed.amzDate} is now earlier than ` +
            `${formatAmzDate(now - parsed.expiresSeconds * 1000)} ` +
            `(${formatAmzDate(now)} - ${parsed.expiresSeconds} sec.)`,
        );
      }
      if (signedAt.getTime() > now + this.#maxSkewMs) throw this.#notYetCurrent(parsed, now);
      return signedAt;
    }
    if (signedAt.getTime() < now - this.#maxSkewMs) {
      throw invalidSignature(
        `Signature expired: ${parsed.amzDate} is now earlier than ` +
          `${formatAmzDate(now - this.#maxSkewMs)} (${formatAmzDate(now)} - ${this.#maxSkewMs / 60_000} min.)`,
      );
    }
    if (signedAt.getTime() > now + this.#maxSkewMs) throw this.#notYetCurrent(parsed, now);
    return signedAt;
  }

  #notYetCurrent(parsed: ParsedSignature, now: number): LambdaError {
    return invalidSignature(
      `Signature not yet current: ${parsed.amzDate} is still later than ` +
        `${formatAmzDate(now + this.#maxSkewMs)} (${formatAmzDate(now)} + ${this.#maxSkewMs / 60_000} min.)`,
    );
  }

  /** The derived signing key (cached per key, day, region and service once computed). */
  #signingKey(
    parsed: ParsedSignature,
    secret: string,
    shortDate: string,
  ): Uint8Array | Promise<Uint8Array> {
    const { accessKeyId, region, service } = parsed;
    const cacheKey = `${accessKeyId}\u0000${secret}\u0000${shortDate}\u0000${region}\u0000${service}`;
    const cached = this.#signingKeys.get(cacheKey);
    if (cached !== undefined) return cached;
    if (this.#signingKeys.size >= MAX_CACHED_KEYS) this.#signingKeys.clear();
    const derived = getSigningKey(
      SHA256,
      { accessKeyId, secretAccessKey: secret },
      shortDate,
      region,
      service,
    );
    this.#signingKeys.set(cacheKey, derived);
    void derived.then(
      (key) => {
        if (this.#signingKeys.get(cacheKey) === derived) this.#signingKeys.set(cacheKey, key);
      },
      () => this.#signingKeys.delete(cacheKey),
    );
    return derived;
  }
}

function signedHeaderValues(
  headers: RequestHead['headers'],
  names: readonly string[],
): Record<string, string> {
  if (!names.includes('host')) {
    throw incomplete(`'Host' must be a 'SignedHeader' in the AWS Authorization.`);
  }
  const values: Record<string, string> = {};
  for (const name of names) {
    const value = header(headers, name);
    if (value === undefined) {
      throw invalidSignature(`The header '${name}' is listed in SignedHeaders but missing.`);
    }
    values[name] = value;
  }
  return values;
}

function sameHex(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b.toLowerCase(), 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

function parseAmzDate(text: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}

/** Formats epoch milliseconds as SigV4's basic ISO-8601 form, `20261121T192256Z`. */
export function formatAmzDate(epochMs: number): string {
  return new Date(epochMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** Whether a request's session token is the key's, compared in constant time. */
function sameToken(sent: string | undefined, expected: string | undefined): boolean {
  if (sent === undefined || expected === undefined) return sent === expected;
  const digest = (text: string) => createHmac('sha256', 'token').update(text).digest();
  return timingSafeEqual(digest(sent), digest(expected));
}
