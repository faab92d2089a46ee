/**
 * Verifies AWS Signature Version 4 on incoming requests, header form and presigned query form.
 * The signing maths is @smithy/signature-v4's: the verifier rebuilds the request exactly as the
 * client signed it (the listed SignedHeaders only, the raw percent-encoded path, the client's
 * date and scope) and compares signatures in constant time.
 *
 * The header form is on every API call's path. Its canonical request (the path, query and headers
 * in SigV4's canonical forms, as SignatureV4 builds them) is assembled here; the scope and the
 * signing key come from the library, the key cached per access key and day, so a verification is
 * synchronous hashing once the day's key is known. The presigned form (rare: code downloads) still
 * uses `presign`.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { HttpRequest } from '@smithy/protocol-http';
import { createScope, getSigningKey, SignatureV4 } from '@smithy/signature-v4';
import type { Clock } from './clock.js';
import { LambdaError } from './errors.js';
import { NodeSha256 } from './node-sha256.js';

/** A request as it arrived: the raw URL (path and query, still percent-encoded) and raw body. */
export interface IncomingRequest {
  readonly method: string;
  readonly rawUrl: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Uint8Array | undefined;
}

/** Settings of a verifier; `maxSkewMs` defaults to AWS's 15 minutes. */
export interface Sigv4VerifierOptions {
  readonly service: string;
  readonly region: string;
  /** Secret access key of an access key id, or undefined when the key is unknown. */
  readonly secretFor: (accessKeyId: string) => string | undefined;
  /** The session token a temporary key must present (undefined: the key takes none). */
  readonly sessionTokenFor?: (accessKeyId: string) => string | undefined;
  readonly clock: Clock;
  readonly maxSkewMs?: number;
}

/** Who signed a verified request. */
export interface VerifiedCaller {
  readonly accessKeyId: string;
}

const SHA256 = NodeSha256;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const MAX_PRESIGNED_SECONDS = 7 * 24 * 3600;
const MAX_CACHED_SIGNERS = 256;
const PRESIGN_PARAMS = new Set([
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
]);

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

const invalidSignature = (message: string) => new LambdaError('InvalidSignatureException', message);
const incomplete = (message: string) => new LambdaError('IncompleteSignatureException', message);

interface ParsedSignature {
  readonly accessKeyId: string;
  readonly shortDate: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  readonly amzDate: string;
  readonly expiresSeconds: number | undefined;
  readonly securityToken: string | undefined;
}

/** Verifies SigV4 signatures against a fixed set of credentials. */
export class Sigv4Verifier {
  readonly #options: Sigv4VerifierOptions;
  readonly #maxSkewMs: number;
  /** Signers per key and scope (presigned URLs). */
  readonly #signers = new Map<string, SignatureV4>();
  /** Derived signing keys per key, day, region and service. */
  readonly #signingKeys = new Map<string, Uint8Array | Promise<Uint8Array>>();

  constructor(options: Sigv4VerifierOptions) {
    this.#options = options;
    this.#maxSkewMs = options.maxSkewMs ?? 15 * 60 * 1000;
  }

