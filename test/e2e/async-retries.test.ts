/**
 * Retries, backoff, event age, reserved concurrency 0, failure destinations and retention, driven
 * by a controllable clock: the real server (in this process, so the test owns its clock), real
 * SQLite, real sandboxes and the AWS SDK. Minutes and hours pass by moving the clock, never by
 * waiting; the test reads the events API again after each committed change to the queue (with a
 * deadline) until it shows the state it expects.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  InvokeCommand,
  PublishLayerVersionCommand,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { useInProcessServer } from '../helpers/in-process-server.js';
import { epochMs, EventsApi, type EventView } from '../helpers/async-events.js';
import { untilChanged } from '../helpers/poll.js';
import { deploy } from '../helpers/functions.js';
import { failureOf } from '../helpers/lambda-client.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { buildZip } from '../helpers/zips.js';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function';
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const FAILING = {
  'index.js': 'exports.handler = async (event) => { throw new Error(`refused ${event.n}`); };',
};
/** Returns what it received: its own events' responses are the records it was sent. */
const RECORDER = { 'index.js': 'exports.handler = async (event) => event;' };
const SLOW = {
  'index.js':
    'exports.handler = async (event) => { await new Promise((r) => setTimeout(r, 5000)); return { slept: event }; };',
};

/** An external extension that takes 200 ms over each invocation after its response. */
const POST_PROCESSING_EXTENSION = `#!/usr/bin/env node
const http = require('node:http');
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const call = (method, path, headers, body) =>
  new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
(async () => {
  const reg = await call('POST', '/2020-01-01/extension/register', { 'Lambda-Extension-Name': 'post' },
    JSON.stringify({ events: ['INVOKE'] }));
  const id = reg.headers['lambda-extension-identifier'];
  for (;;) {
    await call('GET', '/2020-01-01/extension/event/next', { 'Lambda-Extension-Identifier': id });
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
})();
`;

