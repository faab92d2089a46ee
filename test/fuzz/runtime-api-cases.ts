/**
 * The Runtime API fuzz cases, for one environment's socket: every path of the Runtime API
 * (2018-06-01), the Extensions API (2020-01-01), the Telemetry and Logs subscriptions and Lamina's
 * assignment path, with mutated headers and bodies, streamed responses with trailers, oversized
 * bodies, wrong methods and paths; the binary runtime channel (channel-cases.ts); and malformed
 * HTTP. Request and extension ids are placeholders (`{rid}`, `{xid}`) filled in when the case is
 * sent: the environment's real current ids when known and the case asks for them, else the
 * literal the case carries.
 */
import fc from 'fast-check';
import { channelCase, type ChannelCase } from './channel-cases.js';
import {
  extraHeaders,
  headerValue,
  junkString,
  mutatedBytes,
  mutatedJsonBody,
  percentEncode,
} from './mutations.js';
import type { RequestShape } from './raw-requests.js';

export const REQUEST_ID = '{rid}';
export const EXTENSION_ID = '{xid}';

/** An id: the live one (when the harness knows it) or a literal. */
export type IdChoice = { readonly live: true } | { readonly live: false; readonly literal: string };

export interface RuntimeHttpCase {
  readonly kind: 'http';
  readonly operation: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** Answered only when there is something to hand out: cut short, not a hang. */
  readonly longPoll: boolean;
  readonly requestId: IdChoice;
  readonly extensionId: IdChoice;
}

export interface RuntimeRawCase {
  readonly kind: 'raw';
  readonly operation: string;
  readonly shape: RequestShape;
  readonly longPoll: boolean;
  readonly requestId: IdChoice;
  readonly seed: number;
  /** The shape's body is already framed (chunked with trailers): sent as is, not broken. */
  readonly preframed?: boolean;
}

export type RuntimeCase = (RuntimeHttpCase | RuntimeRawCase | ChannelCase) & {
  /** Which of the live sockets (modulo their number). */
  readonly socketPick: number;
};

export const idChoice: fc.Arbitrary<IdChoice> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ live: true as const }) },
  { weight: 2, arbitrary: fc.uuid().map((literal) => ({ live: false as const, literal })) },
  { weight: 1, arbitrary: junkString.map((literal) => ({ live: false as const, literal })) },
);

const RUNTIME = '/2018-06-01/runtime';
const EXTENSION = '/2020-01-01/extension';

/** A path label: encoded, or raw (a junk id may carry `/`, `%`, `?`). */
const label = (id: string) =>
  fc.constantFrom(id === REQUEST_ID ? id : percentEncode(id), id.replace(/[^\x21-\x7e]/g, 'x'));

const errorDocument = {
  errorMessage: 'fuzz',
  errorType: 'Runtime.Fuzz',
  stackTrace: ['at fuzz (index.js:1:1)'],
};

/** Bodies far over the limits (6 MB + 100 B for answers, 1 MB for extension requests). */
const oversized = fc.constantFrom(
  ...[1024 * 1024 + 1, 6 * 1024 * 1024 + 101, 16 * 1024 * 1024].map((size) =>
    Buffer.alloc(size, 0x61),
  ),
);

const body = (template: unknown) =>
  fc.oneof(
    { weight: 40, arbitrary: mutatedJsonBody(template) },
    { weight: 4, arbitrary: fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b)) },
    { weight: 4, arbitrary: fc.constant(Buffer.alloc(0)) },
    { weight: 1, arbitrary: oversized },
  );

interface Template {
  readonly operation: string;
  readonly method: string;
  readonly path: fc.Arbitrary<string>;
  readonly headers: fc.Arbitrary<Record<string, string>>;
  readonly body: fc.Arbitrary<Buffer>;
  readonly longPoll?: boolean;
  readonly weight: number;
}

