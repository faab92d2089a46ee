/**
 * fast-check arbitraries that turn a valid request into a hostile one: JSON documents with fields
 * replaced, removed or added (wrong types, huge numbers, deep nesting, odd keys), and bytes that
 * are truncated, flipped, padded with invalid UTF-8 or replaced outright. Every choice is drawn by
 * fast-check from the run's seed, so a run can be repeated exactly.
 */
import fc from 'fast-check';

/** JSON text spliced in as is when a document is written (numbers and nesting JSON.stringify
 * cannot produce). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** JSON.stringify that writes `RawJson` values verbatim. */
export function jsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map((item) => jsonText(item)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const members = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`);
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const charCode = (min: number, max: number) =>
  fc.integer({ min, max }).map((code) => String.fromCharCode(code));

/** Strings that break assumptions: empty, huge, control characters, unicode, path tricks. */
export const junkString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: charCode(0, 31), maxLength: 8 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '..',
      '../../etc/passwd',
      '%',
      '%zz',
      '%00',
      '\u0000',
      '$LATEST',
      '*',
      '-1',
      '0',
      'null',
      '__proto__',
      'constructor',
      'arn:aws:lambda:us-east-1:000000000000:function:',
      'arn:aws:lambda:us-east-1:000000000000:function:x:y:z',
      '\ud800',
      '😀'.repeat(40),
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 65, max: 70_000 }).map((n) => 'a'.repeat(n)) },
);

/** Numbers at and past the edges, including JSON numbers no double can hold. */
export const edgeNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(
    -1,
    0,
    1,
    2 ** 31,
    2 ** 32,
    2 ** 53 + 2,
    -(2 ** 63),
    1.5,
    1e-300,
    new RawJson('1e999'),
    new RawJson('-1e999'),
    new RawJson('123456789012345678901234567890123456789'),
    new RawJson('-0'),
    new RawJson('0.' + '0'.repeat(400) + '1'),
  ),
);

/** A nested array or object far deeper than any real request. */
export const deepNesting: fc.Arbitrary<RawJson> = fc
  .tuple(fc.integer({ min: 50, max: 30_000 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays
      ? new RawJson('['.repeat(depth) + ']'.repeat(depth))
      : new RawJson('{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  );

/** Any value a hostile client might put where a field is expected. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: junkString },
  { weight: 3, arbitrary: edgeNumber },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(junkString, { maxLength: 8 }) },
  { weight: 1, arbitrary: fc.dictionary(junkString, junkString, { maxKeys: 8 }) },
  {
    weight: 1,
    arbitrary: fc.array(fc.jsonValue({ maxDepth: 1 }), { minLength: 100, maxLength: 1000 }),
  },
  { weight: 1, arbitrary: deepNesting },
);

const oddKey = fc.oneof(
  junkString,
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', ''),
);

type Path = readonly (string | number)[];

/** Every place in a document a mutation can aim at (the document itself included). */
function pathsOf(value: unknown, at: Path = []): Path[] {
  const paths: Path[] = [at];
  if (Array.isArray(value)) value.forEach((item, i) => paths.push(...pathsOf(item, [...at, i])));
  else if (typeof value === 'object' && value !== null && !(value instanceof RawJson))
    for (const [key, item] of Object.entries(value)) paths.push(...pathsOf(item, [...at, key]));
  return paths;
}

type Mutation =
  | { readonly kind: 'replace'; readonly path: Path; readonly value: unknown }
  | { readonly kind: 'delete'; readonly path: Path }
  | { readonly kind: 'add'; readonly path: Path; readonly key: string; readonly value: unknown };

/** A copy of `value` with fresh containers (RawJson values are shared: they are immutable). */
function copy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copy);
  if (typeof value === 'object' && value !== null && !(value instanceof RawJson))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copy(v)]));
  return value;
}

function apply(document: unknown, mutation: Mutation): unknown {
  if (mutation.path.length === 0 && mutation.kind === 'replace') return mutation.value;
  const parentPath = mutation.kind === 'add' ? mutation.path : mutation.path.slice(0, -1);
  let parent: unknown = document;
  for (const step of parentPath) {
    // An earlier mutation may have replaced or removed what this one aims into.
    if (typeof parent !== 'object' || parent === null || parent instanceof RawJson) return document;
    parent = (parent as Record<string | number, unknown>)[step];
  }
  if (typeof parent !== 'object' || parent === null || parent instanceof RawJson) return document;
  const container = parent as Record<string | number, unknown>;
  const last = mutation.path[mutation.path.length - 1];
  if (mutation.kind === 'add' && Array.isArray(container)) container.push(mutation.value);
  else if (mutation.kind === 'add') {
    // defineProperty, so that a key such as __proto__ becomes a member and not a prototype.
    Object.defineProperty(container, mutation.key, {
      value: mutation.value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else if (last !== undefined && mutation.kind === 'replace') container[last] = mutation.value;
  else if (last !== undefined && Array.isArray(container) && typeof last === 'number')
    container.splice(last, 1);
  else if (last !== undefined) delete container[last];
  return document;
}

/**
 * The template as it is (often: valid requests must reach the handlers too) or with one to three
 * fields replaced, removed or added.
 */
export function mutatedDocument(template: unknown): fc.Arbitrary<unknown> {
  const paths = pathsOf(template);
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('replace' as const),
        path: fc.constantFrom(...paths),
        value: hostileValue,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('delete' as const),
        path: fc.constantFrom(...paths),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('add' as const),
        path: fc.constantFrom(...paths),
        key: oddKey,
        value: hostileValue,
      }),
    },
  );
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(template) },
    {
      weight: 3,
      arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }).map((mutations) => {
        let document = copy(template);
        for (const m of mutations) document = apply(document, m);
        return document;
      }),
    },
  );
}

/** Byte sequences no UTF-8 decoder accepts. */
const INVALID_UTF8 = [
  [0xff],
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0x80],
  [0xe2, 0x82],
].map((bytes) => Buffer.from(bytes));

/** The bytes as they are (mostly) or damaged: truncated, flipped, invalid UTF-8, garbage. */
export function mutatedBytes(bytes: Buffer, intactWeight = 12): fc.Arbitrary<Buffer> {
  const at = fc.nat({ max: Math.max(0, bytes.length) });
  return fc.oneof(
    { weight: intactWeight, arbitrary: fc.constant(bytes) },
    { weight: 2, arbitrary: at.map((n) => bytes.subarray(0, n)) },
    {
      weight: 2,
      arbitrary: fc
        .array(fc.tuple(at, fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 })
        .map((flips) => {
          const out = Buffer.from(bytes);
          for (const [position, byte] of flips) if (position < out.length) out[position] = byte;
          return out;
        }),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(at, fc.constantFrom(...INVALID_UTF8))
        .map(([n, bad]) => Buffer.concat([bytes.subarray(0, n), bad, bytes.subarray(n)])),
    },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ maxLength: 256 })
        .map((tail) => Buffer.concat([bytes, Buffer.from(tail)])),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)) },
    {
      weight: 1,
      // Built only when drawn: for a 6 MB payload, each of these is a copy.
      arbitrary: fc.constantFrom('bom', 'twice', 'base64', 'quoted-base64', 'empty').map((kind) => {
        if (kind === 'bom') return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
        if (kind === 'twice') return Buffer.concat([bytes, bytes]);
        if (kind === 'base64') return Buffer.from(bytes.toString('base64'));
        if (kind === 'quoted-base64')
          return Buffer.from(`"${bytes.subarray(0, 750).toString('base64')}=*=="`);
        return Buffer.alloc(0);
      }),
    },
  );
}

/**
 * A JSON body from a template: field mutations, then (sometimes) byte damage; `intactWeight`
 * (against 9 for the damages) sets how often the bytes stay valid JSON.
 */
export function mutatedJsonBody(template: unknown, intactWeight?: number): fc.Arbitrary<Buffer> {
  return mutatedDocument(template).chain((document) =>
    mutatedBytes(Buffer.from(jsonText(document)), intactWeight),
  );
}

/** Header names that are valid tokens (what an HTTP client will send). */
export const headerName: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9-]{0,30}$/),
  fc.constantFrom(
    'content-type',
    'content-encoding',
    'x-amz-invocation-type',
    'x-amz-log-type',
    'x-amz-client-context',
    'x-amz-date',
    'x-amz-security-token',
    'x-amz-content-sha256',
    'authorization',
    'expect',
    'accept-encoding',
    'x-forwarded-for',
    'x-amzn-trace-id',
  ),
);

/** Header values an HTTP client will send (no CR, LF or NUL), latin1 included. */
export const headerValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: charCode(0x20, 0x7e), maxLength: 60 }) },
  { weight: 1, arbitrary: fc.string({ unit: charCode(0x80, 0xff), maxLength: 20 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1000, max: 12_000 }).map((n) => 'v'.repeat(n)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      'application/json',
      'application/x-amz-json-1.1',
      'text/plain; charset=utf-16',
      'multipart/form-data; boundary=x',
      'gzip',
      '100-continue',
    ),
  },
);

/** Extra headers: none, a few random ones, or a flood within Node's 16 KB header limit. */
export const extraHeaders: fc.Arbitrary<Record<string, string>> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({}) },
  { weight: 3, arbitrary: fc.dictionary(headerName, headerValue, { maxKeys: 4 }) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 50, max: 400 })
      .map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-flood-${i}`, 'x']))),
  },
);

/** encodeURIComponent that also takes lone surrogates (as their UTF-8 replacement character). */
export function percentEncode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    // A lone surrogate: encode the UTF-8 bytes Buffer makes of it (U+FFFD), byte by byte.
  }
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.!~*'()]/.test(ch)
      ? ch
      : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