describe('asynchronous invocation on a controllable clock', () => {
  const clock = new ManualClock();
  const suite = useInProcessServer({ auth: 'none', logLevel: 'warn' }, clock);
  let client: LambdaClient;
  let events: EventsApi;

  const sendEvent = async (name: string, payload: unknown): Promise<string> => {
    const out = await client.send(
      new InvokeCommand({
        FunctionName: name,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify(payload)),
      }),
    );
    assert.equal(out.StatusCode, 202);
    const id = out.$metadata.requestId;
    assert.ok(id !== undefined);
    return id;
  };
  const onFailure = (name: string, extra: Record<string, number> = {}) =>
    client.send(
      new PutFunctionEventInvokeConfigCommand({
        FunctionName: name,
        ...extra,
        DestinationConfig: { OnFailure: { Destination: `${ARN}:recorder` } },
      }),
    );
  /** The record the recorder received about `requestId`. */
  const recordAbout = async (requestId: string): Promise<Record<string, unknown>> => {
    const found = await events.waitForList('recorder', (list) =>
      list.some((e) => e.Status === 'Succeeded' && aboutRequest(e, requestId)),
    );
    const event = found.find((e) => aboutRequest(e, requestId));
    return event?.Response as Record<string, unknown>;
  };

  before(async () => {
    client = suite.client;
    const store = suite.server.parts.asyncStore;
    events = new EventsApi(suite.server.endpoint, undefined, (listener) =>
      store.onChange(listener),
    );
    await deploy(client, 'recorder', RECORDER);
    await deploy(client, 'failing', FAILING);
  });

  test('a function error is retried after 1 min and 2 min, then fails to the OnFailure destination', async () => {
    await onFailure('failing');
    const id = await sendEvent('failing', { n: 1 });

    const first = await events.waitFor(id, (e) => e.Attempts === 1 && e.Status === 'Retrying');
    assert.deepEqual(first.Error, { errorType: 'Error', errorMessage: 'refused 1' });
    assert.equal(epochMs(first.NextAttemptTime) - epochMs(first.LastAttemptTime), MINUTE);
    clock.advance(MINUTE);

    const second = await events.waitFor(id, (e) => e.Attempts === 2 && e.Status === 'Retrying');
    assert.equal(epochMs(second.NextAttemptTime) - epochMs(second.LastAttemptTime), 2 * MINUTE);
    clock.advance(2 * MINUTE);

    const failed = await events.waitFor(id, (e) => e.Status === 'Failed');
    assert.equal(failed.Attempts, 3);
    assert.equal(failed.Condition, 'RetriesExhausted');
    assert.equal((failed.Response as { errorMessage: string }).errorMessage, 'refused 1');

    const record = await recordAbout(id);
    assert.equal(record['version'], '1.0');
    assert.match(String(record['timestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(record['requestContext'], {
      requestId: id,
      functionArn: `${ARN}:failing:$LATEST`,
      condition: 'RetriesExhausted',
      approximateInvokeCount: 3,
    });
    assert.deepEqual(record['requestPayload'], { n: 1 });
    assert.deepEqual(record['responseContext'], {
      statusCode: 200,
      executedVersion: '$LATEST',
      functionError: 'Unhandled',
    });
    const response = record['responsePayload'] as Record<string, unknown>;
    assert.equal(response['errorType'], 'Error');
    assert.equal(response['errorMessage'], 'refused 1');
    assert.ok(Array.isArray(response['trace']));
  });

  test('MaximumEventAgeInSeconds 60: the 1-minute retry would be too late, so the event expires', async () => {
    await onFailure('failing', { MaximumEventAgeInSeconds: 60 });
    const id = await sendEvent('failing', { n: 2 });
    const expired = await events.waitFor(id, (e) => e.Status === 'Expired');
    assert.equal(expired.Condition, 'EventAgeExceeded');
    assert.equal(expired.Attempts, 1);
    const record = await recordAbout(id);
    assert.deepEqual(record['requestContext'], {
      requestId: id,
      functionArn: `${ARN}:failing:$LATEST`,
      condition: 'EventAgeExceeded',
      approximateInvokeCount: 1,
    });
    assert.equal(
      (record['responseContext'] as Record<string, unknown>)['functionError'],
      'Unhandled',
    );
  });

  /** Starts a synchronous invoke of `slow` and resolves once it holds the only slot (a 429 proves it). */
  const holdSlot = async (): Promise<{ done: Promise<unknown> }> => {
    const holder = client.send(
      new InvokeCommand({ FunctionName: 'slow', Payload: Buffer.from('1') }),
    );
    for (;;) {
      const probe = await failureOf(
        client.send(new InvokeCommand({ FunctionName: 'slow', Payload: Buffer.from('0') })),
      ).catch(() => undefined);
      if (probe?.name === 'TooManyRequestsException') return { done: holder };
    }
  };
  const throttledOnce = async (id: string): Promise<EventView> => {
    const throttled = await events.waitFor(id, (e) => e.Error !== null);
    assert.equal(throttled.Status, 'Queued');
    assert.equal(throttled.Attempts, 0);
    assert.equal(throttled.Error?.errorType, 'TooManyRequestsException');
    assert.match(
      throttled.Error?.errorMessage ?? '',
      /ReservedFunctionConcurrentInvocationLimitExceeded/,
    );
    return throttled;
  };

  test('a throttled event backs off (1 s first) and expires after 6 hours without running', async () => {
    await deploy(client, 'slow', SLOW, { timeout: 20 });
    await client.send(
      new PutFunctionConcurrencyCommand({ FunctionName: 'slow', ReservedConcurrentExecutions: 1 }),
    );
    await onFailure('slow', { MaximumRetryAttempts: 0 });
    const holder = await holdSlot();
    const id = await sendEvent('slow', { n: 3 });
    const throttled = await throttledOnce(id);
    // The first backoff is 1 s after the throttle, which came a few ms after enqueueing.
    const wait = epochMs(throttled.NextAttemptTime) - epochMs(throttled.EnqueuedTime);
    assert.ok(wait >= 1000 && wait < 3000, `first backoff ${wait} ms`);

    clock.advance(6 * HOUR);
    const expired = await events.waitFor(id, (e) => e.Status === 'Expired');
    assert.equal(expired.Condition, 'EventAgeExceeded');
    assert.equal(expired.Attempts, 0);
    const record = await recordAbout(id);
    assert.deepEqual(record['requestContext'], {
      requestId: id,
      functionArn: `${ARN}:slow:$LATEST`,
      condition: 'EventAgeExceeded',
      approximateInvokeCount: 0,
    });
    assert.equal('responseContext' in record, false);
    assert.equal('responsePayload' in record, false);
    await holder.done;
  });

  test('throttles use no attempt: with MaximumRetryAttempts 0 a throttled event still runs', async () => {
    const holder = await holdSlot();
    const id = await sendEvent('slow', { n: 5 });
    await throttledOnce(id);
    await holder.done;
    // The slot is free: move past any backoff (at most 5 minutes) and it runs.
    clock.advance(5 * MINUTE);
    const done = await events.waitFor(id, (e) => e.Status === 'Succeeded', 120_000);
    assert.equal(done.Attempts, 1);
    assert.equal(done.Error, null);
    assert.deepEqual(done.Response, { slept: { n: 5 } });
  });

  test('events of a function with reserved concurrency 1 run one after another, none throttled', async () => {
    // An extension that post-processes each invocation for 200 ms: the invocation holds its
    // concurrency until then, after its response is in. The clock never moves, so an event that
    // was throttled (and backed off) would never run again.
    const zip = await buildZip([
      { name: 'extensions/post', content: POST_PROCESSING_EXTENSION, mode: 0o100755 },
    ]);
    const layer = await client.send(
      new PublishLayerVersionCommand({ LayerName: 'post', Content: { ZipFile: zip } }),
    );
    await deploy(client, 'serial', RECORDER, { layers: [layer.LayerVersionArn ?? ''] });
    await client.send(
      new PutFunctionConcurrencyCommand({
        FunctionName: 'serial',
        ReservedConcurrentExecutions: 1,
      }),
    );
    const ids = [];
    for (let n = 0; n < 4; n += 1) ids.push(await sendEvent('serial', { n }));
    const done = await events.waitForList(
      'serial',
      (list) => list.filter((e) => e.Status === 'Succeeded').length === ids.length,
    );
    for (const event of done) {
      assert.equal(event.Attempts, 1);
      assert.equal(event.Throttles, 0, `${event.RequestId} was throttled`);
    }
  });

  test('reserved concurrency 0 sends events straight to the failure path', async () => {
    await client.send(
      new PutFunctionConcurrencyCommand({ FunctionName: 'slow', ReservedConcurrentExecutions: 0 }),
    );
    const id = await sendEvent('slow', { n: 6 });
    const failed = await events.waitFor(id, (e) => e.Status === 'Failed');
    assert.equal(failed.Attempts, 0);
    assert.equal(failed.Condition, 'RetriesExhausted');
    assert.equal(failed.Error?.errorType, 'TooManyRequestsException');
    const record = await recordAbout(id);
    assert.equal(
      (record['requestContext'] as Record<string, unknown>)['approximateInvokeCount'],
      0,
    );
  });

  test('finished events are pruned after the retention period (7 days by default)', async () => {
    const finished = (await events.list('failing')).filter((e) => e.FinishedTime !== undefined);
    assert.ok(finished.length >= 2);
    const waiting = await sendEvent('slow', { n: 7 }); // reserved 0: fails at once, finishes now
    await events.waitFor(waiting, (e) => e.Status === 'Failed');
    clock.advance(7 * DAY - 1 * HOUR);
    // Nothing is old enough yet: the newest event is still there after a prune pass.
    assert.equal((await events.get(waiting)).Status, 'Failed');
    clock.advance(2 * HOUR);
    await events.waitForList('failing', (list) => list.length === 0);
    const gone = await untilChanged(
      () => failureOf(events.get(waiting)).catch(() => undefined),
      (failure) => failure !== undefined,
      (listener) => suite.server.parts.asyncStore.onChange(listener),
      60_000,
      `pruning of ${waiting}`,
    );
    assert.equal(gone?.name, 'ResourceNotFoundException');
  });
});

function aboutRequest(event: EventView, requestId: string): boolean {
  const record = event.Response as { requestContext?: { requestId?: string } } | null;
  return record?.requestContext?.requestId === requestId;
}
