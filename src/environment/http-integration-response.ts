/**
 * A streamed response in the HTTP-integration format (`awslambda.HttpResponseStream.from`, content
 * type `application/vnd.awslambda.http-integration-response`): a JSON prelude
 * `{statusCode, headers, cookies}`, 8 NUL bytes, then the HTTP body. Function URLs in
 * RESPONSE_STREAM mode take status and headers from the prelude and stream the rest.
 */

export const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';

/** The status, headers and cookies a function chose for its HTTP response. */
export interface HttpIntegrationPrelude {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly cookies: readonly string[];
}

export interface HttpIntegrationResponse {
  /** Undefined when the stream has no (valid JSON object) prelude within `maxPreludeBytes`. */
  readonly prelude: HttpIntegrationPrelude | undefined;
  /** The HTTP body: what follows the delimiter (everything read, when there is no prelude). */
  readonly body: AsyncIterable<Buffer>;
}

const DELIMITER = Buffer.alloc(8);
/** How far the delimiter is looked for before the stream is taken as having no prelude. */
export const MAX_PRELUDE_BYTES = 64 * 1024;

/**
 * Reads the prelude off `stream` (only as far as the delimiter) and returns it with the rest of
 * the body, still streaming. JSON text cannot hold a raw NUL, so the first 8 NULs end the prelude.
 */
export async function splitHttpIntegrationResponse(
  stream: AsyncIterable<Buffer>,
  maxPreludeBytes = MAX_PRELUDE_BYTES,
): Promise<HttpIntegrationResponse> {
  const iterator = stream[Symbol.asyncIterator]();
  let head: Buffer = Buffer.alloc(0);
  let ended = false;
  let at = -1;
  while (at < 0 && head.length <= maxPreludeBytes) {
    const next = await iterator.next();
    if (next.done === true) {
      ended = true;
      break;
    }
    head = head.length === 0 ? next.value : Buffer.concat([head, next.value]);
    at = head.indexOf(DELIMITER);
  }
  const prelude = at < 0 ? undefined : parsePrelude(head.subarray(0, at));
  const first = prelude === undefined ? head : head.subarray(at + DELIMITER.length);
  return { prelude, body: rest(first, ended ? undefined : iterator) };
}

async function* rest(
  first: Buffer,
  iterator: AsyncIterator<Buffer> | undefined,
): AsyncGenerator<Buffer> {
  let finished = iterator === undefined;
  try {
    if (first.length > 0) yield first;
    while (iterator !== undefined) {
      const next = await iterator.next();
      if (next.done === true) break;
      yield next.value;
    }
    finished = true;
  } finally {
    // A reader that stops early lets the source discard the rest.
    if (!finished) await iterator?.return?.();
  }
}

/** The prelude JSON, or undefined when it is not an object with a usable shape. */
export function parsePrelude(bytes: Buffer): HttpIntegrationPrelude | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const { statusCode, headers, cookies } = parsed as Record<string, unknown>;
  const out: Record<string, string> = {};
  if (headers !== null && typeof headers === 'object' && !Array.isArray(headers)) {
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined && value !== null) out[name] = String(value);
    }
  }
  return {
    statusCode: typeof statusCode === 'number' && Number.isInteger(statusCode) ? statusCode : 200,
    headers: out,
    cookies: Array.isArray(cookies) ? cookies.map(String) : [],
  };
}
