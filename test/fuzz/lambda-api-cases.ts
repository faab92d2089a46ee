/**
 * The Lambda API fuzz cases. Most are correctly signed requests built from an operation's valid
 * template with its body, query and headers mutated (signed requests are the ones that reach the
 * handlers); the rest are signed requests whose signature is spoiled on purpose, unsigned garbage
 * (random methods, paths from the route table or elsewhere, forged Authorization headers, function
 * URL Host headers) and malformed HTTP over a plain socket.
 */
import fc from 'fast-check';
import { ROUTES, type Route } from '../../src/api/route-table.js';
import type { HttpCase } from './http-sender.js';
import { lambdaTemplates, type LambdaPool, type RequestParts } from './lambda-api-templates.js';
import {
  extraHeaders,
  headerValue,
  hostileValue,
  junkString,
  mutatedBytes,
  mutatedJsonBody,
  percentEncode,
} from './mutations.js';
import type { RequestShape } from './raw-requests.js';

/** How a signed request is spoiled after (or while) being signed. */
export type Spoil =
  'signature' | 'secret' | 'key' | 'expired' | 'future' | 'region' | 'date-header';

export type LambdaCase =
  | {
      readonly kind: 'signed';
      readonly operation: string;
      readonly request: HttpCase;
      readonly spoil?: Spoil;
    }
  | { readonly kind: 'unsigned'; readonly operation: string; readonly request: HttpCase }
  /** Malformed bytes built from `shape` (signed first when `sign`), drawn with `seed`. */
  | {
      readonly kind: 'raw';
      readonly operation: string;
      readonly shape: RequestShape;
      readonly sign: boolean;
      readonly seed: number;
    };

/** Invokes run code, so they get more cases; the rest one share each. */
const OPERATION_WEIGHTS: Readonly<Record<string, number>> = {
  Invoke: 12,
  InvokeWithResponseStream: 3,
};
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND'];

/** A path label as written by the SDK (encoded once), or not encoded, or encoded twice. */
const encodedLabel = (value: string): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 10, arbitrary: fc.constant(percentEncode(value)) },
    {
      weight: 1,
      arbitrary: fc.constant(value.replace(/[^\x21-\x7e]/g, (c) => percentEncode(c))),
    },
    { weight: 1, arbitrary: fc.constant(percentEncode(percentEncode(value))) },
  );

function pathOf(route: Route, params: Readonly<Record<string, string>>): fc.Arbitrary<string> {
  const segments = route.path.split('/').map((segment) => {
    if (!segment.startsWith(':')) return fc.constant(segment);
    return encodedLabel(params[segment.slice(1)] ?? 'x');
  });
  return fc
    .tuple(fc.tuple(...segments), fc.integer({ min: 0, max: 15 }))
    .map(([parts, slash]) => parts.join('/') + (slash === 0 ? '/' : ''));
}

const mutatedQuery = (query: RequestParts['query']) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constant(query) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(junkString, junkString)
        .map(([k, v]): RequestParts['query'] => [...query, [k, v]]),
    },
    {
      weight: 1,
      arbitrary: junkString.map((v): RequestParts['query'] =>
        query.map(([k], i) => [k, i === 0 ? v : (query[i]?.[1] ?? '')]),
      ),
    },
    { weight: 1, arbitrary: fc.constant([...query, ...query]) },
  );

const mutatedHeaders = (headers: RequestParts['headers'], hasBody: boolean) =>
  fc
    .tuple(
      extraHeaders,
      // One request in six has one of its own headers replaced by a random value.
      fc.oneof(
        { weight: 5, arbitrary: fc.constant(null) },
        {
          weight: 1,
          arbitrary: fc.tuple(
            fc.constantFrom(...Object.keys(headers), 'content-type'),
            headerValue,
          ),
        },
      ),
    )
    .map(([extra, replaced]) => {
      const out: Record<string, string> = hasBody ? { 'content-type': 'application/json' } : {};
      Object.assign(out, headers, extra);
      if (replaced !== null) out[replaced[0]] = replaced[1];
      return out;
    });

function bodyOf(body: RequestParts['body']): fc.Arbitrary<Buffer> {
  if (body === undefined)
    return fc.oneof(
      { weight: 10, arbitrary: fc.constant(Buffer.alloc(0)) },
      { weight: 1, arbitrary: mutatedJsonBody({ Unexpected: 'body' }) },
    );
  return 'json' in body ? mutatedJsonBody(body.json, body.intact) : mutatedBytes(body.bytes);
}

function signedCase(route: Route, template: fc.Arbitrary<RequestParts>): fc.Arbitrary<LambdaCase> {
  const otherMethods = METHODS.filter((m) => m !== route.method);
  return template.chain((parts) =>
    fc
      .record({
        method: fc.oneof(
          { weight: 30, arbitrary: fc.constant(route.method) },
          { weight: 1, arbitrary: fc.constantFrom(...otherMethods) },
        ),
        path: pathOf(route, parts.params),
        query: mutatedQuery(parts.query),
        headers: mutatedHeaders(parts.headers, parts.body !== undefined),
        body: bodyOf(parts.body),
      })
      .map((request) => ({ kind: 'signed' as const, operation: route.operation, request })),
  );
}

/** For an operation with no template: junk labels and a hostile JSON body. */
function genericTemplate(route: Route): fc.Arbitrary<RequestParts> {
  const labels = route.path
    .split('/')
    .filter((s) => s.startsWith(':'))
    .map((s) => s.slice(1));
  return fc.record({
    params: fc
      .tuple(...labels.map(() => junkString))
      .map((values) => Object.fromEntries(labels.map((label, i) => [label, values[i] ?? '']))),
    query: fc.constant([]),
    headers: fc.constant({}),
    body: hostileValue.map((json) => ({ json })),
  });
}

