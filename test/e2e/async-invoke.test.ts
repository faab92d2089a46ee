/**
 * End to end: asynchronous invocation on the built server (SigV4 on), driven by the AWS SDK
 * (Invoke with InvocationType Event, InvokeAsync, the EventInvokeConfig commands), by the real
 * AWS CLI, and by `lamina events` — and the success record a destination function receives.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  DeleteFunctionEventInvokeConfigCommand,
  GetFunctionEventInvokeConfigCommand,
  InvokeAsyncCommand,
  InvokeCommand,
  ListFunctionEventInvokeConfigsCommand,
  PutFunctionEventInvokeConfigCommand,
  UpdateFunctionEventInvokeConfigCommand,
} from '@aws-sdk/client-lambda';
import { EventsApi, type EventView } from '../helpers/async-events.js';
import { awsLambda, awsLambdaJson } from '../helpers/aws-cli.js';
import { deploy } from '../helpers/functions.js';
import { failureOf } from '../helpers/lambda-client.js';
import { REPO_ROOT, TEST_CREDENTIALS } from '../helpers/server-process.js';
import { useServer } from '../helpers/server-suite.js';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function';

/** Runs `lamina events …` (the built CLI) against the suite's server. */
function laminaEvents(
  endpoint: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, 'bin/lamina.js'), 'events', ...args, '--endpoint', endpoint],
      {
        env: {
          PATH: process.env['PATH'],
          LAMINA_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
          LAMINA_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
          ...env,
        },
      },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout, stderr }),
    );
  });
}