const answerHeaders = fc.record(
  {
    'content-type': fc.constantFrom('application/json', 'application/octet-stream', 'text/plain'),
    'lambda-runtime-function-response-mode': fc.oneof(
      { weight: 4, arbitrary: fc.constant('streaming') },
      { weight: 1, arbitrary: fc.constantFrom('Streaming', 'buffered', '', 'stream') },
      { weight: 1, arbitrary: headerValue },
    ),
    'lambda-runtime-function-error-type': fc.oneof(
      fc.constantFrom('Runtime.Fuzz', 'Function.Unknown', ''),
      headerValue,
    ),
    'lambda-runtime-function-xray-error-cause': headerValue,
  },
  { requiredKeys: [] },
);

const extensionHeaders = fc.record(
  {
    'lambda-extension-identifier': fc.constant(EXTENSION_ID),
    'lambda-extension-name': fc.oneof(fc.constantFrom('fz-ext', 'fz-ext-2', ''), junkString),
    'lambda-extension-accept-feature': fc.constantFrom('accountId', 'x, accountId', ''),
    'lambda-extension-function-error-type': fc.oneof(
      fc.constantFrom('Extension.Fuzz', ''),
      headerValue,
    ),
  },
  { requiredKeys: [] },
);

const subscription = (api: 'telemetry' | 'logs') => ({
  schemaVersion: api === 'telemetry' ? '2022-12-13' : '2021-03-18',
  types: ['platform', 'function'],
  buffering: { maxItems: 1000, maxBytes: 262144, timeoutMs: 100 },
  destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:8080/fz' },
});

const TEMPLATES: readonly Template[] = [
  {
    operation: 'GET /runtime/invocation/next',
    method: 'GET',
    path: fc.constant(`${RUNTIME}/invocation/next`),
    headers: fc.constant({}),
    body: fc.constant(Buffer.alloc(0)),
    longPoll: true,
    weight: 4,
  },
  {
    operation: 'POST /runtime/invocation/{id}/response',
    method: 'POST',
    path: label(REQUEST_ID).map((id) => `${RUNTIME}/invocation/${id}/response`),
    headers: answerHeaders,
    body: body({ statusCode: 200, body: 'fuzz' }),
    weight: 12,
  },
  {
    operation: 'POST /runtime/invocation/{id}/error',
    method: 'POST',
    path: label(REQUEST_ID).map((id) => `${RUNTIME}/invocation/${id}/error`),
    headers: answerHeaders,
    body: body(errorDocument),
    weight: 10,
  },
  {
    operation: 'POST /runtime/init/error',
    method: 'POST',
    path: fc.constant(`${RUNTIME}/init/error`),
    headers: answerHeaders,
    body: body(errorDocument),
    weight: 5,
  },
  {
    operation: 'POST /extension/register',
    method: 'POST',
    path: fc.constant(`${EXTENSION}/register`),
    headers: extensionHeaders,
    body: body({ events: ['INVOKE', 'SHUTDOWN'] }),
    weight: 5,
  },
  {
    operation: 'GET /extension/event/next',
    method: 'GET',
    path: fc.constant(`${EXTENSION}/event/next`),
    headers: extensionHeaders,
    body: fc.constant(Buffer.alloc(0)),
    longPoll: true,
    weight: 3,
  },
  {
    operation: 'POST /extension/init/error',
    method: 'POST',
    path: fc.constant(`${EXTENSION}/init/error`),
    headers: extensionHeaders,
    body: body(errorDocument),
    weight: 3,
  },
  {
    operation: 'POST /extension/exit/error',
    method: 'POST',
    path: fc.constant(`${EXTENSION}/exit/error`),
    headers: extensionHeaders,
    body: body(errorDocument),
    weight: 3,
  },
  {
    operation: 'PUT /telemetry',
    method: 'PUT',
    path: fc.constant('/2022-07-01/telemetry'),
    headers: extensionHeaders,
    body: body(subscription('telemetry')),
    weight: 4,
  },
  {
    operation: 'PUT /logs',
    method: 'PUT',
    path: fc.constant('/2020-08-15/logs'),
    headers: extensionHeaders,
    body: body(subscription('logs')),
    weight: 3,
  },
  {
    operation: 'GET /lamina/assignment',
    method: 'GET',
    path: fc.constant('/lamina/2026-11-01/assignment'),
    headers: fc.constant({}),
    body: fc.constant(Buffer.alloc(0)),
    longPoll: true,
    weight: 1,
  },
  {
    operation: 'other path',
    method: 'GET',
    path: fc.oneof(
      fc.constantFrom(
        `${RUNTIME}/`,
        `${RUNTIME}/invocation//response`,
        '/',
        '/2018-06-01/ping',
        `${EXTENSION}/`,
      ),
      junkString.map((s) => `/${percentEncode(s)}`),
      fc.webPath(),
    ),
    headers: fc.constant({}),
    body: fc.constant(Buffer.alloc(0)),
    weight: 2,
  },
];

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];

