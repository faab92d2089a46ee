/**
 * Function URLs end to end: a real Express app packaged with serverless-http, deployed through the
 * AWS SDK and called over plain HTTP by its URL (Host form and path form) — routes, JSON bodies,
 * query strings, cookies, binary bodies, 404s — plus CORS, NONE with and without the public
 * permission, AWS_IAM unsigned and signed, function errors and an alias's own URL.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  AddPermissionCommand,
  CreateAliasCommand,
  CreateFunctionUrlConfigCommand,
  DeleteFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  DeleteFunctionUrlConfigCommand,
  GetFunctionUrlConfigCommand,
  GetPolicyCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  RemovePermissionCommand,
  UpdateFunctionUrlConfigCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { deploy } from '../helpers/functions.js';
import { failureOf } from '../helpers/lambda-client.js';
import { nodeModulesEntries } from '../helpers/node-modules-zip.js';
import { useServer } from '../helpers/server-suite.js';
import { PUBLIC_URL, signedUrlRequest, urlRequest } from '../helpers/url-request.js';

const EXPRESS_APP = `
const express = require('express');
const serverless = require('serverless-http');

const app = express();
app.use(express.json());
app.get('/hello', (req, res) => res.json({ message: 'hello', query: req.query }));
app.post('/items', (req, res) => res.status(201).json({ created: req.body }));
app.get('/cookies', (req, res) => {
  res.cookie('session', 'abc', { httpOnly: true });
  res.cookie('theme', 'dark');
  res.json({ received: req.headers.cookie ?? null });
});
app.post('/reverse', express.raw({ type: 'application/octet-stream' }), (req, res) => {
  res.type('application/octet-stream').send(Buffer.from(req.body).reverse());
});
app.get('/event', (req, res) => res.json(req.apiGateway.event));
app.use((req, res) => res.status(404).json({ error: 'not found', path: req.path }));

exports.handler = serverless(app, { binary: ['application/octet-stream'], provider: 'aws' });
`;

describe('function URLs', () => {
  const suite = useServer();
  let client: LambdaClient;
  let appUrl: string;

  before(async () => {
    client = suite.client;
    await deploy(client, 'express-app', [
      { name: 'index.js', content: EXPRESS_APP },
      ...nodeModulesEntries(['express', 'serverless-http']),
    ]);
    const created = await client.send(
      new CreateFunctionUrlConfigCommand({ FunctionName: 'express-app', AuthType: 'NONE' }),
    );
    appUrl = created.FunctionUrl ?? '';
    assert.match(appUrl, /^http:\/\/[a-z0-9]{32}\.lambda-url\.us-east-1\.localhost:\d+\/$/);
    assert.equal(new URL(appUrl).port, new URL(suite.server.endpoint).port);
  });

  test('a NONE URL answers 403 until the public permission is added, and again once removed', async () => {
    const refused = await urlRequest(`${appUrl}hello`);
    assert.equal(refused.status, 403);
    assert.equal(refused.headers['x-amzn-errortype'], 'AccessDeniedException');
    assert.match(String((refused.json() as { Message: string }).Message), /^Forbidden\./);

    const added = await client.send(
      new AddPermissionCommand({ FunctionName: 'express-app', ...PUBLIC_URL }),
    );
    assert.equal((JSON.parse(added.Statement ?? '{}') as { Principal: unknown }).Principal, '*');
    assert.equal((await urlRequest(`${appUrl}hello`)).status, 200);

    await client.send(
      new RemovePermissionCommand({ FunctionName: 'express-app', StatementId: 'public-url' }),
    );
    assert.equal((await urlRequest(`${appUrl}hello`)).status, 403);
    await client.send(new AddPermissionCommand({ FunctionName: 'express-app', ...PUBLIC_URL }));
    const policy = await client.send(new GetPolicyCommand({ FunctionName: 'express-app' }));
    const document = JSON.parse(policy.Policy ?? '{}') as { Statement: unknown[] };
    assert.equal(document.Statement.length, 1);
  });

  test('Express routes, query strings and JSON bodies work unchanged', async () => {
    await ensurePublic();
    const hello = await urlRequest(`${appUrl}hello?name=lamina&tag=a&tag=b`);
    assert.equal(hello.status, 200);
    assert.match(String(hello.headers['content-type']), /^application\/json/);
    assert.deepEqual(hello.json(), {
      message: 'hello',
      // serverless-http rebuilds the query from rawQueryString, so repeats stay a list.
      query: { name: 'lamina', tag: ['a', 'b'] },
    });
    assert.equal(typeof hello.headers['x-amzn-requestid'], 'string');

    const created = await urlRequest(`${appUrl}items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'widget', count: 3 }),
    });
    assert.equal(created.status, 201);
    assert.deepEqual(created.json(), { created: { name: 'widget', count: 3 } });

    const missing = await urlRequest(`${appUrl}no/such/route`);
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.json(), { error: 'not found', path: '/no/such/route' });
  });

  test('cookies in and one Set-Cookie per cookie out', async () => {
    await ensurePublic();
    const answer = await urlRequest(`${appUrl}cookies`, {
      headers: { cookie: 'a=1; b=2' },
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.json(), { received: 'a=1; b=2' });
    const setCookies = answer.headers['set-cookie'] ?? [];
    assert.equal(setCookies.length, 2);
    assert.match(setCookies[0] ?? '', /^session=abc; Path=\/; HttpOnly$/);
    assert.match(setCookies[1] ?? '', /^theme=dark; Path=\//);
  });

  test('binary request and response bodies arrive byte for byte', async () => {
    await ensurePublic();
    const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80, 10, 13]);
    const answer = await urlRequest(`${appUrl}reverse`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['content-type'], 'application/octet-stream');
    assert.deepEqual(answer.body, Buffer.from(bytes).reverse());
  });

  test('the event carries the payload 2.0 fields; the path form reaches the same URL', async () => {
    await ensurePublic();
    const id = new URL(appUrl).hostname.split('.')[0] ?? '';
    const viaHost = (await urlRequest(`${appUrl}event?x=1&x=2`, {
      headers: { 'x-multi': 'v1', cookie: 'c=1' },
    }).then((a) => a.json())) as Record<string, unknown>;
    assert.equal(viaHost['version'], '2.0');
    assert.equal(viaHost['rawPath'], '/event');
    assert.equal(viaHost['rawQueryString'], 'x=1&x=2');
    assert.deepEqual(viaHost['queryStringParameters'], { x: '1,2' });
    assert.deepEqual(viaHost['cookies'], ['c=1']);
    const context = viaHost['requestContext'] as Record<string, unknown>;
    assert.equal(context['apiId'], id);
    assert.equal(context['domainName'], new URL(appUrl).hostname);
    assert.equal((context['http'] as Record<string, unknown>)['method'], 'GET');

    const viaPath = await urlRequest(`${suite.server.endpoint}/lambda-url/${id}/event?y=1`);
    assert.equal(viaPath.status, 200);
    const event = viaPath.json() as Record<string, unknown>;
    assert.equal(event['rawPath'], '/event');
    assert.equal(event['rawQueryString'], 'y=1');
  });

  test('CORS headers on every response and preflights answered without the function', async () => {
    await ensurePublic();
    await client.send(
      new UpdateFunctionUrlConfigCommand({
        FunctionName: 'express-app',
        Cors: {
          AllowOrigins: ['https://app.example'],
          AllowMethods: ['GET', 'POST'],
          AllowHeaders: ['content-type', 'x-api-key'],
          ExposeHeaders: ['x-request-id'],
          AllowCredentials: true,
          MaxAge: 600,
        },
      }),
    );
    const preflight = await urlRequest(`${appUrl}items`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    assert.equal(preflight.status, 200);
    assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(preflight.headers['access-control-allow-methods'], 'GET,POST');
    assert.equal(preflight.headers['access-control-allow-headers'], 'content-type,x-api-key');
    assert.equal(preflight.headers['access-control-allow-credentials'], 'true');
    assert.equal(preflight.headers['access-control-max-age'], '600');

    const answer = await urlRequest(`${appUrl}hello`, {
      headers: { origin: 'https://app.example' },
    });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(answer.headers['access-control-expose-headers'], 'x-request-id');
    const foreign = await urlRequest(`${appUrl}hello`, {
      headers: { origin: 'https://evil.example' },
    });
    assert.equal(foreign.headers['access-control-allow-origin'], undefined);
  });

  test('AWS_IAM URLs refuse unsigned requests and serve SigV4-signed ones', async () => {
    await deploy(client, 'iam-fn', {
      'index.js':
        'exports.handler = async (event) => ({ statusCode: 200, body: JSON.stringify(event.requestContext.authorizer) });',
    });
    const url =
      (
        await client.send(
          new CreateFunctionUrlConfigCommand({ FunctionName: 'iam-fn', AuthType: 'AWS_IAM' }),
        )
      ).FunctionUrl ?? '';
    const unsigned = await urlRequest(`${url}who?am=i`);
    assert.equal(unsigned.status, 403);
    assert.equal(unsigned.headers['x-amzn-errortype'], 'AccessDeniedException');
    const forged = await signedUrlRequest(
      `${url}who`,
      {},
      {
        accessKeyId: 'LKIATESTTESTTEST0001',
        secretAccessKey: 'not-the-secret',
      },
    );
    assert.equal(forged.status, 403);
    assert.equal(forged.headers['x-amzn-errortype'], 'InvalidSignatureException');
    // Good credentials, but a signature scoped to another service the API takes: refused too.
    for (const service of ['sts', 'iam', 'scheduler', 'logs', 'monitoring']) {
      const elsewhere = await signedUrlRequest(`${url}who`, {}, undefined, service);
      assert.equal(elsewhere.status, 403, service);
      assert.equal(elsewhere.headers['x-amzn-errortype'], 'InvalidSignatureException', service);
      assert.match(elsewhere.body.toString(), /scoped to correct service: 'lambda'/);
    }

    const signed = await signedUrlRequest(`${url}who?am=i`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"signed":true}',
    });
    assert.equal(signed.status, 200);
    const authorizer = signed.json() as { iam: Record<string, unknown> };
    assert.equal(authorizer.iam['accessKey'], 'LKIATESTTESTTEST0001');
    assert.equal(authorizer.iam['accountId'], '000000000000');
  });

  test('plain answers, function errors (502), throttles (429), alias URLs, 404s', async () => {
    await deploy(client, 'plain', {
      'index.js': `exports.handler = async (event) => {
        if (event.rawPath === '/fail') throw new Error('boom');
        if (event.rawPath === '/text') return 'hello';
        return { path: event.rawPath, version: process.env.AWS_LAMBDA_FUNCTION_VERSION };
      };`,
    });
    const url =
      (
        await client.send(
          new CreateFunctionUrlConfigCommand({
            FunctionName: 'plain',
            AuthType: 'NONE',
            InvokeMode: 'BUFFERED',
          }),
        )
      ).FunctionUrl ?? '';
    await client.send(new AddPermissionCommand({ FunctionName: 'plain', ...PUBLIC_URL }));
    const object = await urlRequest(`${url}obj`);
    assert.equal(object.status, 200);
    assert.equal(object.headers['content-type'], 'application/json');
    assert.deepEqual(object.json(), { path: '/obj', version: '$LATEST' });
    const text = await urlRequest(`${url}text`);
    assert.equal(text.body.toString(), 'hello');
    const failed = await urlRequest(`${url}fail`);
    assert.equal(failed.status, 502);
    assert.equal(failed.body.toString(), 'Internal Server Error');

    // Throttles answer 429 (reserved concurrency 0 refuses every invocation).
    await client.send(
      new PutFunctionConcurrencyCommand({ FunctionName: 'plain', ReservedConcurrentExecutions: 0 }),
    );
    const throttled = await urlRequest(`${url}obj`);
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers['x-amzn-errortype'], 'TooManyRequestsException');
    await client.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'plain' }));

    // An alias has its own URL and its own policy.
    await client.send(new PublishVersionCommand({ FunctionName: 'plain' }));
    await client.send(
      new CreateAliasCommand({ FunctionName: 'plain', Name: 'live', FunctionVersion: '1' }),
    );
    const aliasUrl =
      (
        await client.send(
          new CreateFunctionUrlConfigCommand({
            FunctionName: 'plain',
            Qualifier: 'live',
            AuthType: 'NONE',
          }),
        )
      ).FunctionUrl ?? '';
    assert.equal((await urlRequest(`${aliasUrl}a`)).status, 403);
    await client.send(
      new AddPermissionCommand({ FunctionName: 'plain', Qualifier: 'live', ...PUBLIC_URL }),
    );
    assert.deepEqual((await urlRequest(`${aliasUrl}a`)).json(), { path: '/a', version: '1' });

    await client.send(new DeleteFunctionUrlConfigCommand({ FunctionName: 'plain' }));
    assert.equal((await urlRequest(`${url}obj`)).status, 404);
    await client.send(new DeleteFunctionCommand({ FunctionName: 'plain' }));
    assert.equal((await urlRequest(`${aliasUrl}a`)).status, 404);
    const gone = await failureOf(
      client.send(new GetFunctionUrlConfigCommand({ FunctionName: 'plain', Qualifier: 'live' })),
    );
    assert.equal(gone.name, 'ResourceNotFoundException');
  });

  /** Tests may run alone: the public statement is added once if an earlier test did not. */
  async function ensurePublic(): Promise<void> {
    const answer = await failureOf(
      client.send(new AddPermissionCommand({ FunctionName: 'express-app', ...PUBLIC_URL })),
    ).catch(() => undefined);
    assert.ok(answer === undefined || answer.name === 'ResourceConflictException');
  }
});
