/**
 * The canonical forms of SigV4 (path, query, headers, payload hash) exactly as
 * @smithy/signature-v4 builds them for every service but S3, so a request rebuilt from the wire
 * hashes to what its client signed.
 */
import { createHash } from 'node:crypto';

/** The SHA-256 of no bytes, the payload hash of a request without a body. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Hex SHA-256 of a text (UTF-8) or of bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hex SHA-256 of a body as SigV4 hashes payloads (no body: the empty hash). */
export function bodySha256Hex(body: Uint8Array | undefined): string {
  return body === undefined || body.length === 0 ? EMPTY_SHA256 : sha256Hex(body);
}

/**
 * The canonical URI as SignatureV4 builds it for every service but S3: empty and `.` segments
 * dropped, `..` resolved, then each character escaped again (so the raw path's `%XX` become
 * `%25XX`), slashes kept.
 */
export function canonicalPath(path: string): string {
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

/**
 * The canonical query string as SignatureV4 builds it: names and values escaped (RFC 3986), sorted
 * by escaped name, a repeated name's pairs sorted, `X-Amz-Signature` left out.
 */
export function canonicalQuery(query: ReadonlyMap<string, readonly string[]>): string {
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

/**
 * The canonical header block and the signed-header list: names sorted, values trimmed with runs
 * of white space collapsed to one space.
 */
export function canonicalHeaders(headers: Readonly<Record<string, string>>): {
  readonly block: string;
  readonly names: string;
} {
  const names = Object.keys(headers).sort();
  let block = '';
  for (const name of names)
    block += `${name}:${(headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`;
  return { block, names: names.join(';') };
}

/** RFC 3986 escaping, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