const forgedAuthorization = fc.oneof(
  fc
    .tuple(
      fc.stringMatching(/^[0-9a-f]{64}$/),
      fc.constantFrom('host;x-amz-date', 'host', '', ';;;'),
    )
    .map(
      ([signature, signed]) =>
        `AWS4-HMAC-SHA256 Credential=LKIATESTTESTTEST0001/20260101/us-east-1/lambda/aws4_request, SignedHeaders=${signed}, Signature=${signature}`,
    ),
  fc.constantFrom(
    'AWS4-HMAC-SHA256',
    'AWS4-HMAC-SHA256 Credential=',
    'AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f/g, SignedHeaders=host, Signature=zz',
    'AWS4-HMAC-SHA256 Credential=LKIATESTTESTTEST0001/2026/us-east-1/lambda/aws4_request,,,',
    'Basic dXNlcjpwYXNz',
    'Bearer x',
  ),
  headerValue,
);

const presignedQuery = fc
  .tuple(
    junkString,
    fc.stringMatching(/^[0-9a-f]{64}$/),
    fc.constantFrom('900', '-1', 'x', '604801'),
  )
  .map(([credential, signature, expires]): (readonly [string, string])[] => [
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', credential],
    ['X-Amz-Date', '20260101T000000Z'],
    ['X-Amz-Expires', expires],
    ['X-Amz-SignedHeaders', 'host'],
    ['X-Amz-Signature', signature],
  ]);

const randomPath = fc.oneof(
  fc.constantFrom(...ROUTES.map((r) => r.path.replace(/:[A-Za-z0-9]+/g, 'x'))),
  fc.webPath(),
  junkString.map((s) => `/lambda-url/${percentEncode(s)}/`),
  fc.constantFrom(
    '/',
    '//',
    '/%',
    '/..%2f..%2fetc%2fpasswd',
    '/2015-03-31/functions/%ff/invocations',
  ),
);

function unsignedCase(): fc.Arbitrary<LambdaCase> {
  return fc
    .record({
      method: fc.constantFrom(...METHODS),
      path: randomPath,
      query: fc.oneof(
        { weight: 4, arbitrary: fc.constant([]) },
        { weight: 1, arbitrary: presignedQuery },
        {
          weight: 1,
          arbitrary: fc.array(fc.tuple(junkString, junkString), { maxLength: 4 }),
        },
      ),
      headers: fc
        .tuple(
          extraHeaders,
          fc.option(forgedAuthorization, { freq: 2 }),
          fc.option(
            fc.oneof(
              fc
                .stringMatching(/^[a-z0-9]{32}$/)
                .map((id) => `${id}.lambda-url.us-east-1.localhost`),
              fc.constantFrom('localhost', '', 'lambda-url.us-east-1.localhost', '[::1]:99999'),
            ),
            { freq: 4 },
          ),
        )
        .map(([extra, authorization, host]) => ({
          ...extra,
          ...(authorization === null ? {} : { authorization }),
          ...(host === null ? {} : { host }),
        })),
      body: fc.oneof(
        { weight: 3, arbitrary: fc.constant(Buffer.alloc(0)) },
        { weight: 2, arbitrary: mutatedJsonBody({ FunctionName: 'fz-echo' }) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b)) },
      ),
    })
    .map((request) => ({ kind: 'unsigned' as const, operation: 'unsigned', request }));
}

function rawCase(route: Route, template: fc.Arbitrary<RequestParts>): fc.Arbitrary<LambdaCase> {
  return template.chain((parts) =>
    fc
      .tuple(pathOf(route, parts.params), bodyOf(parts.body), fc.boolean(), fc.integer())
      .map(([path, body, sign, seed]) => ({
        kind: 'raw' as const,
        operation: `raw ${route.operation}`,
        shape: {
          method: route.method,
          target: path,
          headers: [
            ['Host', 'localhost'],
            ['Content-Type', 'application/json'],
            ...Object.entries(parts.headers),
          ] as const,
          body,
        },
        sign,
        seed,
      })),
  );
}

/** Every case, and the operations of the route table that had no template (fuzzed generically). */
export function lambdaCases(pool: LambdaPool): {
  readonly cases: fc.Arbitrary<LambdaCase>;
  readonly untemplated: readonly string[];
} {
  const templates = lambdaTemplates(pool);
  const untemplated = ROUTES.filter((r) => templates[r.operation] === undefined).map(
    (r) => r.operation,
  );
  const perRoute = (
    make: (route: Route, t: fc.Arbitrary<RequestParts>) => fc.Arbitrary<LambdaCase>,
  ) =>
    fc.oneof(
      ...ROUTES.map((route) => ({
        weight: OPERATION_WEIGHTS[route.operation] ?? 1,
        arbitrary: make(route, templates[route.operation] ?? genericTemplate(route)),
      })),
    );
  const signed = perRoute(signedCase);
  const spoiled = fc
    .tuple(
      signed,
      fc.constantFrom<Spoil>(
        'signature',
        'secret',
        'key',
        'expired',
        'future',
        'region',
        'date-header',
      ),
    )
    .map(([c, spoil]) => ({ ...c, spoil }));
  return {
    cases: fc.oneof(
      { weight: 70, arbitrary: signed },
      { weight: 4, arbitrary: spoiled },
      { weight: 12, arbitrary: unsignedCase() },
      { weight: 14, arbitrary: perRoute(rawCase) },
    ),
    untemplated,
  };
}
