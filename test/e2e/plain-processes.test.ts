/**
 * `--unsafe-plain-processes`: the server warns, and functions run unmodified as plain processes
 * (Node.js, Python, and a custom runtime speaking the Runtime API over AWS_LAMBDA_RUNTIME_API),
 * seeing their code where LAMBDA_TASK_ROOT says, not in a jail's /var/task.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { deploy, invokeJson } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';

describe('functions as plain processes (--unsafe-plain-processes)', () => {
  const dir = tempDir();
  let server: ServerProcess;
  let client: LambdaClient;

  before(async () => {
    server = await startServer({ dataDir: dir.path, args: ['--unsafe-plain-processes'] });
    client = lambdaClient(server.endpoint);
  });

  after(async () => {
    client.destroy();
    await server.stop();
    dir.remove();
  });

  test('the banner says functions run without a sandbox', () => {
    assert.match(
      server.output(),
      /WARNING: --unsafe-plain-processes: functions run WITHOUT a sandbox/,
    );
  });

  test('a Node.js function runs, logs and reports, its code outside any jail', async () => {
    await deploy(client, 'plain-node', {
      'index.mjs': `
import { readFileSync } from 'node:fs';
export const handler = async (event, context) => {
  console.log('plain hello');
  return {
    event,
    name: context.functionName,
    taskRoot: process.env.LAMBDA_TASK_ROOT,
    cwd: process.cwd(),
    own: readFileSync(process.env.LAMBDA_TASK_ROOT + '/index.mjs', 'utf8').length > 0,
  };
};`,
    });
    const first = await invokeJson(client, 'plain-node', { n: 1 }, { LogType: 'Tail' });
    const body = first.body as Record<string, unknown>;
    assert.deepEqual(body['event'], { n: 1 });
    assert.equal(body['name'], 'plain-node');
    assert.equal(body['own'], true);
    assert.notEqual(body['taskRoot'], '/var/task');
    assert.ok(String(body['taskRoot']).startsWith(server.dataDir), String(body['taskRoot']));
    assert.equal(body['cwd'], body['taskRoot']);
    assert.match(first.log, /INFO\tplain hello/);
    assert.match(first.log, /^REPORT RequestId: \S+\tDuration: /m);
    const second = await invokeJson(client, 'plain-node', { n: 2 });
    assert.deepEqual((second.body as Record<string, unknown>)['event'], { n: 2 });
  });

  test('a Python function runs', async () => {
    await deploy(
      client,
      'plain-python',
      {
        'app.py': `
import os
def handler(event, context):
    return {"sum": event["a"] + event["b"], "root": os.environ["LAMBDA_TASK_ROOT"]}
`,
      },
      { runtime: 'python3.11', handler: 'app.handler' },
    );
    const { body } = await invokeJson(client, 'plain-python', { a: 2, b: 3 });
    assert.equal((body as Record<string, unknown>)['sum'], 5);
    assert.notEqual((body as Record<string, unknown>)['root'], '/var/task');
  });

  test('a custom runtime reaches the Runtime API at AWS_LAMBDA_RUNTIME_API', async () => {
    await deploy(
      client,
      'plain-custom',
      [
        {
          name: 'bootstrap',
          mode: 0o100755,
          content: `#!/usr/bin/env node
const http = require('node:http');
const api = 'http://' + process.env.AWS_LAMBDA_RUNTIME_API + '/2018-06-01/runtime/invocation/';
const next = () => http.get(api + 'next', (res) => {
  let body = '';
  res.on('data', (c) => (body += c));
  res.on('end', () => {
    const id = res.headers['lambda-runtime-aws-request-id'];
    const answer = http.request(api + id + '/response', { method: 'POST' }, (r) => { r.resume(); r.on('end', next); });
    answer.end(JSON.stringify({ echoed: JSON.parse(body) }));
  });
});
next();
`,
        },
      ],
      { runtime: 'provided.al2023', handler: 'unused' },
    );
    const { body } = await invokeJson(client, 'plain-custom', { hi: true });
    assert.deepEqual(body, { echoed: { hi: true } });
  });
});
