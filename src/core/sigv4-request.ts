/**
 * Reads the SigV4 signature out of a request head (the Authorization header or the presigned
 * query parameters), with the error AWS answers for each way it can be missing or malformed.
 */
import { LambdaError } from './errors.js';

/** A request's head as it arrived: the raw URL (path and query, still percent-encoded). */
export interface RequestHead {
  readonly method: string;
  readonly rawUrl: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** What a request says about its signature. */
export interface ParsedSignature {
  readonly accessKeyId: string;
  readonly shortDate: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  readonly amzDate: string;
  /** X-Amz-Expires of a presigned URL; undefined for the header form. */
  readonly expiresSeconds: number | undefined;
  readonly securityToken: string | undefined;
}

/** A head split into its parts and its signature parsed. */
export interface SignedHead {
  readonly rawPath: string;
  readonly query: ReadonlyMap<string, readonly string[]>;
  /** True for the presigned query form (no Authorization header). */
  readonly presigned: boolean;
  readonly parsed: ParsedSignature;
}

const MAX_PRESIGNED_SECONDS = 7 * 24 * 3600;

/** An IncompleteSignatureException (403) with `message`. */
export const incomplete = (message: string) =>
  new LambdaError('IncompleteSignatureException', message);

/**
 * Parses the signature of a request head; throws MissingAuthenticationTokenException when there is
 * none and IncompleteSignatureException when it is malformed.
 */
export function parseSignedHead(head: RequestHead): SignedHead {
  const [rawPath, rawQuery = ''] = splitOnce(head.rawUrl, '?');
  const query = parseQuery(rawQuery);
  const authorization = header(head.headers, 'authorization');
  const presigned = query.has('X-Amz-Signature') || query.has('X-Amz-Credential');
  if (authorization === undefined && !presigned) {
    throw new LambdaError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  return authorization !== undefined
    ? { rawPath, query, presigned: false, parsed: parseAuthorization(authorization, head.headers) }
    : { rawPath, query, presigned: true, parsed: parsePresignedQuery(query) };
}

/** A header's value (repeated headers joined with commas, as Node does). */
export function header(headers: RequestHead['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function parseAuthorization(authorization: string, headers: RequestHead['headers']) {
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

function parsePresignedQuery(query: ReadonlyMap<string, readonly string[]>): ParsedSignature {
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
