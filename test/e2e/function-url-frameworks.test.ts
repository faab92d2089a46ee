/**
 * Web frameworks behind function URLs, unchanged: each app is installed from npm, copied with its
 * node_modules into the zip, deployed through the AWS SDK and called over plain HTTP by its URL —
 * route parameters, query strings, a JSON POST body, a response header, cookies both ways and a
 * 404 from the app itself.
 *
 * - Fastify through `@fastify/aws-lambda`: the maintained adapter, the same project as
 *   `aws-lambda-fastify`, whose unscoped name on npm stopped at 2.x.
 * - Powertools for AWS Lambda (TypeScript) event handler: the `Router` of
 *   `@aws-lambda-powertools/event-handler/http`, which takes API Gateway REST/HTTP API, ALB and
 *   function URL events (payload format 2.0) and answers in the matching result format.
 * (Express behind serverless-http is covered by function-url.test.ts.)
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  AddPermissionCommand,
  CreateFunctionUrlConfigCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { deploy } from '../helpers/functions.js';
import { nodeModulesEntries } from '../helpers/node-modules-zip.js';
import { useServer } from '../helpers/server-suite.js';
import { PUBLIC_URL, urlRequest } from '../helpers/url-request.js';

const FASTIFY_APP = `
const Fastify = require('fastify');
const awsLambdaFastify = require('@fastify/aws-lambda');

const app = Fastify();
app.get('/users/:id', async (request) => ({ id: request.params.id, query: request.query }));
app.post('/users/:id/orders', async (request, reply) => {
  reply.code(201).header('x-order-owner', request.params.id);
  return { owner: request.params.id, order: request.body };
});
app.get('/cookies', async (request, reply) => {
  reply.header('set-cookie', ['session=abc; Path=/; HttpOnly', 'theme=dark; Path=/']);
  return { received: request.headers.cookie ?? null };
});
app.setNotFoundHandler((request, reply) => {
  reply.code(404).send({ error: 'not found', url: request.url });
});

exports.handler = awsLambdaFastify(app);
`;

const POWERTOOLS_APP = `
import { Router } from '@aws-lambda-powertools/event-handler/http';

const app = new Router();
app.get('/users/:id', ({ params, req }) => ({
  id: params.id,
  query: Object.fromEntries(new URL(req.url).searchParams),
  tags: new URL(req.url).searchParams.getAll('tag'),
}));
app.post('/users/:id/orders', async ({ params, req }) => {
  const order = await req.json();
  return new Response(JSON.stringify({ owner: params.id, order }), {
    status: 201,
    headers: { 'content-type': 'application/json', 'x-order-owner': params.id },
  });
});
// Cookies go in the result's \`cookies\` list: a Web Response carrying several Set-Cookie headers
// keeps only its last one in this version of the router (it copies headers with \`set\`).
app.get('/cookies', ({ req }) => ({
  statusCode: 200,
  body: { received: req.headers.get('cookie') },
  cookies: ['session=abc; Path=/; HttpOnly', 'theme=dark; Path=/'],
}));

export const handler = (event, context) => app.resolve(event, context);
`;

interface Framework {
  readonly name: string;
  readonly files: () => Parameters<typeof deploy>[2];
  /** What the app answers for `GET /users/42?name=lamina&tag=a&tag=b`. */
  readonly user: unknown;
  /** The app's own 404 body for `GET /no/such/route`. */
  readonly missing: unknown;
}

const FRAMEWORKS: readonly Framework[] = [
  {
    name: 'fastify',
    files: () => [
      { name: 'index.js', content: FASTIFY_APP },
      ...nodeModulesEntries(['fastify', '@fastify/aws-lambda']),
    ],
    // The adapter splits the comma-joined repeats of queryStringParameters back into a list.
    user: { id: '42', query: { name: 'lamina', tag: ['a', 'b'] } },
    missing: { error: 'not found', url: '/no/such/route' },
  },
  {
    name: 'powertools',
    files: () => [
      { name: 'index.mjs', content: POWERTOOLS_APP },
      ...nodeModulesEntries(['@aws-lambda-powertools/event-handler']),
    ],
    // The router rebuilds the request URL from rawQueryString, so repeats stay separate.
    user: { id: '42', query: { name: 'lamina', tag: 'b' }, tags: ['a', 'b'] },
    missing: {
      statusCode: 404,
      error: 'NotFoundError',
      message: 'Route /no/such/route for method GET not found',
    },
  },
];

describe('web frameworks behind function URLs', () => {
  const suite = useServer();
  let client: LambdaClient;
  const urls = new Map<string, string>();

  before(async () => {
    client = suite.client;
    for (const framework of FRAMEWORKS) {
      const name = `${framework.name}-app`;
      await deploy(client, name, framework.files(), { timeout: 30 });
      const created = await client.send(
        new CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: 'NONE' }),
      );
      await client.send(new AddPermissionCommand({ FunctionName: name, ...PUBLIC_URL }));
      urls.set(framework.name, created.FunctionUrl ?? '');
    }
  });

  for (const framework of FRAMEWORKS) {
    describe(framework.name, () => {
      const url = (path: string): string => `${urls.get(framework.name) ?? ''}${path}`;

      test('route parameters and query strings', async () => {
        const answer = await urlRequest(url('users/42?name=lamina&tag=a&tag=b'));
        assert.equal(answer.status, 200, answer.body.toString());
        assert.match(String(answer.headers['content-type']), /^application\/json/);
        assert.deepEqual(answer.json(), framework.user);
      });

      test('a JSON POST body in, a status and a response header out', async () => {
        const answer = await urlRequest(url('users/7/orders'), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ item: 'widget', count: 3 }),
        });
        assert.equal(answer.status, 201, answer.body.toString());
        assert.equal(answer.headers['x-order-owner'], '7');
        assert.deepEqual(answer.json(), { owner: '7', order: { item: 'widget', count: 3 } });
      });

      test('cookies in and one Set-Cookie per cookie out', async () => {
        const answer = await urlRequest(url('cookies'), { headers: { cookie: 'a=1; b=2' } });
        assert.equal(answer.status, 200, answer.body.toString());
        const received = (answer.json() as { received: string }).received;
        // Both adapters rebuild the Cookie header from the event's cookies list.
        assert.deepEqual(received.split(/;\s*/), ['a=1', 'b=2']);
        assert.deepEqual(answer.headers['set-cookie'], [
          'session=abc; Path=/; HttpOnly',
          'theme=dark; Path=/',
        ]);
      });

      test("the app's own 404", async () => {
        const answer = await urlRequest(url('no/such/route'));
        assert.equal(answer.status, 404);
        assert.deepEqual(answer.json(), framework.missing);
      });
    });
  }
});
