/**
 * Unit tests of SigV4 verification (header form and presigned query form). Requests are signed
 * with the real @smithy/signature-v4 signer, shaped like the AWS CLI and JS SDK captures in
 * shared/reference/client-requests, and verified against a fake clock: time is the clock's value.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { Hash } from '@smithy/core/serde';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { LambdaError } from '../../src/core/errors.js';
import type { ErrorCode } from '../../src/core/errors.js';
import { presignGetUrl } from '../../src/core/sigv4-presign.js';
import { Sigv4Verifier, formatAmzDate } from '../../src/core/sigv4-verifier.js';
import type { IncomingRequest, VerifiedCaller } from '../../src/core/sigv4-verifier.js';

const sha256 = Hash.bind(null, 'sha256');

const ACCESS_KEY_ID = 'AKIDEXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const OTHER_ACCESS_KEY_ID = 'AKIDOTHER';
const OTHER_SECRET = 'otherSecretKeyOtherSecretKeyOtherSecret0';
const REGION = 'us-east-1';
const SERVICE = 'lambda';
const HOST = '127.0.0.1:9000';
/** 20261121T192256Z, the X-Amz-Date of the CLI CreateFunction capture. */
const NOW = Date.UTC(2026, 10, 21, 19, 22, 56);
const SECOND = 1000;
const MINUTE = 60 * SECOND;

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
const CONTENT_SHA_MISMATCH =
  'The provided x-amz-content-sha256 header does not match what was computed.';
const BAD_TOKEN = 'The security token included in the request is invalid.';
const EXPIRED_ACCESS_KEY_ID = 'ASIAEXPIRED';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:fn';
const ENCODED_ARN = 'arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Afn';

const SDK_USER_AGENT =
  'aws-sdk-js/3.1161.0 ua/2.1 os/linux#6.18.44-fc-v657 lang/js md/nodejs#20.20.2 api/lambda#3.1161.0 m/N,E,e';
const CLI_USER_AGENT =
  'aws-cli/2.9.19 Python/3.11.2 Linux/6.18.44-fc-v657 source/x86_64.debian.12 prompt/off';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

interface VerifierSettings {
  readonly now?: number;
  readonly maxSkewMs?: number;
  readonly onLookup?: (accessKeyId: string) => void;
}

/** A verifier for lambda/us-east-1 knowing AKIDEXAMPLE, with a fixed clock. */
function makeVerifier(settings: VerifierSettings = {}): Sigv4Verifier {
  const now = settings.now ?? NOW;
  const secrets = new Map([
    [ACCESS_KEY_ID, SECRET],
    [OTHER_ACCESS_KEY_ID, OTHER_SECRET],
  ]);
  return new Sigv4Verifier({
    service: SERVICE,
    region: REGION,
    secretFor: (accessKeyId) => {
      settings.onLookup?.(accessKeyId);
      return secrets.get(accessKeyId);
    },
    clock: { now: () => now },
    hasExpired: (accessKeyId) => accessKeyId === EXPIRED_ACCESS_KEY_ID,
    ...(settings.maxSkewMs === undefined ? {} : { maxSkewMs: settings.maxSkewMs }),
  });
}

/** RFC 3986 encoding, as the SDKs serialise query values onto the wire. */
function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `?k=v&k=v2` in the given order, values RFC 3986 encoded; '' without parameters. */
function queryString(query: Readonly<Record<string, string | readonly string[]>>): string {
  const pairs = Object.entries(query).flatMap(([name, value]) =>
    (typeof value === 'string' ? [value] : value).map((v) => `${rfc3986(name)}=${rfc3986(v)}`),
  );
  return pairs.length === 0 ? '' : `?${pairs.join('&')}`;
}

interface SignSpec {
  readonly method: string;
  /** The path as it goes on the wire (labels already percent-encoded). */
  readonly path: string;
  /** Decoded query parameters. */
  readonly query?: Readonly<Record<string, string | readonly string[]>>;
  /** Headers present when signing (host is added); all of them end up signed. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Headers added after signing, as clients add user-agent, content-length and so on. */
  readonly unsignedHeaders?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly signedAt?: number;
  /** false signs like botocore: no x-amz-content-sha256 header. Default: like the JS SDK. */
  readonly applyChecksum?: boolean;
  readonly accessKeyId?: string;
  readonly secret?: string;
  readonly sessionToken?: string;
  readonly region?: string;
  readonly service?: string;
  readonly unsignableHeaders?: ReadonlySet<string>;
}

/** Signs a request with the real signer and returns it as the server would receive it. */
async function signRequest(spec: SignSpec): Promise<IncomingRequest> {
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: spec.accessKeyId ?? ACCESS_KEY_ID,
      secretAccessKey: spec.secret ?? SECRET,
      ...(spec.sessionToken === undefined ? {} : { sessionToken: spec.sessionToken }),
    },
    region: spec.region ?? REGION,
    service: spec.service ?? SERVICE,
    sha256,
    applyChecksum: spec.applyChecksum ?? true,
  });
  const body = spec.body === undefined ? undefined : new TextEncoder().encode(spec.body);
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(spec.query ?? {})) {
    query[name] = typeof value === 'string' ? value : [...value];
  }
  const request = new HttpRequest({
    method: spec.method,
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 9000,
    path: spec.path,
    query,
    headers: { host: HOST, ...spec.headers },
    ...(body === undefined ? {} : { body }),
  });
  const signed = await signer.sign(request, {
    signingDate: new Date(spec.signedAt ?? NOW),
    ...(spec.unsignableHeaders === undefined
      ? {}
      : { unsignableHeaders: new Set(spec.unsignableHeaders) }),
  });
  return {
    method: spec.method,
    rawUrl: spec.path + queryString(spec.query ?? {}),
    headers: { ...signed.headers, ...spec.unsignedHeaders },
    body,
  };
}

/** A copy of the request with headers replaced (a value of undefined removes the header). */
function withHeaders(
  request: IncomingRequest,
  changes: Readonly<Record<string, string | undefined>>,
): IncomingRequest {
  const headers: Record<string, string | string[] | undefined> = { ...request.headers };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  return { ...request, headers };
}

function authorizationOf(request: IncomingRequest): string {
  const value = request.headers['authorization'];
  assert.equal(typeof value, 'string', 'the signed request has an authorization header');
  return typeof value === 'string' ? value : '';
}