  /** Resolves with the caller when the signature is valid; rejects with a 403 LambdaError. */
  async verify(request: IncomingRequest): Promise<VerifiedCaller> {
    const [rawPath, rawQuery = ''] = splitOnce(request.rawUrl, '?');
    const query = parseQuery(rawQuery);
    const authorization = header(request.headers, 'authorization');
    const presigned = query.has('X-Amz-Signature') || query.has('X-Amz-Credential');
    if (authorization === undefined && !presigned) {
      throw new LambdaError('MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    const parsed =
      authorization !== undefined
        ? parseAuthorizationHeader(authorization, request.headers)
        : parsePresignedQuery(query);

    this.#checkScope(parsed);
    const secret = this.#options.secretFor(parsed.accessKeyId);
    const token = this.#options.sessionTokenFor?.(parsed.accessKeyId);
    if (secret === undefined || parsed.securityToken !== token) {
      throw new LambdaError(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    }
    const signingDate = this.#checkDate(parsed);
    const expected =
      presigned && authorization === undefined
        ? await this.#presignedSignature(request, rawPath, query, parsed, secret, signingDate)
        : await this.#headerSignature(request, rawPath, query, parsed, secret, signingDate);
    if (!sameHex(expected, parsed.signature)) throw invalidSignature(SIGNATURE_MISMATCH);
    return { accessKeyId: parsed.accessKeyId };
  }

  #checkScope(parsed: ParsedSignature): void {
    if (parsed.service !== this.#options.service) {
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

  #signer(parsed: ParsedSignature, secret: string): SignatureV4 {
    const key = `${parsed.accessKeyId}\u0000${secret}\u0000${parsed.region}\u0000${parsed.service}`;
    let signer = this.#signers.get(key);
    if (signer === undefined) {
      // Only verified-known keys get here; the bound keeps rotated keys from piling up.
      if (this.#signers.size >= MAX_CACHED_SIGNERS) this.#signers.clear();
      signer = new SignatureV4({
        credentials: { accessKeyId: parsed.accessKeyId, secretAccessKey: secret },
        region: parsed.region,
        service: parsed.service,
        sha256: SHA256,
        applyChecksum: false,
      });
      this.#signers.set(key, signer);
    }
    return signer;
  }

  /**
   * The header form's expected signature, as SignatureV4.sign computes it for the client: the
   * generated headers (authorization, date) are not signed and `x-amz-date` always is; a signed
   * `x-amz-content-sha256` stands for the payload. Synchronous once the day's signing key is known.
   */
  #headerSignature(
    request: IncomingRequest,
    rawPath: string,
    query: Map<string, string[]>,
    parsed: ParsedSignature,
    secret: string,
    signingDate: Date,
  ): string | Promise<string> {
    const headers = signedHeaderValues(request.headers, parsed.signedHeaders);
    let actualHash: string | undefined;
    const declaredHash = header(request.headers, 'x-amz-content-sha256');
    if (declaredHash !== undefined && declaredHash !== UNSIGNED_PAYLOAD) {
      actualHash = bodyHash(request.body);
      if (declaredHash.toLowerCase() !== actualHash) {
        throw invalidSignature(
          'The provided x-amz-content-sha256 header does not match what was computed.',
        );
      }
    }
    for (const generated of GENERATED_HEADERS) delete headers[generated];
    headers['x-amz-date'] = parsed.amzDate;
    const payloadHash = headers['x-amz-content-sha256'] ?? actualHash ?? bodyHash(request.body);
    const names = Object.keys(headers).sort();
    let canonicalHeaders = '';
    for (const name of names)
      canonicalHeaders += `${name}:${(headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`;
    const canonicalRequest =
      `${request.method}\n${canonicalPath(rawPath)}\n${canonicalQuery(query)}\n` +
      `${canonicalHeaders}\n${names.join(';')}\n${payloadHash}`;
    const longDate = formatAmzDate(signingDate.getTime());
    const scope = createScope(longDate.slice(0, 8), parsed.region, parsed.service);
    const stringToSign = `AWS4-HMAC-SHA256\n${longDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
    const sign = (key: Uint8Array) => createHmac('sha256', key).update(stringToSign).digest('hex');
    const key = this.#signingKey(parsed, secret, longDate.slice(0, 8));
    return key instanceof Uint8Array ? sign(key) : key.then(sign);
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
    if (this.#signingKeys.size >= MAX_CACHED_SIGNERS) this.#signingKeys.clear();
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

  async #presignedSignature(
    request: IncomingRequest,
    rawPath: string,
    query: Map<string, string[]>,
    parsed: ParsedSignature,
    secret: string,
    signingDate: Date,
  ): Promise<string> {
    const headers = signedHeaderValues(request.headers, parsed.signedHeaders);
    const rest = new Map([...query].filter(([name]) => !PRESIGN_PARAMS.has(name)));
    const toSign = new HttpRequest({
      method: request.method,
      protocol: 'http:',
      hostname: headers['host'] ?? '',
      path: rawPath,
      query: toSmithyQuery(rest),
      headers,
    });
    const signed = await this.#signer(parsed, secret).presign(toSign, {
      signingDate,
      expiresIn: parsed.expiresSeconds ?? 0,
      signableHeaders: new Set(parsed.signedHeaders),
      unhoistableHeaders: new Set(parsed.signedHeaders),
    });
    const value = signed.query?.['X-Amz-Signature'];
    return typeof value === 'string' ? value : '';
  }
}

/** Headers SignatureV4 generates itself, never taken from the request it signs. */
const GENERATED_HEADERS = ['authorization', 'x-amz-date', 'date'];

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The canonical URI as SignatureV4 builds it for every service but S3: empty and `.` segments
 * dropped, `..` resolved, then each character escaped again (so the raw path's `%XX` become
 * `%25XX`), slashes kept.
 */
function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized =
    `${path.startsWith('/') ? '/' : ''}${segments.join('/')}` +
    `${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return escapeUri(normalized).replace(/%2F/g, '/');
}

/** RFC 3986 escaping, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Computes the hex SHA-256 of a body, as SigV4 hashes payloads. */
function bodyHash(body: Uint8Array | undefined): string {
  if (body === undefined || body.length === 0) return EMPTY_SHA256;
  return createHash('sha256').update(body).digest('hex');
}

/**
 * The canonical query string as SignatureV4 builds it: names and values escaped (RFC 3986), sorted
 * by escaped name, a repeated name's pairs sorted, `X-Amz-Signature` left out.
 */
function canonicalQuery(query: Map<string, string[]>): string {
  const serialized = new Map<string, string>();
  for (const [name, values] of query) {
    if (name.toLowerCase() === 'x-amz-signature') continue;
    const key = escapeUri(name);
    serialized.set(
      key,
      values.length === 1
        ? `${key}=${escapeUri(values[0] ?? '')}`
        : values
            .map((value) => `${key}=${escapeUri(value)}`)
            .sort()
            .join('&'),
    );
  }
  return [...serialized.keys()]
    .sort()
    .map((key) => serialized.get(key))
    .filter((pair) => pair !== '')
    .join('&');
}

function parseAuthorizationHeader(
  authorization: string,
  headers: IncomingRequest['headers'],
): ParsedSignature {
  const match = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(authorization.trim());
  if (match === null) {
    throw incomplete(
      `Authorization header requires the AWS4-HMAC-SHA256 algorithm. Authorization=${authorization}`,
    );
  }
  const fields = new Map<string, string>();
  for (const part of (match[1] ?? '').split(',')) {
    const [name, value] = splitOnce(part.trim(), '=');
    if (name !== '' && value !== undefined) fields.set(name, value.trim());
  }
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((name) => !fields.has(name));
  if (missing.length > 0) {
    throw incomplete(
      missing.map((name) => `Authorization header requires '${name}' parameter.`).join(' ') +
        ` Authorization=${authorization}`,
    );
  }
  const amzDate = header(headers, 'x-amz-date');
  if (amzDate === undefined) {
    throw incomplete(`Authorization header requires existence of a 'X-Amz-Date' header.`);
  }
  return {
    ...parseCredential(fields.get('Credential') ?? ''),
    signedHeaders: (fields.get('SignedHeaders') ?? '').toLowerCase().split(';'),
    signature: fields.get('Signature') ?? '',
    amzDate,
    expiresSeconds: undefined,
    securityToken: header(headers, 'x-amz-security-token'),
  };
}

function parsePresignedQuery(query: Map<string, string[]>): ParsedSignature {
  const get = (name: string) => query.get(name)?.[0];
  const missing = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires']
    .concat(['X-Amz-SignedHeaders', 'X-Amz-Signature'])
    .filter((name) => get(name) === undefined);
  if (missing.length > 0) {
    throw incomplete(`AWS query-string parameters missing: ${missing.join(', ')}.`);
  }
  if (get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') {
    throw incomplete(`X-Amz-Algorithm only supports "AWS4-HMAC-SHA256".`);
  }
  const expires = Number(get('X-Amz-Expires'));
  if (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGNED_SECONDS) {
    throw incomplete('X-Amz-Expires must be a whole number of seconds from 1 to 604800.');
  }
  return {
    ...parseCredential(get('X-Amz-Credential') ?? ''),
    signedHeaders: (get('X-Amz-SignedHeaders') ?? '').toLowerCase().split(';'),
    signature: get('X-Amz-Signature') ?? '',
    amzDate: get('X-Amz-Date') ?? '',
    expiresSeconds: expires,
    securityToken: get('X-Amz-Security-Token'),
  };
}

function parseCredential(credential: string) {
  const parts = credential.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') {
    throw incomplete(
      `Credential must have exactly 5 slash-delimited elements, e.g. ` +
        `keyid/date/region/service/term, got '${credential}'`,
    );
  }
  const [accessKeyId = '', shortDate = '', region = '', service = ''] = parts;
  return { accessKeyId, shortDate, region, service };
}

function signedHeaderValues(
  headers: IncomingRequest['headers'],
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

function header(headers: IncomingRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** Splits a raw query string into decoded names and values; `+` stays a plus, as SigV4 wants. */
function parseQuery(raw: string): Map<string, string[]> {
  const query = new Map<string, string[]>();
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const [name, value = ''] = splitOnce(pair, '=');
    const key = safeDecode(name);
    query.set(key, [...(query.get(key) ?? []), safeDecode(value)]);
  }
  return query;
}

function toSmithyQuery(query: Map<string, string[]>): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const [name, values] of query)
    result[name] = values.length === 1 ? (values[0] ?? '') : values;
  return result;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + separator.length)];
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
