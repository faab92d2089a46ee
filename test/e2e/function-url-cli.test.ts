/** Function URLs and resource policies through the real AWS CLI, and the URL answering curl. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { awsLambda, awsLambdaJson } from '../helpers/aws-cli.js';
import { ROLE } from '../helpers/lambda-client.js';
import { useServer } from '../helpers/server-suite.js';
import { helloZip } from '../helpers/zips.js';

const suite = useServer();
const aws = (args: readonly string[]) => awsLambdaJson(suite.server.endpoint, suite.workDir, args);

test('create-function-url-config, add-permission, get-policy, then curl the URL', async () => {
  const zip = join(suite.workDir, 'f.zip');
  writeFileSync(
    zip,
    await helloZip(
      "exports.handler = async (event) => ({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body: `hi ${event.rawPath}` });\n",
    ),
  );
  await aws([
    'create-function',
    '--function-name',
    'cliurl',
    '--runtime',
    'nodejs20.x',
    '--role',
    ROLE,
    '--handler',
    'index.handler',
    '--zip-file',
    `fileb://${zip}`,
  ]);
  const waited = await awsLambda(suite.server.endpoint, suite.workDir, [
    'wait',
    'function-active-v2',
    '--function-name',
    'cliurl',
  ]);
  assert.equal(waited.code, 0, waited.stderr);

  const created = await aws([
    'create-function-url-config',
    '--function-name',
    'cliurl',
    '--auth-type',
    'NONE',
    '--cors',
    'AllowOrigins=https://app.example,MaxAge=60',
  ]);
  const url = created['FunctionUrl'] as string;
  assert.match(url, /^http:\/\/[a-z0-9]{32}\.lambda-url\.us-east-1\.localhost:\d+\/$/);
  assert.deepEqual(created['Cors'], { AllowOrigins: ['https://app.example'], MaxAge: 60 });

  const added = await aws([
    'add-permission',
    '--function-name',
    'cliurl',
    '--statement-id',
    'public-url',
    '--action',
    'lambda:InvokeFunctionUrl',
    '--principal',
    '*',
    '--function-url-auth-type',
    'NONE',
  ]);
  const statement = JSON.parse(added['Statement'] as string) as { Condition: unknown };
  assert.deepEqual(statement.Condition, {
    StringEquals: { 'lambda:FunctionUrlAuthType': 'NONE' },
  });
  const policy = await aws(['get-policy', '--function-name', 'cliurl']);
  assert.equal(typeof policy['RevisionId'], 'string');
  const document = JSON.parse(policy['Policy'] as string) as { Statement: Array<{ Sid: string }> };
  assert.equal(document.Statement[0]?.Sid, 'public-url');

  const listed = await aws(['list-function-url-configs', '--function-name', 'cliurl']);
  assert.equal((listed['FunctionUrlConfigs'] as unknown[]).length, 1);

  // curl resolves *.localhost to the loopback address itself.
  const curl = await promisify(execFile)('curl', ['-sS', '-i', `${url}from-curl`]);
  assert.match(curl.stdout, /^HTTP\/1\.1 200/);
  assert.match(curl.stdout, /\r\n\r\nhi \/from-curl$/);

  const removed = await awsLambda(suite.server.endpoint, suite.workDir, [
    'remove-permission',
    '--function-name',
    'cliurl',
    '--statement-id',
    'public-url',
  ]);
  assert.equal(removed.code, 0, removed.stderr);
  const denied = await promisify(execFile)('curl', [
    '-sS',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    url,
  ]);
  assert.equal(denied.stdout, '403');
  const deleted = await awsLambda(suite.server.endpoint, suite.workDir, [
    'delete-function-url-config',
    '--function-name',
    'cliurl',
  ]);
  assert.equal(deleted.code, 0, deleted.stderr);
});