/** A copy of the request whose Authorization header went through `edit`. */
function editAuthorization(request: IncomingRequest, edit: (auth: string) => string) {
  return withHeaders(request, { authorization: edit(authorizationOf(request)) });
}

function signatureOf(request: IncomingRequest): string {
  const auth = authorizationOf(request);
  return auth.slice(auth.indexOf('Signature=') + 'Signature='.length);
}

function signedHeadersOf(request: IncomingRequest): string {
  return /SignedHeaders=([^,]*)/.exec(authorizationOf(request))?.[1] ?? '';
}

async function assertVerified(promise: Promise<VerifiedCaller>, accessKeyId = ACCESS_KEY_ID) {
  assert.deepEqual(await promise, { accessKeyId });
}

/** Asserts a rejection with a 403 LambdaError of `code`, and its exact or matching message. */
async function assertFails(
  promise: Promise<unknown>,
  code: ErrorCode,
  message?: string | RegExp,
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof LambdaError, `expected a LambdaError, got ${String(err)}`);
    assert.equal(err.code, code, `code (message: ${err.message})`);
    assert.equal(err.spec.status, 403);
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message !== undefined) assert.match(err.message, message);
    return true;
  });
}

/** A request from the AWS CLI: only host, x-amz-date and (with a body) content-type signed. */
function cliRequest(spec: SignSpec): Promise<IncomingRequest> {
  const bodyLength = spec.body === undefined ? {} : { 'content-length': `${spec.body.length}` };
  return signRequest({
    applyChecksum: false,
    ...spec,
    unsignedHeaders: {
      'accept-encoding': 'identity',
      'user-agent': CLI_USER_AGENT,
      ...bodyLength,
      ...spec.unsignedHeaders,
    },
  });
}

/** A request from the JS SDK v3: x-amz-content-sha256 and the amz-sdk-* headers signed. */
function sdkRequest(spec: SignSpec): Promise<IncomingRequest> {
  const body =
    spec.body === undefined
      ? {}
      : { 'content-type': 'application/json', 'content-length': `${spec.body.length}` };
  return signRequest({
    ...spec,
    headers: {
      ...body,
      'x-amz-user-agent': 'aws-sdk-js/3.1161.0',
      'amz-sdk-invocation-id': '7d87aff5-eb3e-4372-ac1b-04e4b88b3195',
      'amz-sdk-request': 'attempt=1; max=1',
      ...spec.headers,
    },
    unsignedHeaders: {
      'user-agent': SDK_USER_AGENT,
      connection: 'keep-alive',
      ...spec.unsignedHeaders,
    },
  });
}

const CREATE_BODY = JSON.stringify({
  FunctionName: 'fn',
  Runtime: 'nodejs20.x',
  Role: 'arn:aws:iam::000000000000:role/lambda-role',
  Handler: 'index.handler',
  Code: { ZipFile: 'UEsDBBQAAAAIANyadV0iOS8W0wAAADQBAAAJABwAaW5kZXgubWpz' },
});

/** A presigned URL as the server receives it: path+query and a host header. */
function presignedRequest(url: string, method = 'GET'): IncomingRequest {
  const parsed = new URL(url);
  return {
    method,
    rawUrl: parsed.pathname + parsed.search,
    headers: { host: parsed.host },
    body: undefined,
  };
}

function presign(path: string, expiresSeconds: number, signedAt = NOW): Promise<string> {
  return presignGetUrl(HOST, path, {
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET,
    region: REGION,
    service: SERVICE,
    expiresSeconds,
    clock: { now: () => signedAt },
  });
}

