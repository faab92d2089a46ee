/**
 * Finding 9 ("Hostile tenants"): `x-amz-content-sha256: UNSIGNED-PAYLOAD` let a request change its
 * body after signing, so anyone who saw a signed request (a log, a proxy, a shared trace) could
 * replay it within 15 minutes with a body of their own. Lambda signs its payloads: such requests
 * must not verify. Reproduced with requests signed by @smithy/signature-v4 against the built
 * server: Invoke, CreateFunction, presigned URLs and an AWS_IAM function URL. (A declared hash
 * that does not match the body, and an UNSIGNED-PAYLOAD header added after signing, were refused
 * before too: test/unit/sigv4-verifier.test.ts keeps them so.)
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Hash } from '@smithy/core/serde';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  CreateFunctionUrlConfigCommand,
  GetFunctionCommand,
  Runtime,
} from '@aws-sdk/client-lambda';
import { deploy, invokeJson } from '../helpers/functions.js';
import { failureOf, ROLE } from '../helpers/lambda-client.js';
import { TEST_CREDENTIALS } from '../helpers/server-process.js';
import { useServer } from '../helpers/server-suite.js';
import { signedHead } from '../helpers/signed-head.js';
import { signedUrlRequest, urlRequest } from '../helpers/url-request.js';
import { helloZip } from '../helpers/zips.js';

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
const INVOKE_PATH = '/2015-03-31/functions/echo/invocations';
const SIGNED_BODY = '{"transfer":"10 to alice"}';
const SWAPPED_BODY = '{"transfer":"10000 to mallory"}';

interface Answer {
  readonly status: number;
  readonly errorType: string | null;
  readonly body: string;
}

async function post(url: string, headers: Record<string, string>, body: string): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', headers, body });
  return {
    status: response.status,
    errorType: response.headers.get('x-amzn-errortype'),
    body: await response.text(),
  };
}

function assertMismatch(answer: Answer, what: string): void {
  assert.equal(answer.status, 403, `${what}: ${answer.body}`);
  assert.equal(answer.errorType, 'InvalidSignatureException', what);
  assert.equal((JSON.parse(answer.body) as { message?: string }).message, SIGNATURE_MISMATCH, what);
}

describe('finding 9: a request signed with UNSIGNED-PAYLOAD cannot change its body', () => {
  const suite = useServer();
  before(async () => {
    await deploy(suite.client, 'echo', { 'index.mjs': 'export const handler = async (e) => e;' });
    // The function answers signed invokes (the SDK signs the payload).
    const { body } = await invokeJson(suite.client, 'echo', { ok: true });
    assert.deepEqual(body, { ok: true });
  });

  test('Invoke signed with UNSIGNED-PAYLOAD is refused, with a swapped body or its own', async () => {
    const headers = await signedHead(suite.server.endpoint, {
      path: INVOKE_PATH,
      payloadSha256: 'UNSIGNED-PAYLOAD',
      headers: { 'content-type': 'application/json' },
    });
    assertMismatch(
      await post(`${suite.server.endpoint}${INVOKE_PATH}`, headers, SWAPPED_BODY),
      'swapped body',
    );
    assertMismatch(
      await post(`${suite.server.endpoint}${INVOKE_PATH}`, headers, SIGNED_BODY),
      'own body',
    );
  });

  test('CreateFunction signed with UNSIGNED-PAYLOAD creates nothing', async () => {
    const path = '/2015-03-31/functions';
    const body = JSON.stringify({
      FunctionName: 'smuggled',
      Runtime: Runtime.nodejs20x,
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: (await helloZip()).toString('base64') },
    });
    const headers = await signedHead(suite.server.endpoint, {
      path,
      payloadSha256: 'UNSIGNED-PAYLOAD',
      headers: { 'content-type': 'application/json' },
    });
    assertMismatch(await post(`${suite.server.endpoint}${path}`, headers, body), 'CreateFunction');
    const missing = await failureOf(
      suite.client.send(new GetFunctionCommand({ FunctionName: 'smuggled' })),
    );
    assert.equal(missing.name, 'ResourceNotFoundException');
  });

  test('presigned URLs: neither a signed UNSIGNED-PAYLOAD nor an empty signed body frees the body', async () => {
    const url = new URL(suite.server.endpoint);
    const signer = new SignatureV4({
      credentials: TEST_CREDENTIALS,
      region: 'us-east-1',
      service: 'lambda',
      sha256: Hash.bind(null, 'sha256'),
    });
    const presign = async (headers: Record<string, string>) => {
      const presigned = await signer.presign(
        new HttpRequest({
          method: 'POST',
          protocol: 'http:',
          hostname: url.hostname,
          port: Number(url.port),
          path: INVOKE_PATH,
          headers: { host: url.host, ...headers },
        }),
        { expiresIn: 300, unhoistableHeaders: new Set(Object.keys(headers)) },
      );
      const query = new URLSearchParams();
      for (const [name, value] of Object.entries(presigned.query ?? {})) {
        if (typeof value === 'string') query.append(name, value);
      }
      return `${suite.server.endpoint}${INVOKE_PATH}?${query.toString().replace(/\+/g, '%20')}`;
    };
    const unsignedPayload = await presign({ 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
    assertMismatch(
      await post(unsignedPayload, { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, SWAPPED_BODY),
      'presigned UNSIGNED-PAYLOAD',
    );
    // Presigned with no body: the empty body's hash is what was signed.
    assertMismatch(await post(await presign({}), {}, SWAPPED_BODY), 'presigned without a body');
  });

  test('an AWS_IAM function URL refuses UNSIGNED-PAYLOAD too', async () => {
    await deploy(suite.client, 'iam-url', {
      'index.mjs': 'export const handler = async (e) => ({ statusCode: 200, body: e.body ?? "" });',
    });
    const functionUrl =
      (
        await suite.client.send(
          new CreateFunctionUrlConfigCommand({ FunctionName: 'iam-url', AuthType: 'AWS_IAM' }),
        )
      ).FunctionUrl ?? '';
    // Signed over its body, the URL answers; UNSIGNED-PAYLOAD does not verify.
    const genuine = await signedUrlRequest(functionUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: SIGNED_BODY,
    });
    assert.equal(genuine.status, 200);
    assert.equal(genuine.body.toString(), SIGNED_BODY);
    const target = new URL(functionUrl);
    const signer = new SignatureV4({
      credentials: TEST_CREDENTIALS,
      region: 'us-east-1',
      service: 'lambda',
      sha256: Hash.bind(null, 'sha256'),
    });
    const signed = await signer.sign(
      new HttpRequest({
        method: 'POST',
        protocol: target.protocol,
        hostname: target.hostname,
        port: Number(target.port),
        path: target.pathname,
        headers: {
          host: target.host,
          'content-type': 'application/json',
          'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
        },
      }),
    );
    const swapped = await urlRequest(functionUrl, {
      method: 'POST',
      headers: signed.headers,
      body: SWAPPED_BODY,
    });
    assert.equal(swapped.status, 403, swapped.body.toString());
    assert.equal(swapped.headers['x-amzn-errortype'], 'InvalidSignatureException');
    assert.equal((swapped.json() as { Message?: string }).Message, SIGNATURE_MISMATCH);
  });
});
