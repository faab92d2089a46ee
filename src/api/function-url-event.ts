/**
 * The event a function URL request becomes: API Gateway HTTP API payload format 2.0, as the
 * Lambda developer guide documents it for function URLs (lower-case headers with repeats joined by
 * commas, cookies split out, query parameters decoded and joined, binary bodies in base64).
 */

/** A URL request as it arrived, with the facts the event needs. */
export interface UrlRequestFacts {
  readonly method: string;
  /** The path as received (still percent-encoded), without the path form's `/lambda-url/<id>`. */
  readonly rawPath: string;
  /** The query string as received, without `?`. */
  readonly rawQueryString: string;
  /** Header names and values in arrival order (Node's `rawHeaders` pairs). */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly sourceIp: string;
  readonly urlId: string;
  /** The URL's host name (`<url-id>.<domain>`), without a port. */
  readonly domainName: string;
  readonly requestId: string;
  readonly timeMs: number;
  /** `X-Forwarded-Proto` / `-Port` Lamina adds when the client did not send them. */
  readonly protocol: string;
  readonly port: string;
}

/** Who called an AWS_IAM URL (the verified signer); absent for NONE. */
export interface UrlCaller {
  readonly accessKeyId: string;
  readonly accountId: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Builds the event; `accountId` is the function owner's account. */
export function buildUrlEvent(
  facts: UrlRequestFacts,
  accountId: string,
  caller: UrlCaller | undefined,
): Record<string, unknown> {
  const headers = joinedHeaders(facts.rawHeaders);
  const cookieHeader = headers['cookie'];
  delete headers['cookie'];
  headers['x-forwarded-for'] ??= facts.sourceIp;
  headers['x-forwarded-proto'] ??= facts.protocol;
  headers['x-forwarded-port'] ??= facts.port;
  headers['x-amzn-trace-id'] ??= traceId(facts.requestId, facts.timeMs);
  const event: Record<string, unknown> = {
    version: '2.0',
    routeKey: '$default',
    rawPath: facts.rawPath,
    rawQueryString: facts.rawQueryString,
  };
  const cookies = cookieHeader === undefined ? [] : splitCookies(cookieHeader);
  if (cookies.length > 0) event['cookies'] = cookies;
  event['headers'] = headers;
  const query = queryParameters(facts.rawQueryString);
  if (query !== undefined) event['queryStringParameters'] = query;
  event['requestContext'] = {
    accountId: caller === undefined ? 'anonymous' : accountId,
    apiId: facts.urlId,
    ...(caller === undefined
      ? {}
      : {
          authorizer: {
            iam: {
              accessKey: caller.accessKeyId,
              accountId: caller.accountId,
              callerId: caller.accessKeyId,
              cognitoIdentity: null,
              principalOrgId: null,
              userArn: `arn:aws:iam::${caller.accountId}:root`,
              userId: caller.accountId,
            },
          },
        }),
    domainName: facts.domainName,
    domainPrefix: facts.urlId,
    http: {
      method: facts.method,
      path: facts.rawPath,
      protocol: 'HTTP/1.1',
      sourceIp: facts.sourceIp,
      userAgent: headers['user-agent'] ?? '',
    },
    requestId: facts.requestId,
    routeKey: '$default',
    stage: '$default',
    time: clfTime(facts.timeMs),
    timeEpoch: facts.timeMs,
  };
  if (facts.body.length > 0) {
    const binary = !isTextContentType(headers['content-type']);
    event['body'] = binary ? facts.body.toString('base64') : facts.body.toString('utf8');
    event['isBase64Encoded'] = binary;
  } else {
    event['isBase64Encoded'] = false;
  }
  return event;
}

/** Lower-cased names; a repeated header's values joined with commas, in arrival order. */
function joinedHeaders(rawHeaders: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    const value = rawHeaders[i + 1] ?? '';
    const previous = headers[name];
    headers[name] = previous === undefined ? value : `${previous},${value}`;
  }
  return headers;
}

function splitCookies(header: string): string[] {
  return header
    .split(/;|,(?=[^;]*=)/)
    .map((c) => c.trim())
    .filter((c) => c !== '');
}

/** Decoded query parameters, repeated names joined with commas; undefined when there are none. */
function queryParameters(raw: string): Record<string, string> | undefined {
  if (raw === '') return undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(raw)) {
    const previous = out[name];
    out[name] = previous === undefined ? value : `${previous},${value}`;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/**
 * Content types whose bodies are passed as text; every other body (including one without a
 * content type) is base64-encoded with `isBase64Encoded: true`.
 */
export function isTextContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript' ||
    type === 'application/graphql'
  );
}

/** `12/Mar/2020:19:03:58 +0000`. */
function clfTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()] ?? ''}/${d.getUTCFullYear()}:` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`
  );
}

/** An X-Ray style trace id made from the request's time and id. */
function traceId(requestId: string, ms: number): string {
  const hex = requestId.replace(/-/g, '').slice(0, 24).padEnd(24, '0');
  return `Root=1-${Math.floor(ms / 1000).toString(16)}-${hex}`;
}