function withRawUrl(request: IncomingRequest, rawUrl: string): IncomingRequest {
  return { ...request, rawUrl };
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('formatAmzDate', () => {
  test('formats epoch milliseconds as basic ISO-8601 (20261121T192256Z)', () => {
    assert.equal(formatAmzDate(NOW), '20261121T192256Z');
  });

  test('drops milliseconds and zero-pads every field', () => {
    assert.equal(formatAmzDate(Date.UTC(2027, 0, 2, 3, 4, 5, 999)), '20270102T030405Z');
    assert.equal(formatAmzDate(0), '19700101T000000Z');
  });
});

describe('Sigv4Verifier header form: valid requests', () => {
  test('a CLI-style GET with query parameters verifies and names the caller', async () => {
    const request = await cliRequest({
      method: 'GET',
      path: '/2015-03-31/functions/',
      query: { MaxItems: '10', Marker: 'abc' },
    });
    assert.equal(signedHeadersOf(request), 'host;x-amz-date');
    assert.equal(request.rawUrl, '/2015-03-31/functions/?MaxItems=10&Marker=abc');
    await assertVerified(makeVerifier().verify(request));
  });

  test('an SDK-style POST with a signed x-amz-content-sha256 header verifies', async () => {
    const request = await sdkRequest({
      method: 'POST',
      path: '/2015-03-31/functions',
      body: CREATE_BODY,
    });
    assert.equal(
      signedHeadersOf(request),
      'amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;' +
        'x-amz-content-sha256;x-amz-date;x-amz-user-agent',
    );
    assert.match(String(request.headers['x-amz-content-sha256']), /^[0-9a-f]{64}$/);
    await assertVerified(makeVerifier().verify(request));
  });

  test('a CLI-style POST (no x-amz-content-sha256; content-type;host;x-amz-date) verifies by hashing the body', async () => {
    const request = await cliRequest({
      method: 'POST',
      path: '/2015-03-31/functions',
      headers: { 'content-type': 'application/json' },
      body: CREATE_BODY,
    });
    assert.equal(signedHeadersOf(request), 'content-type;host;x-amz-date');
    assert.equal(request.headers['x-amz-content-sha256'], undefined);
    assert.equal(request.headers['content-length'], `${CREATE_BODY.length}`);
    await assertVerified(makeVerifier().verify(request));
  });

  test('a CLI-style Invoke with a signed x-amz-invocation-type and a query verifies', async () => {
    const request = await cliRequest({
      method: 'POST',
      path: '/2015-03-31/functions/cli-oracle-8402/invocations',
      query: { Qualifier: 'live' },
      headers: { 'x-amz-invocation-type': 'Event' },
      body: '{"key": "value"}',
    });
    assert.equal(signedHeadersOf(request), 'host;x-amz-date;x-amz-invocation-type');
    await assertVerified(makeVerifier().verify(request));
  });

  test('an SDK-style GET of a percent-encoded function ARN with Qualifier=$LATEST verifies', async () => {
    const request = await sdkRequest({
      method: 'GET',
      path: `/2015-03-31/functions/${ENCODED_ARN}/configuration`,
      query: { Qualifier: '$LATEST' },
    });
    assert.equal(
      request.rawUrl,
      '/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Afn' +
        '/configuration?Qualifier=%24LATEST',
    );
    await assertVerified(makeVerifier().verify(request));
  });

  test('a CLI-style GET of an encoded name:qualifier path verifies', async () => {
    const request = await cliRequest({
      method: 'GET',
      path: '/2015-03-31/functions/probe-fn%3Alive/configuration',
    });
    await assertVerified(makeVerifier().verify(request));
  });

  test('the raw path is what is verified: the same path sent decoded fails (the signer double-encodes)', async () => {
    const request = await sdkRequest({
      method: 'GET',
      path: `/2015-03-31/functions/${ENCODED_ARN}/configuration`,
    });
    await assertFails(
      makeVerifier().verify(
        withRawUrl(request, `/2015-03-31/functions/${FUNCTION_ARN}/configuration`),
      ),
      'InvalidSignatureException',
      SIGNATURE_MISMATCH,
    );
  });

  test('repeated query keys (tagKeys=a&tagKeys=b) verify, in either wire order', async () => {
    const request = await sdkRequest({
      method: 'DELETE',
      path: `/2017-03-31/tags/${ENCODED_ARN}`,
      query: { tagKeys: ['a', 'b'] },
    });
    assert.equal(request.rawUrl, `/2017-03-31/tags/${ENCODED_ARN}?tagKeys=a&tagKeys=b`);
    await assertVerified(makeVerifier().verify(request));
    await assertVerified(
      makeVerifier().verify(
        withRawUrl(request, `/2017-03-31/tags/${ENCODED_ARN}?tagKeys=b&tagKeys=a`),
      ),
    );
  });

  test('query values with space, plus, slash, colon and tilde verify', async () => {
    const request = await cliRequest({
      method: 'GET',
      path: '/2015-03-31/functions/',
      query: { Marker: 'a b+c/d:e~f', FunctionVersion: 'ALL' },
    });
    assert.equal(
      request.rawUrl,
      '/2015-03-31/functions/?Marker=a%20b%2Bc%2Fd%3Ae~f&FunctionVersion=ALL',
    );
    await assertVerified(makeVerifier().verify(request));
  });

  test('a declared x-amz-content-sha256 in upper-case hex is accepted as signed', async () => {
    const body = '{"a":1}';
    const hash = new sha256();
    hash.update(new TextEncoder().encode(body));
    const upper = Buffer.from(await hash.digest())
      .toString('hex')
      .toUpperCase();
    const request = await sdkRequest({
      method: 'POST',
      path: '/2015-03-31/functions/fn/invocations',
      headers: { 'x-amz-content-sha256': upper },
      body,
    });
    await assertVerified(makeVerifier().verify(request));
  });

  test('an Authorization header without spaces after the commas verifies', async () => {
    const request = await cliRequest({ method: 'GET', path: '/2015-03-31/functions/' });
    await assertVerified(
      makeVerifier().verify(editAuthorization(request, (auth) => auth.replace(/, /g, ','))),
    );
  });

  test('signed header values with runs of spaces and tabs verify (canonical form collapses them)', async () => {
    const request = await sdkRequest({
      method: 'POST',
      path: '/2015-03-31/functions/fn/invocations',
      headers: { 'x-amz-client-context': '  e30=  ', 'x-custom': 'a   b\t\tc' },
      body: '{}',
    });
    assert.ok(signedHeadersOf(request).split(';').includes('x-custom'));
    await assertVerified(makeVerifier().verify(request));
  });

  test('a signed Date header is left out of the canonical request, as the signer leaves it', async () => {
    const request = await cliRequest({
      method: 'GET',
      path: '/2015-03-31/functions/',
      unsignedHeaders: { date: 'Sat, 21 Nov 2026 19:22:56 GMT' },
    });
    await assertVerified(
      makeVerifier().verify(
        editAuthorization(request, (auth) => auth.replace('SignedHeaders=', 'SignedHeaders=date;')),
      ),
    );
  });

  test('the signing key is derived per day: first and cached verifications agree, across midnight', async () => {
    let now = NOW;
    const verifier = new Sigv4Verifier({
      service: SERVICE,
      region: REGION,
      secretFor: (accessKeyId) => (accessKeyId === ACCESS_KEY_ID ? SECRET : undefined),
      clock: { now: () => now },
    });
    const path = '/2015-03-31/functions/';
    const first = await cliRequest({ method: 'GET', path, signedAt: NOW });
    await assertVerified(verifier.verify(first));
    await assertVerified(verifier.verify(first));
    now = NOW + 24 * 3600_000;
    await assertVerified(verifier.verify(await cliRequest({ method: 'GET', path, signedAt: now })));
    await assertFails(
      verifier.verify(await cliRequest({ method: 'GET', path, signedAt: now, secret: 'wrong' })),
      'InvalidSignatureException',
      SIGNATURE_MISMATCH,
    );
  });

  test('unsigned headers may change without breaking the signature', async () => {
    const request = await sdkRequest({ method: 'GET', path: '/2015-03-31/functions/fn' });
    await assertVerified(
      makeVerifier().verify(
        withHeaders(request, { 'user-agent': 'something-else/1.0', connection: 'close' }),
      ),
    );
  });

  test('the access key id from the Credential is the one looked up', async () => {
    const lookedUp: string[] = [];
    const request = await cliRequest({
      method: 'GET',
      path: '/2015-03-31/functions/',
      accessKeyId: OTHER_ACCESS_KEY_ID,
      secret: OTHER_SECRET,
    });
    await assertVerified(
      makeVerifier({ onLookup: (id) => lookedUp.push(id) }).verify(request),
      OTHER_ACCESS_KEY_ID,
    );
    assert.deepEqual(lookedUp, [OTHER_ACCESS_KEY_ID]);
  });

  test('an x-amz-content-sha256 header that the client did not sign is used as the payload hash but not signed', async () => {
    const request = await sdkRequest({
      method: 'POST',
      path: '/2015-03-31/functions/fn/invocations',
      body: '{"a":1}',
      unsignableHeaders: new Set(['x-amz-content-sha256']),
    });
    assert.ok(!signedHeadersOf(request).includes('x-amz-content-sha256'));
    assert.match(String(request.headers['x-amz-content-sha256']), /^[0-9a-f]{64}$/);
    await assertVerified(makeVerifier().verify(request));
  });
});

describe('Sigv4Verifier header form: signature comparison', () => {
  test('the provided signature is compared case-insensitively (upper-case hex passes)', async () => {
    const request = await cliRequest({ method: 'GET', path: '/2015-03-31/functions/' });
    const signature = signatureOf(request);
    assert.match(signature, /^[0-9a-f]{64}$/);
    await assertVerified(
      makeVerifier().verify(
        editAuthorization(request, (auth) => auth.replace(signature, signature.toUpperCase())),
      ),
    );
  });

  test('a truncated or over-long signature fails with a mismatch, not a crash', async () => {
    const request = await cliRequest({ method: 'GET', path: '/2015-03-31/functions/' });
    const signature = signatureOf(request);
    for (const other of [signature.slice(0, 63), `${signature}0`, '']) {
      await assertFails(
        makeVerifier().verify(editAuthorization(request, (auth) => auth.replace(signature, other))),
        'InvalidSignatureException',
        SIGNATURE_MISMATCH,
      );
    }
  });

  test('a signature differing in one hex digit fails', async () => {
    const request = await cliRequest({ method: 'GET', path: '/2015-03-31/functions/' });
    const signature = signatureOf(request);
    const flipped = signature.slice(0, -1) + (signature.endsWith('0') ? '1' : '0');
    await assertFails(
      makeVerifier().verify(editAuthorization(request, (auth) => auth.replace(signature, flipped))),
      'InvalidSignatureException',
      SIGNATURE_MISMATCH,
    );
  });
});

describe('Sigv4Verifier header form: tampering', () => {
  const invoke = () =>
    cliRequest({
      method: 'POST',
      path: '/2015-03-31/functions/fn/invocations',
      query: { Qualifier: '$LATEST' },
      headers: { 'x-amz-invocation-type': 'Event', 'content-type': 'application/json' },
      body: '{"amount":100}',
    });

  test('a changed body fails (CLI style, body hashed by the verifier)', async () => {
    const request = await invoke();
    await assertVerified(makeVerifier().verify(request));
    await assertFails(
      makeVerifier().verify({ ...request, body: new TextEncoder().encode('{"amount":999}') }),
      'InvalidSignatureException',
      SIGNATURE_MISMATCH,
    );
    await assertFails(
      makeVerifier().verify({ ...request, body: undefined }),
      'InvalidSignatureException',
      SIGNATURE_MISMATCH,
    );
  });

  test('a changed body fails (SDK style): it no longer matches x-amz-content-sha256', async () => {
    const request = await sdkRequest({
      method: 'POST',
      path: '/2015-03-31/functions',
      body: CREATE_BODY,
    });
    await assertFails(
      makeVerifier().verify({ ...request, body: new TextEncoder().encode('{}') }),
      'InvalidSignatureException',
      CONTENT_SHA_MISMATCH,
    );
    await assertFails(
      makeVerifier().verify({ ...request, body: undefined }),
      'InvalidSignatureException',
      CONTENT_SHA_MISMATCH,
    );
  });

  test('a body not matching a declared (and signed) x-amz-content-sha256 fails', async () => {
    const request = await sdkRequest({
      method: 'POST',
      path: '/2015-03-31/functions/fn/invocations',
      // The SHA-256 of the empty string, declared for a non-empty body.
      headers: {
        'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      },
      body: '{"a":1}',
    });
    await assertFails(
      makeVerifier().verify(request),
      'InvalidSignatureException',
      CONTENT_SHA_MISMATCH,
    );
  });

  test('a request signed with UNSIGNED-PAYLOAD fails with a mismatch, whatever its body', async () => {
    // Lambda signs payloads: the canonical request takes the hash of the body that arrived.
    for (const applyChecksum of [true, false]) {
      const request = await sdkRequest({
        method: 'POST',
        path: '/2015-03-31/functions/fn/invocations',
        headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
        body: '{"a":1}',
        applyChecksum,
      });
      await assertFails(
        makeVerifier().verify(request),
        'InvalidSignatureException',
        SIGNATURE_MISMATCH,
      );
      await assertFails(
        makeVerifier().verify({ ...request, body: new TextEncoder().encode('{"a":2}') }),
        'InvalidSignatureException',
        SIGNATURE_MISMATCH,
      );
    }
  });

  test('an UNSIGNED-PAYLOAD header added after signing does not unbind the body', async () => {
    const request = await sdkRequest({
      method: 'POST',
      path: '/2015-03-31/functions/fn/invocations',
      body: '{"a":1}',
      applyChecksum: false,
      unsignedHeaders: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    await assertVerified(makeVerifier().verify(request));
    await assertFails(
      makeVerifier().verify({ ...request, body: new TextEncoder().encode('{"a":2}') }),
      'InvalidSignatureException',
      SIGNATURE_MISMATCH,
    );
  });

  test('a changed path fails', async () => {
    const request = await invoke();
    await assertFails(
      makeVerifier().verify(
        withRawUrl(request, '/2015-03-31/functions/other/invocations?Qualifier=%24LATEST'),
      ),
      'InvalidSignatureException',
      SIGNATURE_MISMATCH,
    );
  });

  test('a changed, added or removed query parameter fails', async () => {
    const request = await invoke();
    for (const rawUrl of [
      '/2015-03-31/functions/fn/invocations?Qualifier=live',
      '/2015-03-31/functions/fn/invocations?Qualifier=%24LATEST&Extra=1',
      '/2015-03-31/functions/fn/invocations',
    ]) {
      await assertFails(
        makeVerifier().verify(withRawUrl(request, rawUrl)),
        'InvalidSignatureException',
        SIGNATURE_MISMATCH,
      );
    }
  });

  test('a changed method fails', async () => {
    const request = await invoke();
    await assertFails(
      makeVerifier().verify({ ...request, method: 'PUT' }),
      'InvalidSignatureException',
      SIGNATURE_MISMATCH,
    );
  });

  test('a changed signed header value fails (x-amz-invocation-type, host, content-type)', async () => {
    const request = await invoke();
    for (const change of [
      { 'x-amz-invocation-type': 'RequestResponse' },
      { host: 'localhost:9000' },
      { 'content-type': 'text/plain' },
    ]) {
      await assertFails(
        makeVerifier().verify(withHeaders(request, change)),
        'InvalidSignatureException',
        SIGNATURE_MISMATCH,
      );
    }
  });

  test('a changed x-amz-date (still within the allowed skew) fails', async () => {
    const request = await invoke();
    await assertFails(
      makeVerifier().verify(withHeaders(request, { 'x-amz-date': '20261121T192300Z' })),
      'InvalidSignatureException',
      SIGNATURE_MISMATCH,
    );
  });

  test('a request signed with the wrong secret fails', async () => {
    const request = await cliRequest({
      method: 'GET',
      path: '/2015-03-31/functions/',
      secret: 'not-the-secret',
    });
    await assertFails(
      makeVerifier().verify(request),
      'InvalidSignatureException',
      SIGNATURE_MISMATCH,
    );
  });

  test('a signed header that is missing from the request fails and is named', async () => {
    const request = await invoke();
    await assertFails(
      makeVerifier().verify(withHeaders(request, { 'x-amz-invocation-type': undefined })),
      'InvalidSignatureException',
      "The header 'x-amz-invocation-type' is listed in SignedHeaders but missing.",
    );
  });

  test('a Credential date that is not the x-amz-date day fails', async () => {
    const request = await cliRequest({ method: 'GET', path: '/2015-03-31/functions/' });
    await assertFails(
      makeVerifier().verify(
        editAuthorization(request, (auth) => auth.replace('/20261121/', '/20261120/')),
      ),
      'InvalidSignatureException',
      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20261120' != '20261121', from '20261121T192256Z'.",
    );
  });
});

describe('Sigv4Verifier header form: credentials', () => {
  test('an unknown access key fails with UnrecognizedClientException', async () => {
    const request = await cliRequest({
      method: 'GET',
      path: '/2015-03-31/functions/',
      accessKeyId: 'AKIDUNKNOWN',
    });
    await assertFails(makeVerifier().verify(request), 'UnrecognizedClientException', BAD_TOKEN);
  });

  test('a temporary key past its expiry fails with ExpiredTokenException', async () => {
    const request = await sdkRequest({
      method: 'GET',
      path: '/2015-03-31/functions/',
      accessKeyId: EXPIRED_ACCESS_KEY_ID,
      sessionToken: 'FQoGZXIvYXdzEXAMPLETOKEN',
    });
    await assertFails(
      makeVerifier().verify(request),
      'ExpiredTokenException',
      'The security token included in the request is expired',
    );
  });

  test('a signed x-amz-security-token (session credentials) fails with UnrecognizedClientException', async () => {
    const request = await sdkRequest({
      method: 'GET',
      path: '/2015-03-31/functions/',
      sessionToken: 'FQoGZXIvYXdzEXAMPLETOKEN',
    });
    assert.ok(signedHeadersOf(request).split(';').includes('x-amz-security-token'));
    await assertFails(makeVerifier().verify(request), 'UnrecognizedClientException', BAD_TOKEN);
  });

  test('an x-amz-security-token header added to a valid request fails with UnrecognizedClientException', async () => {
    const request = await cliRequest({ method: 'GET', path: '/2015-03-31/functions/' });
    await assertFails(
      makeVerifier().verify(withHeaders(request, { 'x-amz-security-token': 'token' })),
      'UnrecognizedClientException',
      BAD_TOKEN,
    );
  });
});

describe('Sigv4Verifier header form: missing or malformed authentication', () => {
  const base = () => cliRequest({ method: 'GET', path: '/2015-03-31/functions/' });

  test('no Authorization header and no presign parameters fails with MissingAuthenticationTokenException', async () => {
    const request = withHeaders(await base(), { authorization: undefined });
    await assertFails(
      makeVerifier().verify(request),
      'MissingAuthenticationTokenException',
      'Missing Authentication Token',
    );
    await assertFails(
      makeVerifier().verify({
        method: 'GET',
        rawUrl: '/2015-03-31/functions/?MaxItems=1',
        headers: { host: HOST },
        body: undefined,
      }),
      'MissingAuthenticationTokenException',
    );
  });

  test('an Authorization header without Signature= fails with IncompleteSignatureException', async () => {
    const request = await base();
    const auth = authorizationOf(request).replace(/, Signature=[0-9a-f]+$/, '');
    await assertFails(
      makeVerifier().verify(withHeaders(request, { authorization: auth })),
      'IncompleteSignatureException',
      `Authorization header requires 'Signature' parameter. Authorization=${auth}`,
    );
  });

  test('each missing Authorization parameter is named', async () => {
    const request = await base();
    const auth = authorizationOf(request).replace(/SignedHeaders=[^,]*, Signature=.*$/, '');
    await assertFails(
      makeVerifier().verify(withHeaders(request, { authorization: auth })),
      'IncompleteSignatureException',
      /requires 'SignedHeaders' parameter\. Authorization header requires 'Signature' parameter\./,
    );
  });

  test('a wrong algorithm fails with IncompleteSignatureException', async () => {
    const request = await base();
    for (const edit of [
      (auth: string) => auth.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1'),
      (auth: string) => auth.replace('AWS4-HMAC-SHA256', 'AWS4-ECDSA-P256-SHA256'),
      () => 'Bearer abc.def.ghi',
    ]) {
      await assertFails(
        makeVerifier().verify(editAuthorization(request, edit)),
        'IncompleteSignatureException',
        /requires the AWS4-HMAC-SHA256 algorithm/,
      );
    }
  });

  test('a Credential with 4 parts, or without aws4_request, fails with IncompleteSignatureException', async () => {
    const request = await base();
    for (const credential of [
      `${ACCESS_KEY_ID}/20261121/us-east-1/lambda`,
      `${ACCESS_KEY_ID}/20261121/us-east-1/lambda/aws4_other`,
      `${ACCESS_KEY_ID}/extra/20261121/us-east-1/lambda/aws4_request`,
    ]) {
      await assertFails(
        makeVerifier().verify(
          editAuthorization(request, (auth) =>
            auth.replace(/Credential=[^,]*/, `Credential=${credential}`),
          ),
        ),
        'IncompleteSignatureException',
        `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`,
      );
    }
  });

  test('a missing x-amz-date fails with IncompleteSignatureException', async () => {
    const request = withHeaders(await base(), { 'x-amz-date': undefined });
    await assertFails(
      makeVerifier().verify(request),
      'IncompleteSignatureException',
      "Authorization header requires existence of a 'X-Amz-Date' header.",
    );
  });

  test('an x-amz-date not in basic ISO-8601 format fails with IncompleteSignatureException', async () => {
    const request = withHeaders(await base(), { 'x-amz-date': '20261121T19:22:56Z' });
    await assertFails(
      makeVerifier().verify(request),
      'IncompleteSignatureException',
      "Date must be in ISO-8601 'basic format'. Got '20261121T19:22:56Z'.",
    );
  });

  test('SignedHeaders without host fails with IncompleteSignatureException', async () => {
    const request = await base();
    await assertFails(
      makeVerifier().verify(
        editAuthorization(request, (auth) =>
          auth.replace('SignedHeaders=host;x-amz-date', 'SignedHeaders=x-amz-date'),
        ),
      ),
      'IncompleteSignatureException',
      "'Host' must be a 'SignedHeader' in the AWS Authorization.",
    );
  });
});

describe('Sigv4Verifier header form: credential scope', () => {
  test('a scope for another service fails with InvalidSignatureException naming the service', async () => {
    const request = await cliRequest({
      method: 'GET',
      path: '/2015-03-31/functions/',
      service: 's3',
    });
    await assertFails(
      makeVerifier().verify(request),
      'InvalidSignatureException',
      "Credential should be scoped to correct service: 'lambda'. ",
    );
  });

  test('a scope for another region fails with InvalidSignatureException naming both regions', async () => {
    const request = await sdkRequest({
      method: 'GET',
      path: '/2015-03-31/functions/',
      region: 'eu-west-1',
    });
    await assertFails(
      makeVerifier().verify(request),
      'InvalidSignatureException',
      "Credential should be scoped to a valid region. This endpoint serves 'us-east-1'; " +
        "the request was signed for 'eu-west-1'.",
    );
  });
});

describe('Sigv4Verifier header form: clock skew', () => {
  const signedAt = (offsetMs: number) =>
    cliRequest({ method: 'GET', path: '/2015-03-31/functions/', signedAt: NOW + offsetMs });

  test('signed 14 minutes ago, or 14 minutes in the future, passes', async () => {
    await assertVerified(makeVerifier().verify(await signedAt(-14 * MINUTE)));
    await assertVerified(makeVerifier().verify(await signedAt(14 * MINUTE)));
  });

  test('signed exactly 15 minutes ago or ahead passes (the bound is inclusive)', async () => {
    await assertVerified(makeVerifier().verify(await signedAt(-15 * MINUTE)));
    await assertVerified(makeVerifier().verify(await signedAt(15 * MINUTE)));
  });

  test('signed 16 minutes ago fails with "Signature expired"', async () => {
    await assertFails(
      makeVerifier().verify(await signedAt(-16 * MINUTE)),
      'InvalidSignatureException',
      'Signature expired: 20261121T190656Z is now earlier than 20261121T190756Z ' +
        '(20261121T192256Z - 15 min.)',
    );
  });

  test('signed 15 minutes and 1 second ago fails', async () => {
    await assertFails(
      makeVerifier().verify(await signedAt(-15 * MINUTE - SECOND)),
      'InvalidSignatureException',
      /^Signature expired: /,
    );
  });

  test('signed 16 minutes in the future fails with "Signature not yet current"', async () => {
    await assertFails(
      makeVerifier().verify(await signedAt(16 * MINUTE)),
      'InvalidSignatureException',
      'Signature not yet current: 20261121T193856Z is still later than 20261121T193756Z ' +
        '(20261121T192256Z + 15 min.)',
    );
  });

  test('the same request passes or fails depending only on the clock', async () => {
    const request = await signedAt(0);
    await assertVerified(makeVerifier({ now: NOW + 10 * MINUTE }).verify(request));
    await assertFails(
      makeVerifier({ now: NOW + 20 * MINUTE }).verify(request),
      'InvalidSignatureException',
      /^Signature expired: /,
    );
  });

  test('maxSkewMs narrows the window', async () => {
    const verifier = makeVerifier({ maxSkewMs: 5 * MINUTE });
    await assertVerified(verifier.verify(await signedAt(-4 * MINUTE)));
    await assertFails(
      verifier.verify(await signedAt(-6 * MINUTE)),
      'InvalidSignatureException',
      /^Signature expired: 20261121T191656Z is now earlier than 20261121T191756Z /,
    );
    await assertFails(
      verifier.verify(await signedAt(6 * MINUTE)),
      'InvalidSignatureException',
      /^Signature not yet current: /,
    );
  });

  test('with maxSkewMs set, the skew messages state that window, not 15 minutes', async () => {
    const verifier = makeVerifier({ maxSkewMs: 5 * MINUTE });
    await assertFails(
      verifier.verify(await signedAt(-6 * MINUTE)),
      'InvalidSignatureException',
      'Signature expired: 20261121T191656Z is now earlier than 20261121T191756Z ' +
        '(20261121T192256Z - 5 min.)',
    );
  });
});

describe('Sigv4Verifier presigned query form', () => {
  const PATH = '/2015-03-31/functions/fn/configuration';

  test('presignGetUrl produces an http URL with the SigV4 query parameters', async () => {
    const url = await presign(PATH, 300);
    assert.ok(url.startsWith(`http://${HOST}${PATH}?`), url);
    const params = new URL(url).searchParams;
    assert.equal(params.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256');
    assert.equal(
      params.get('X-Amz-Credential'),
      `${ACCESS_KEY_ID}/20261121/us-east-1/lambda/aws4_request`,
    );
    assert.equal(params.get('X-Amz-Date'), '20261121T192256Z');
    assert.equal(params.get('X-Amz-Expires'), '300');
    assert.equal(params.get('X-Amz-SignedHeaders'), 'host');
    assert.match(params.get('X-Amz-Signature') ?? '', /^[0-9a-f]{64}$/);
  });

  test('a presigned URL verifies from its path, query and host header', async () => {
    const request = presignedRequest(await presign(PATH, 300));
    await assertVerified(makeVerifier().verify(request));
    const [path = '', query = ''] = request.rawUrl.split('?');
    const shuffled = `${path}?${query.split('&').reverse().join('&')}`;
    assert.notEqual(shuffled, request.rawUrl);
    await assertVerified(makeVerifier().verify(withRawUrl(request, shuffled)));
  });

  test('a presigned URL of a percent-encoded ARN path verifies', async () => {
    const url = await presign(`/2015-03-31/functions/${ENCODED_ARN}/configuration`, 300);
    const request = presignedRequest(url);
    assert.ok(request.rawUrl.startsWith(`/2015-03-31/functions/${ENCODED_ARN}/configuration?`));
    await assertVerified(makeVerifier().verify(request));
  });

  test('it is valid until X-Amz-Expires has elapsed on the clock, and fails after', async () => {
    const request = presignedRequest(await presign(PATH, 300));
    await assertVerified(makeVerifier({ now: NOW + 299 * SECOND }).verify(request));
    await assertVerified(makeVerifier({ now: NOW + 300 * SECOND }).verify(request));
    await assertFails(
      makeVerifier({ now: NOW + 301 * SECOND }).verify(request),
      'InvalidSignatureException',
      'Signature expired: 20261121T192256Z is now earlier than 20261121T192257Z ' +
        '(20261121T192757Z - 300 sec.)',
    );
  });

  test('an expiry longer than 15 minutes is honoured (no header-form skew limit)', async () => {
    const request = presignedRequest(await presign(PATH, 7200));
    await assertVerified(makeVerifier({ now: NOW + 60 * MINUTE }).verify(request));
    await assertFails(
      makeVerifier({ now: NOW + 121 * MINUTE }).verify(request),
      'InvalidSignatureException',
      /^Signature expired: /,
    );
  });

  test('a URL presigned more than 15 minutes in the future fails as not yet current', async () => {
    const request = presignedRequest(await presign(PATH, 300, NOW + 16 * MINUTE));
    await assertFails(
      makeVerifier().verify(request),
      'InvalidSignatureException',
      'Signature not yet current: 20261121T193856Z is still later than 20261121T193756Z ' +
        '(20261121T192256Z + 15 min.)',
    );
  });

  test('the maximum X-Amz-Expires of 604800 seconds verifies', async () => {
    const request = presignedRequest(await presign(PATH, 604800));
    await assertVerified(makeVerifier({ now: NOW + 604800 * SECOND }).verify(request));
  });

  test('an X-Amz-Expires over 604800, zero or not an integer fails with IncompleteSignatureException', async () => {
    const request = presignedRequest(await presign(PATH, 300));
    for (const expires of ['604801', '0', '1.5', 'abc']) {
      await assertFails(
        makeVerifier().verify(
          withRawUrl(
            request,
            request.rawUrl.replace('X-Amz-Expires=300', `X-Amz-Expires=${expires}`),
          ),
        ),
        'IncompleteSignatureException',
        'X-Amz-Expires must be a whole number of seconds from 1 to 604800.',
      );
    }
  });

  test('a tampered signature fails', async () => {
    const request = presignedRequest(await presign(PATH, 300));
    const signature = /X-Amz-Signature=([0-9a-f]+)/.exec(request.rawUrl)?.[1] ?? '';
    assert.equal(signature.length, 64);
    const flipped = signature.slice(0, -1) + (signature.endsWith('0') ? '1' : '0');
    await assertFails(
      makeVerifier().verify(withRawUrl(request, request.rawUrl.replace(signature, flipped))),
      'InvalidSignatureException',
      SIGNATURE_MISMATCH,
    );
  });

  test('an upper-case hex signature passes (comparison is case-insensitive)', async () => {
    const request = presignedRequest(await presign(PATH, 300));
    const signature = /X-Amz-Signature=([0-9a-f]+)/.exec(request.rawUrl)?.[1] ?? '';
    await assertVerified(
      makeVerifier().verify(
        withRawUrl(request, request.rawUrl.replace(signature, signature.toUpperCase())),
      ),
    );
  });

  test('a lengthened X-Amz-Expires (within the maximum) fails: it is signed', async () => {
    const request = presignedRequest(await presign(PATH, 300));
    await assertFails(
      makeVerifier().verify(
        withRawUrl(request, request.rawUrl.replace('X-Amz-Expires=300', 'X-Amz-Expires=3600')),
      ),
      'InvalidSignatureException',
      SIGNATURE_MISMATCH,
    );
  });

  test('a changed path, added query parameter, other host or other method fails', async () => {
    const request = presignedRequest(await presign(PATH, 300));
    const query = request.rawUrl.slice(request.rawUrl.indexOf('?'));
    for (const tampered of [
      withRawUrl(request, `/2015-03-31/functions/other/configuration${query}`),
      withRawUrl(request, `${request.rawUrl}&Qualifier=live`),
      withHeaders(request, { host: 'localhost:9000' }),
      { ...request, method: 'DELETE' },
    ]) {
      await assertFails(
        makeVerifier().verify(tampered),
        'InvalidSignatureException',
        SIGNATURE_MISMATCH,
      );
    }
  });

  test('a missing host header fails', async () => {
    const request = presignedRequest(await presign(PATH, 300));
    await assertFails(
      makeVerifier().verify(withHeaders(request, { host: undefined })),
      'InvalidSignatureException',
      "The header 'host' is listed in SignedHeaders but missing.",
    );
  });

  test('a URL presigned with the wrong secret fails', async () => {
    const url = await presignGetUrl(HOST, PATH, {
      accessKeyId: ACCESS_KEY_ID,
      secretAccessKey: 'not-the-secret',
      region: REGION,
      service: SERVICE,
      expiresSeconds: 300,
      clock: { now: () => NOW },
    });
    await assertFails(
      makeVerifier().verify(presignedRequest(url)),
      'InvalidSignatureException',
      SIGNATURE_MISMATCH,
    );
  });

  test('an unknown access key or an X-Amz-Security-Token fails with UnrecognizedClientException', async () => {
    const unknown = await presignGetUrl(HOST, PATH, {
      accessKeyId: 'AKIDUNKNOWN',
      secretAccessKey: SECRET,
      region: REGION,
      service: SERVICE,
      expiresSeconds: 300,
      clock: { now: () => NOW },
    });
    await assertFails(
      makeVerifier().verify(presignedRequest(unknown)),
      'UnrecognizedClientException',
      BAD_TOKEN,
    );
    const request = presignedRequest(await presign(PATH, 300));
    await assertFails(
      makeVerifier().verify(withRawUrl(request, `${request.rawUrl}&X-Amz-Security-Token=abc`)),
      'UnrecognizedClientException',
      BAD_TOKEN,
    );
  });

  test('a missing X-Amz-Date or a wrong X-Amz-Algorithm fails with IncompleteSignatureException', async () => {
    const request = presignedRequest(await presign(PATH, 300));
    await assertFails(
      makeVerifier().verify(withRawUrl(request, request.rawUrl.replace(/X-Amz-Date=[^&]*&?/, ''))),
      'IncompleteSignatureException',
      'AWS query-string parameters missing: X-Amz-Date.',
    );
    await assertFails(
      makeVerifier().verify(
        withRawUrl(request, request.rawUrl.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1')),
      ),
      'IncompleteSignatureException',
      'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256".',
    );
  });

  test('a wrong region in the presigned scope fails with InvalidSignatureException', async () => {
    const request = presignedRequest(await presign(PATH, 300));
    await assertFails(
      makeVerifier().verify(
        withRawUrl(request, request.rawUrl.replace('%2Fus-east-1%2F', '%2Feu-west-1%2F')),
      ),
      'InvalidSignatureException',
      /the request was signed for 'eu-west-1'/,
    );
  });

  test('a URL presigned by the SDK signer with extra query parameters verifies', async () => {
    const signer = new SignatureV4({
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET },
      region: REGION,
      service: SERVICE,
      sha256,
    });
    const path = `/2015-03-31/functions/${ENCODED_ARN}/configuration`;
    const presigned = await signer.presign(
      new HttpRequest({
        method: 'GET',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: 9000,
        path,
        query: { Qualifier: '$LATEST', tagKeys: ['b', 'a'] },
        headers: { host: HOST },
      }),
      { signingDate: new Date(NOW), expiresIn: 60 },
    );
    const query = presigned.query ?? {};
    const parts: Record<string, string | readonly string[]> = {};
    for (const [name, value] of Object.entries(query)) {
      if (typeof value === 'string' || Array.isArray(value)) parts[name] = value;
    }
    const request: IncomingRequest = {
      method: 'GET',
      rawUrl: path + queryString(parts),
      headers: { host: HOST },
      body: undefined,
    };
    assert.match(request.rawUrl, /Qualifier=%24LATEST/);
    await assertVerified(makeVerifier().verify(request));
  });
});

describe('Sigv4Verifier presigned query form with a body', () => {
  /** A POST presigned by the SDK signer over `body` (its hash is in the signature). */
  async function presignedPost(body: string, headers: Record<string, string> = {}) {
    const signer = new SignatureV4({
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET },
      region: REGION,
      service: SERVICE,
      sha256,
    });
    const path = '/2015-03-31/functions/fn/invocations';
    const presigned = await signer.presign(
      new HttpRequest({
        method: 'POST',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port: 9000,
        path,
        headers: { host: HOST, ...headers },
        body: new TextEncoder().encode(body),
      }),
      {
        signingDate: new Date(NOW),
        expiresIn: 60,
        unhoistableHeaders: new Set(Object.keys(headers)),
      },
    );
    const parts: Record<string, string | readonly string[]> = {};
    for (const [name, value] of Object.entries(presigned.query ?? {})) {
      if (typeof value === 'string' || Array.isArray(value)) parts[name] = value;
    }
    return {
      method: 'POST',
      rawUrl: path + queryString(parts),
      headers: { ...presigned.headers },
      body: new TextEncoder().encode(body),
    } satisfies IncomingRequest;
  }

  test('verifies with the body it was signed over, and fails with another', async () => {
    const request = await presignedPost('{"a":1}');
    await assertVerified(makeVerifier().verify(request));
    await assertFails(
      makeVerifier().verify({ ...request, body: new TextEncoder().encode('{"a":2}') }),
      'InvalidSignatureException',
      SIGNATURE_MISMATCH,
    );
    await assertFails(
      makeVerifier().verify({ ...request, body: undefined }),
      'InvalidSignatureException',
      SIGNATURE_MISMATCH,
    );
  });

  test('a signed x-amz-content-sha256 of UNSIGNED-PAYLOAD does not unbind the body', async () => {
    const request = await presignedPost('{"a":1}', { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
    assert.match(request.rawUrl, /X-Amz-SignedHeaders=host%3Bx-amz-content-sha256/);
    await assertFails(
      makeVerifier().verify(request),
      'InvalidSignatureException',
      SIGNATURE_MISMATCH,
    );
  });
});

describe('Sigv4Verifier in two steps: the head, then the payload hash', () => {
  test('authenticate accepts a good head without the body; complete takes the hash', async () => {
    const request = await sdkRequest({
      method: 'POST',
      path: '/2015-03-31/functions/fn/invocations',
      body: '{"a":1}',
    });
    const verifier = makeVerifier();
    const pending = verifier.authenticate({ ...request, body: undefined } as IncomingRequest);
    assert.equal(pending.accessKeyId, ACCESS_KEY_ID);
    const hash = createHash('sha256').update('{"a":1}').digest('hex');
    assert.deepEqual(await verifier.complete(pending, hash), { accessKeyId: ACCESS_KEY_ID });
    await assertFails(
      verifier.complete(pending, createHash('sha256').update('{"a":2}').digest('hex')),
      'InvalidSignatureException',
      CONTENT_SHA_MISMATCH,
    );
  });

  test('authenticate throws what verify rejects with, for every head-only failure', async () => {
    const good = await cliRequest({ method: 'GET', path: '/2015-03-31/functions/' });
    const cases: Array<[IncomingRequest, ErrorCode, Sigv4Verifier]> = [
      [
        withHeaders(good, { authorization: undefined }),
        'MissingAuthenticationTokenException',
        makeVerifier(),
      ],
      [editAuthorization(good, () => 'Bearer x'), 'IncompleteSignatureException', makeVerifier()],
      [
        await cliRequest({ method: 'GET', path: '/', accessKeyId: 'AKIDUNKNOWN' }),
        'UnrecognizedClientException',
        makeVerifier(),
      ],
      [
        withHeaders(good, { 'x-amz-security-token': 'token' }),
        'UnrecognizedClientException',
        makeVerifier(),
      ],
      [good, 'InvalidSignatureException', makeVerifier({ now: NOW + 16 * MINUTE })],
      [
        await cliRequest({ method: 'GET', path: '/', region: 'eu-west-1' }),
        'InvalidSignatureException',
        makeVerifier(),
      ],
    ];
    for (const [request, code, verifier] of cases) {
      let thrown: unknown;
      try {
        verifier.authenticate(request);
      } catch (error) {
        thrown = error;
      }
      assert.ok(thrown instanceof LambdaError, `authenticate throws for ${code}`);
      assert.equal(thrown.code, code);
      await assertFails(verifier.verify(request), code, thrown.message);
    }
  });
});
