/**
 * The pure rules of function URLs: the payload 2.0 event, reading the function's answer, CORS
 * headers, Host recognition, and when a policy makes a NONE URL public.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  corsPreflightHeaders,
  corsResponseHeaders,
  withoutCorsHeaders,
} from '../../src/api/function-url-cors.js';
import { buildUrlEvent, type UrlRequestFacts } from '../../src/api/function-url-event.js';
import { interpretUrlResponse } from '../../src/api/function-url-response.js';
import { functionUrl, parseUrlBase, urlIdFromHost } from '../../src/core/function-url.js';
import { allowsPublicUrl, buildStatement } from '../../src/core/resource-policy.js';

const ID = 'abcdefghijklmnopqrstuvwxyz012345';
const facts: UrlRequestFacts = {
  method: 'POST',
  rawPath: '/my/pa%20th',
  rawQueryString: 'a=1&a=2&b=x%2Fy',
  rawHeaders: [
    'Host',
    `${ID}.lambda-url.us-east-1.localhost:9000`,
    'Content-Type',
    'application/json',
    'User-Agent',
    'curl/8',
    'X-Multi',
    'v1',
    'x-multi',
    'v2',
    'Cookie',
    'c1=v1; c2=v2',
  ],
  body: Buffer.from('{"hello":"world"}'),
  sourceIp: '127.0.0.1',
  urlId: ID,
  domainName: `${ID}.lambda-url.us-east-1.localhost`,
  requestId: '11111111-2222-3333-4444-555555555555',
  timeMs: Date.UTC(2020, 2, 12, 19, 3, 58),
  protocol: 'http',
  port: '9000',
};

test('the event carries the documented payload 2.0 fields', () => {
  const event = buildUrlEvent(facts, '000000000000', undefined);
  assert.equal(event['version'], '2.0');
  assert.equal(event['routeKey'], '$default');
  assert.equal(event['rawPath'], '/my/pa%20th');
  assert.equal(event['rawQueryString'], 'a=1&a=2&b=x%2Fy');
  assert.deepEqual(event['cookies'], ['c1=v1', 'c2=v2']);
  const headers = event['headers'] as Record<string, string>;
  assert.equal(headers['x-multi'], 'v1,v2');
  assert.equal(headers['content-type'], 'application/json');
  assert.equal(headers['cookie'], undefined);
  assert.equal(headers['x-forwarded-for'], '127.0.0.1');
  assert.deepEqual(event['queryStringParameters'], { a: '1,2', b: 'x/y' });
  assert.equal(event['body'], '{"hello":"world"}');
  assert.equal(event['isBase64Encoded'], false);
  const context = event['requestContext'] as Record<string, unknown>;
  assert.equal(context['apiId'], ID);
  assert.equal(context['domainPrefix'], ID);
  assert.equal(context['domainName'], `${ID}.lambda-url.us-east-1.localhost`);
  assert.equal(context['accountId'], 'anonymous');
  assert.equal(context['authorizer'], undefined);
  assert.equal(context['time'], '12/Mar/2020:19:03:58 +0000');
  assert.equal(context['timeEpoch'], facts.timeMs);
  assert.equal(context['requestId'], facts.requestId);
  assert.deepEqual(context['http'], {
    method: 'POST',
    path: '/my/pa%20th',
    protocol: 'HTTP/1.1',
    sourceIp: '127.0.0.1',
    userAgent: 'curl/8',
  });
});

test('binary bodies are base64; no query string leaves queryStringParameters out', () => {
  const bytes = Buffer.from([0, 255, 1, 2]);
  const event = buildUrlEvent(
    {
      ...facts,
      rawQueryString: '',
      rawHeaders: ['Content-Type', 'application/octet-stream'],
      body: bytes,
    },
    '000000000000',
    { accessKeyId: 'AKIDEXAMPLE', accountId: '000000000000' },
  );
  assert.equal(event['body'], bytes.toString('base64'));
  assert.equal(event['isBase64Encoded'], true);
  assert.equal('queryStringParameters' in event, false);
  assert.equal('cookies' in event, false);
  const context = event['requestContext'] as Record<string, Record<string, unknown>>;
  assert.equal(context['accountId'], '000000000000');
  assert.equal(
    (context['authorizer']?.['iam'] as Record<string, unknown>)['accessKey'],
    'AKIDEXAMPLE',
  );
});

test('answers: statusCode objects describe the response, other JSON is the body', () => {
  const described = interpretUrlResponse(
    Buffer.from(
      JSON.stringify({
        statusCode: 201,
        headers: { 'X-Thing': 'a', 'Content-Type': 'text/plain' },
        cookies: ['a=1; Path=/', 'b=2'],
        body: Buffer.from('bytes').toString('base64'),
        isBase64Encoded: true,
      }),
    ),
  );
  assert.equal(described?.status, 201);
  assert.equal(described?.headers['x-thing'], 'a');
  assert.equal(described?.headers['content-type'], 'text/plain');
  assert.deepEqual(described?.headers['set-cookie'], ['a=1; Path=/', 'b=2']);
  assert.equal(described?.body.toString(), 'bytes');
  assert.equal(
    interpretUrlResponse(Buffer.from('{"statusCode":200,"body":"x"}'))?.headers['content-type'],
    'application/json',
  );
  // Recorded from AWS: other values are 200 application/json; a string is sent without quotes.
  for (const [payload, body] of [
    ['{"hello":"world"}', '{"hello":"world"}'],
    ['["hello",3,true]', '["hello",3,true]'],
    ['"hello"', 'hello'],
    ['3.1', '3.1'],
    ['true', 'true'],
  ] as const) {
    const answer = interpretUrlResponse(Buffer.from(payload));
    assert.equal(answer?.status, 200);
    assert.equal(answer?.headers['content-type'], 'application/json');
    assert.equal(answer?.body.toString(), body);
  }
  assert.equal(interpretUrlResponse(Buffer.from('not json')), undefined);
  assert.equal(interpretUrlResponse(Buffer.from('{"statusCode":"abc"}')), undefined);
});

test('CORS: configured origins, credentials and exposed headers; function headers replaced', () => {
  const cors = {
    allowOrigins: ['https://app.example'],
    allowMethods: ['*'],
    allowCredentials: true,
    exposeHeaders: ['x-total'],
    maxAge: 10,
  };
  assert.deepEqual(corsResponseHeaders(cors, { origin: 'https://app.example' }), {
    'access-control-allow-origin': 'https://app.example',
    vary: 'Origin',
    'access-control-allow-credentials': 'true',
    'access-control-expose-headers': 'x-total',
  });
  assert.deepEqual(corsResponseHeaders(cors, { origin: 'https://other.example' }), {});
  assert.equal(
    corsPreflightHeaders(cors, {
      origin: 'https://app.example',
      'access-control-request-method': 'DELETE',
    })['access-control-allow-methods'],
    '*',
  );
  assert.deepEqual(corsResponseHeaders({ allowOrigins: ['*'] }, {}), {
    'access-control-allow-origin': '*',
  });
  assert.deepEqual(withoutCorsHeaders({ 'access-control-allow-origin': 'x', a: 'b' }), { a: 'b' });
});

test('hosts: url ids are recognised under the configured domains only', () => {
  const domains = ['lambda-url.example.com', 'lambda-url.us-east-1.localhost'];
  assert.equal(urlIdFromHost(`${ID}.lambda-url.us-east-1.localhost:9000`, domains), ID);
  assert.equal(urlIdFromHost(`${ID.toUpperCase()}.LAMBDA-URL.EXAMPLE.COM`, domains), ID);
  assert.equal(urlIdFromHost(`${ID}.elsewhere.com`, domains), undefined);
  assert.equal(urlIdFromHost('127.0.0.1:9000', domains), undefined);
  assert.equal(urlIdFromHost('short.lambda-url.example.com', domains), undefined);
  assert.equal(
    functionUrl(parseUrlBase('https://lambda-url.example.com'), ID),
    `https://${ID}.lambda-url.example.com/`,
  );
  assert.throws(() => parseUrlBase('https://example.com/path'));
});

test('a NONE URL is public only with the `*` InvokeFunctionUrl grant for NONE', () => {
  const arn = 'arn:aws:lambda:us-east-1:000000000000:function:f';
  const grant = buildStatement(
    {
      statementId: 'url',
      action: 'lambda:InvokeFunctionUrl',
      principal: '*',
      functionUrlAuthType: 'NONE',
    },
    arn,
  );
  assert.equal(allowsPublicUrl([grant]), true);
  const iamOnly = buildStatement(
    {
      statementId: 'iam',
      action: 'lambda:InvokeFunctionUrl',
      principal: '*',
      functionUrlAuthType: 'AWS_IAM',
    },
    arn,
  );
  const invoke = buildStatement(
    { statementId: 'i', action: 'lambda:InvokeFunction', principal: '*' },
    arn,
  );
  const account = buildStatement(
    {
      statementId: 'a',
      action: 'lambda:InvokeFunctionUrl',
      principal: '000000000000',
      functionUrlAuthType: 'NONE',
    },
    arn,
  );
  const restricted = buildStatement(
    {
      statementId: 'r',
      action: 'lambda:InvokeFunctionUrl',
      principal: '*',
      functionUrlAuthType: 'NONE',
      sourceAccount: '111111111111',
    },
    arn,
  );
  assert.equal(allowsPublicUrl([iamOnly, invoke, account, restricted]), false);
  assert.throws(
    () =>
      buildStatement(
        {
          statementId: 'x',
          action: 'lambda:InvokeFunction',
          principal: '*',
          functionUrlAuthType: 'NONE',
        },
        arn,
      ),
    /only supported for lambda:InvokeFunctionUrl/,
  );
});