function httpCase(t: Template): fc.Arbitrary<RuntimeHttpCase> {
  return fc
    .record({
      method: fc.oneof(
        { weight: 12, arbitrary: fc.constant(t.method) },
        { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
      ),
      path: t.path,
      headers: fc.tuple(t.headers, extraHeaders).map(([h, extra]) => ({ ...h, ...extra })),
      body: t.body,
      requestId: idChoice,
      extensionId: idChoice,
    })
    .map((c) => ({
      kind: 'http' as const,
      operation: c.method === t.method ? t.operation : `${c.method} instead: ${t.operation}`,
      longPoll: t.longPoll === true,
      ...c,
    }));
}

/** A streamed response with trailers (what the Node.js client sends on a mid-stream failure). */
const streamedWithTrailers: fc.Arbitrary<RuntimeRawCase> = fc
  .record({
    chunks: fc.array(fc.uint8Array({ maxLength: 512 }), { maxLength: 4 }),
    errorType: fc.oneof(fc.constant('Runtime.StreamFuzz'), headerValue),
    errorBody: fc.oneof(fc.base64String({ maxLength: 200 }), headerValue),
    path: fc.constantFrom('response', 'error'),
    requestId: idChoice,
    seed: fc.integer(),
  })
  .map((c) => {
    const framed = Buffer.concat([
      ...c.chunks.map((chunk) =>
        Buffer.concat([
          Buffer.from(`${chunk.length.toString(16)}\r\n`),
          chunk,
          Buffer.from('\r\n'),
        ]),
      ),
      Buffer.from(
        `0\r\nLambda-Runtime-Function-Error-Type: ${c.errorType}\r\nLambda-Runtime-Function-Error-Body: ${c.errorBody}\r\n\r\n`,
        'latin1',
      ),
    ]);
    return {
      kind: 'raw' as const,
      operation: `streamed ${c.path} with trailers`,
      shape: {
        method: 'POST',
        target: `${RUNTIME}/invocation/${REQUEST_ID}/${c.path}`,
        headers: [
          ['Host', 'localhost'],
          ['Lambda-Runtime-Function-Response-Mode', 'streaming'],
          ['Transfer-Encoding', 'chunked'],
          ['Trailer', 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body'],
        ] as const,
        body: framed,
      },
      longPoll: false,
      requestId: c.requestId,
      seed: c.seed,
      preframed: true,
    };
  });

function rawCase(t: Template): fc.Arbitrary<RuntimeRawCase> {
  return fc
    .record({
      path: t.path,
      headers: t.headers,
      body: t.body.chain(mutatedBytes),
      requestId: idChoice,
      seed: fc.integer(),
    })
    .map((c) => ({
      kind: 'raw' as const,
      operation: `raw ${t.operation}`,
      shape: {
        method: t.method,
        target: c.path,
        headers: [['Host', 'localhost'], ...Object.entries(c.headers)] as const,
        body: c.body.length > 1024 * 1024 ? c.body.subarray(0, 1024) : c.body,
      },
      longPoll: t.longPoll === true,
      requestId: c.requestId,
      seed: c.seed,
    }));
}

export const runtimeCases: fc.Arbitrary<RuntimeCase> = fc
  .tuple(
    fc.oneof(
      ...TEMPLATES.map((t) => ({ weight: t.weight * 6, arbitrary: httpCase(t) })),
      { weight: 30, arbitrary: channelCase(idChoice) },
      { weight: 6, arbitrary: streamedWithTrailers },
      ...TEMPLATES.map((t) => ({ weight: t.weight, arbitrary: rawCase(t) })),
    ),
    fc.nat(),
  )
  .map(([c, socketPick]): RuntimeCase => ({ ...c, socketPick }));