describe('asynchronous invocation end to end', () => {
  const suite = useServer();
  const events = () => new EventsApi(suite.server.endpoint, TEST_CREDENTIALS);

  test('EventInvokeConfig through the SDK: LastModified is epoch seconds, Put replaces, Update merges', async () => {
    const { client } = suite;
    await deploy(client, 'configured', { 'index.js': 'exports.handler = async () => 1;' });
    const put = await client.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: 'configured',
        MaximumRetryAttempts: 1,
        MaximumEventAgeInSeconds: 120,
      }),
    );
    assert.ok(put.LastModified instanceof Date);
    assert.ok(Math.abs(put.LastModified.getTime() - Date.now()) < 60_000);
    assert.equal(put.FunctionArn, `${ARN}:configured:$LATEST`);
    assert.deepEqual(put.DestinationConfig, { OnSuccess: {}, OnFailure: {} });
    const updated = await client.send(
      new UpdateFunctionEventInvokeConfigCommand({
        FunctionName: 'configured',
        MaximumRetryAttempts: 0,
      }),
    );
    assert.equal(updated.MaximumEventAgeInSeconds, 120);
    assert.equal(updated.MaximumRetryAttempts, 0);
    const got = await client.send(
      new GetFunctionEventInvokeConfigCommand({ FunctionName: 'configured' }),
    );
    assert.equal(got.MaximumRetryAttempts, 0);
    const listed = await client.send(
      new ListFunctionEventInvokeConfigsCommand({ FunctionName: 'configured' }),
    );
    assert.equal(listed.FunctionEventInvokeConfigs?.length, 1);
    await client.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName: 'configured' }));
    const gone = await failureOf(
      client.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'configured' })),
    );
    assert.deepEqual(gone, {
      name: 'ResourceNotFoundException',
      message: `The function ${ARN}:configured:$LATEST doesn't have an EventInvokeConfig`,
      status: 404,
    });
    const sqs = await failureOf(
      client.send(
        new PutFunctionEventInvokeConfigCommand({
          FunctionName: 'configured',
          DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:us-east-1:000000000000:q' } },
        }),
      ),
    );
    assert.equal(sqs.name, 'InvalidParameterValueException');
  });

  test('an Event invoke runs, and OnSuccess delivers the invocation record to a function', async () => {
    const { client } = suite;
    await deploy(client, 'doubler', {
      'index.js': 'exports.handler = async (event) => ({ doubled: event.n * 2 });',
    });
    await deploy(client, 'sink', { 'index.js': 'exports.handler = async (record) => record;' });
    await client.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: 'doubler',
        DestinationConfig: { OnSuccess: { Destination: `${ARN}:sink` } },
      }),
    );
    const out = await client.send(
      new InvokeCommand({
        FunctionName: 'doubler',
        InvocationType: 'Event',
        Payload: Buffer.from('{"n":21}'),
      }),
    );
    assert.equal(out.StatusCode, 202);
    assert.equal(out.FunctionError, undefined);
    assert.equal(Buffer.from(out.Payload ?? new Uint8Array()).length, 0);
    const id = out.$metadata.requestId ?? '';
    const done = await events().waitFor(id, (e) => e.Status === 'Succeeded');
    assert.equal(done.Attempts, 1);
    assert.equal(done.Condition, 'Success');
    assert.deepEqual(done.Response, { doubled: 42 });

    const [delivered] = await events().waitForList('sink', (list) =>
      list.some((e) => e.Status === 'Succeeded'),
    );
    const record = delivered?.Response as Record<string, unknown>;
    assert.deepEqual(Object.keys(record), [
      'version',
      'timestamp',
      'requestContext',
      'requestPayload',
      'responseContext',
      'responsePayload',
    ]);
    assert.equal(record['version'], '1.0');
    assert.deepEqual(record['requestContext'], {
      requestId: id,
      functionArn: `${ARN}:doubler:$LATEST`,
      condition: 'Success',
      approximateInvokeCount: 1,
    });
    assert.deepEqual(record['requestPayload'], { n: 21 });
    assert.deepEqual(record['responseContext'], { statusCode: 200, executedVersion: '$LATEST' });
    assert.deepEqual(record['responsePayload'], { doubled: 42 });
  });

  test('InvokeAsync answers Status 202; unknown functions and big payloads are refused', async () => {
    const { client } = suite;
    await deploy(client, 'legacy', { 'index.js': 'exports.handler = async (e) => e;' });
    const legacy = await client.send(
      new InvokeAsyncCommand({ FunctionName: 'legacy', InvokeArgs: Buffer.from('{"old":1}') }),
    );
    assert.equal(legacy.Status, 202);
    await events().waitFor(legacy.$metadata.requestId ?? '', (e) => e.Status === 'Succeeded');

    const missing = await failureOf(
      client.send(new InvokeCommand({ FunctionName: 'nope', InvocationType: 'Event' })),
    );
    assert.deepEqual(missing, {
      name: 'ResourceNotFoundException',
      message: `Function not found: ${ARN}:nope`,
      status: 404,
    });
    const big = await failureOf(
      client.send(
        new InvokeCommand({
          FunctionName: 'legacy',
          InvocationType: 'Event',
          Payload: Buffer.from(JSON.stringify('x'.repeat(1_100_000))),
        }),
      ),
    );
    assert.equal(big.name, 'RequestTooLargeException');
    assert.equal(big.status, 413);
  });

  test('the AWS CLI: invoke --invocation-type Event and the event-invoke-config commands', async () => {
    const home = suite.workDir;
    const endpoint = suite.server.endpoint;
    await deploy(suite.client, 'from-cli', { 'index.js': 'exports.handler = async (e) => e;' });
    const put = await awsLambdaJson(endpoint, home, [
      'put-function-event-invoke-config',
      '--function-name',
      'from-cli',
      '--maximum-retry-attempts',
      '0',
    ]);
    assert.equal(put['MaximumRetryAttempts'], 0);
    assert.equal(typeof put['LastModified'], 'string'); // the CLI prints the parsed timestamp
    const invoked = await awsLambda(endpoint, home, [
      'invoke',
      '--function-name',
      'from-cli',
      '--invocation-type',
      'Event',
      '--cli-binary-format',
      'raw-in-base64-out',
      '--payload',
      '{"via":"cli"}',
      join(home, 'out.json'),
    ]);
    assert.equal(invoked.code, 0, invoked.stderr);
    assert.equal((JSON.parse(invoked.stdout) as Record<string, unknown>)['StatusCode'], 202);
    const [event] = await events().waitForList('from-cli', (list) =>
      list.some((e) => e.Status === 'Succeeded'),
    );
    assert.deepEqual(event?.Response, { via: 'cli' });
    const tooMany = await awsLambda(endpoint, home, [
      'put-function-event-invoke-config',
      '--function-name',
      'from-cli',
      '--maximum-retry-attempts',
      '3',
    ]);
    assert.notEqual(tooMany.code, 0);
    assert.match(tooMany.stderr, /ValidationException|maximumRetryAttempts|MaximumRetryAttempts/);
  });

  test('lamina events list, get and replay (signed), as text and as JSON', async () => {
    const { client } = suite;
    const endpoint = suite.server.endpoint;
    await deploy(client, 'shown', {
      'index.js':
        'exports.handler = async (e) => { if (e.fail) throw new Error("asked to"); return e; };',
    });
    await client.send(
      new PutFunctionEventInvokeConfigCommand({ FunctionName: 'shown', MaximumRetryAttempts: 0 }),
    );
    const send = async (payload: unknown) =>
      (
        await client.send(
          new InvokeCommand({
            FunctionName: 'shown',
            InvocationType: 'Event',
            Payload: Buffer.from(JSON.stringify(payload)),
          }),
        )
      ).$metadata.requestId ?? '';
    const good = await send({ ok: 1 });
    const bad = await send({ fail: true });
    await events().waitFor(good, (e) => e.Status === 'Succeeded');
    await events().waitFor(bad, (e) => e.Status === 'Failed');

    const listed = await laminaEvents(endpoint, ['list', 'shown', '--output', 'json']);
    assert.equal(listed.code, 0, listed.stderr);
    const page = JSON.parse(listed.stdout) as { AsyncEvents: EventView[] };
    assert.deepEqual(
      page.AsyncEvents.map((e) => [e.RequestId, e.Status]),
      [
        [bad, 'Failed'],
        [good, 'Succeeded'],
      ],
    );
    const failedOnly = await laminaEvents(endpoint, ['list', 'shown', '--status', 'Failed']);
    assert.equal(failedOnly.code, 0, failedOnly.stderr);
    assert.match(failedOnly.stdout, /^REQUEST ID\s+STATUS\s+ATTEMPTS\s+ENQUEUED\s+OUTCOME\n/);
    assert.match(
      failedOnly.stdout,
      new RegExp(`${bad}\\s+Failed\\s+1\\s+\\S+\\s+RetriesExhausted Error`),
    );
    assert.doesNotMatch(failedOnly.stdout, new RegExp(good));

    const shown = await laminaEvents(endpoint, ['get', bad]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^Status\s+Failed \(RetriesExhausted\)$/m);
    assert.match(shown.stdout, /^Error\s+Error: asked to$/m);
    const asJson = JSON.parse(
      (await laminaEvents(endpoint, ['get', bad, '--output', 'json'])).stdout,
    ) as EventView;
    assert.equal(asJson.Error?.errorMessage, 'asked to');

    const replayed = await laminaEvents(endpoint, ['replay', good, '--output', 'json']);
    assert.equal(replayed.code, 0, replayed.stderr);
    const { RequestId } = JSON.parse(replayed.stdout) as { RequestId: string };
    const again = await events().waitFor(RequestId, (e) => e.Status === 'Succeeded');
    assert.equal(again.ReplayOf, good);
    assert.deepEqual(again.Response, { ok: 1 });

    const unknown = await laminaEvents(endpoint, ['get', 'no-such-event']);
    assert.equal(unknown.code, 1);
    assert.equal(
      unknown.stderr,
      'lamina: ResourceNotFoundException: Async event not found: no-such-event\n',
    );
    const wrongKey = await laminaEvents(endpoint, ['list', 'shown'], {
      LAMINA_SECRET_ACCESS_KEY: 'wrong-secret',
    });
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stderr, /^lamina: InvalidSignatureException: /);
    const unsigned = await fetch(`${endpoint}/lamina/2026-11-01/functions/shown/async-events`);
    assert.equal(unsigned.status, 403);
    assert.equal(unsigned.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
  });
});
