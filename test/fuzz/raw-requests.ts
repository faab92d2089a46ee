/**
 * Malformed HTTP/1.1 as bytes, built by fast-check from a plausible request: broken request
 * lines, broken header syntax, conflicting or broken body framing (Content-Length against
 * Transfer-Encoding, bad chunk sizes, trailers), pipelined requests and header floods within
 * Node's 16 KB limit, written in several pieces so that parsers see them split.
 */
import fc from 'fast-check';
import { headerValue, junkString } from './mutations.js';

/** A request before it is broken. */
export interface RequestShape {
  readonly method: string;
  /** Path and query, as on the request line. */
  readonly target: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
}

const CRLF = '\r\n';

const requestLine = (shape: RequestShape): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constant(`${shape.method} ${shape.target} HTTP/1.1`) },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        `${shape.method} ${shape.target}`,
        `${shape.method} ${shape.target} HTTP/0.9`,
        `${shape.method} ${shape.target} HTTP/2.0`,
        `${shape.method} ${shape.target} HTTP/1.1 extra`,
        `${shape.method}  ${shape.target}  HTTP/1.1`,
        `${shape.method} http://localhost${shape.target} HTTP/1.1`,
        `${shape.method} * HTTP/1.1`,
        `${shape.method.toLowerCase()} ${shape.target} HTTP/1.1`,
        `${shape.method} ${shape.target}\u0000 HTTP/1.1`,
        `${shape.method} ${shape.target}#frag HTTP/1.1`,
        `${shape.method} /${'a/'.repeat(3000)} HTTP/1.1`,
        `CONNECT localhost:22 HTTP/1.1`,
        `PRI * HTTP/2.0${CRLF}${CRLF}SM`,
        `GET`,
        ``,
      ),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.stringMatching(/^[A-Z]{1,12}$/), junkString)
        .map(([method, path]) => `${method} /${path} HTTP/1.1`),
    },
  );

const brokenHeaderLine: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'NoColonHere',
    ': empty-name',
    'Space-Before-Colon : x',
    'X-Folded: first',
    ' continued-by-obs-fold',
    'X-Nul: a\u0000b',
    'X-Bare-Cr: a\rb',
    'Content-Length: -1',
    'Content-Length: 1e3',
    'Content-Length: 99999999999999999999',
    'Transfer-Encoding: xchunked',
    'Transfer-Encoding: chunked, identity',
    'Expect: 100-continue',
    'Connection: Upgrade',
    'Upgrade: websocket',
    'Host: ',
    `Host: ${'h'.repeat(300)}.lambda-url.us-east-1.localhost`,
  ),
  fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,20}$/), headerValue).map(([n, v]) => `${n}: ${v}`),
);

/** How the body travels (or fails to). */
function framing(shape: RequestShape): fc.Arbitrary<{ headers: readonly string[]; body: Buffer }> {
  const body = shape.body;
  const chunked = (size: string, rest: string) =>
    Buffer.concat([Buffer.from(`${size}${CRLF}`), body, Buffer.from(`${CRLF}${rest}`)]);
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant({ headers: [`Content-Length: ${body.length}`], body }) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 0, max: body.length + 100 }).map((n) => ({
        headers: [`Content-Length: ${n}`],
        body,
      })),
    },
    {
      weight: 1,
      arbitrary: fc.constant({
        headers: [`Content-Length: ${body.length}`, `Content-Length: ${body.length + 1}`],
        body,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.constant({
        headers: [`Content-Length: ${body.length}`, 'Transfer-Encoding: chunked'],
        body: chunked(body.length.toString(16), `0${CRLF}${CRLF}`),
      }),
    },
    {
      weight: 3,
      arbitrary: fc
        .constantFrom(
          [body.length.toString(16), `0${CRLF}${CRLF}`],
          [body.length.toString(16), `0${CRLF}X-Trailer: t${CRLF}${CRLF}`],
          [`${body.length.toString(16)};ext=1`, `0${CRLF}${CRLF}`],
          ['zz', `0${CRLF}${CRLF}`],
          ['ffffffffffffffffffff', `0${CRLF}${CRLF}`],
          [(body.length + 10).toString(16), `0${CRLF}${CRLF}`],
          [body.length.toString(16), ''],
          [body.length.toString(16), `0${CRLF}`],
          ['-1', `0${CRLF}${CRLF}`],
          [` ${body.length.toString(16)}`, `0${CRLF}${CRLF}`],
        )
        .map(([size, rest]) => ({
          headers: ['Transfer-Encoding: chunked'],
          body: chunked(size ?? '0', rest ?? ''),
        })),
    },
    { weight: 1, arbitrary: fc.constant({ headers: [], body }) },
  );
}

/** A malformed request from `shape`, as the pieces to write. */
export function malformedHttp(shape: RequestShape): fc.Arbitrary<Buffer[]> {
  const headers = shape.headers.map(([name, value]) => `${name}: ${value}`);
  const headerBlock = fc.oneof(
    { weight: 5, arbitrary: fc.constant(headers) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.array(brokenHeaderLine, { minLength: 1, maxLength: 4 }), fc.nat(headers.length))
        .map(([broken, at]) => [...headers.slice(0, at), ...broken, ...headers.slice(at)]),
    },
    {
      weight: 1,
      arbitrary: fc
        .integer({ min: 100, max: 1500 })
        .map((n) => [...headers, ...Array.from({ length: n }, (_, i) => `X-${i}: y`)]),
    },
    { weight: 1, arbitrary: fc.constant([...headers, `X-Huge: ${'z'.repeat(20_000)}`]) },
  );
  const lineEnd = fc.oneof(
    { weight: 8, arbitrary: fc.constant(CRLF) },
    { weight: 1, arbitrary: fc.constantFrom('\n', '\r', '\n\r') },
  );
  const request = fc
    .tuple(requestLine(shape), headerBlock, framing(shape), lineEnd)
    .map(([line, block, framed, eol]) =>
      Buffer.concat([
        Buffer.from([line, ...block, ...framed.headers].join(eol) + eol + eol, 'latin1'),
        framed.body,
      ]),
    );
  const whole = fc.oneof(
    { weight: 6, arbitrary: request },
    // Pipelined: a second request right behind the first, possibly cut short.
    {
      weight: 2,
      arbitrary: fc
        .tuple(request, request, fc.nat(2000))
        .map(([a, b, cut]) => Buffer.concat([a, b.subarray(0, Math.max(1, b.length - cut))])),
    },
    {
      weight: 1,
      arbitrary: request.chain((bytes) => fc.nat(bytes.length).map((n) => bytes.subarray(0, n))),
    },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ minLength: 1, maxLength: 4096 }).map((b) => Buffer.from(b)),
    },
  );
  return whole.chain((bytes) =>
    fc
      .uniqueArray(fc.nat(Math.max(0, bytes.length - 1)), { maxLength: 4 })
      .map((cuts) => splitAt(bytes, cuts)),
  );
}

function splitAt(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set([0, ...cuts, bytes.length])].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  for (let i = 1; i < points.length; i += 1)
    pieces.push(bytes.subarray(points[i - 1] ?? 0, points[i] ?? bytes.length));
  return pieces.filter((piece) => piece.length > 0);
}
