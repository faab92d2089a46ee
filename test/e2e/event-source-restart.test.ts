/**
 * A mapping survives its server: killed (SIGKILL) in the middle of a queue, the server is started
 * again on the same data directory; the mapping resumes by itself and every message is processed
 * (those in the batch under way when it died are delivered again, as RabbitMQ puts unacknowledged
 * messages back). Then an orderly stop (SIGTERM) with the queue idle, and the mapping resumes again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateEventSourceMappingCommand,
  GetEventSourceMappingCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { LaminaApiClient } from '../../src/cli/lamina-api-client.js';
import { EventsApi } from '../helpers/async-events.js';
import { deploy } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import { poll } from '../helpers/poll.js';
import { testVhost, type TestVhost } from '../helpers/rabbitmq.js';
import {
  startServer,
  tempDir,
  TEST_CREDENTIALS,
  type ServerProcess,
} from '../helpers/server-process.js';

/** Passes each message on to `sink` (one asynchronous event per message), a little slowly. */
const RELAY = `
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
const lambda = new LambdaClient({ maxAttempts: 1 });
export const handler = async (event) => {
  for (const m of Object.values(event.rmqMessagesByQueue).flat())
    await lambda.send(new InvokeCommand({ FunctionName: 'sink', InvocationType: 'Event', Payload: Buffer.from(m.data, 'base64') }));
  await new Promise((resolve) => setTimeout(resolve, 20));
};
`;
const ECHO = 'export const handler = async (event) => event;\n';
const COUNT = 60;

describe('event source mappings across server restarts', () => {
  const dir = tempDir();
  let server: ServerProcess;
  let client: LambdaClient;
  let vhost: TestVhost;

  const start = async () => {
    server = await startServer({ dataDir: dir.path });
    client = lambdaClient(server.endpoint);
  };
  /** The distinct message numbers `sink` has received. */
  const received = async (): Promise<Set<number>> => {
    const events = new EventsApi(server.endpoint, TEST_CREDENTIALS);
    const list = await events.list('sink', { Status: 'Succeeded' });
    return new Set(list.map((e) => (e.Response as { n: number }).n));
  };

  before(async () => {
    vhost = await testVhost();
    await vhost.channel.assertQueue('work', { durable: true });
    await start();
    await deploy(client, 'relay', { 'index.mjs': RELAY });
    await deploy(client, 'sink', { 'index.mjs': ECHO });
  });

  after(async () => {
    client?.destroy();
    await server?.stop();
    await vhost?.remove();
    dir.remove();
  });

  test('killed mid-queue, the server resumes the mapping and no message is lost', async () => {
    const api = new LaminaApiClient({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: TEST_CREDENTIALS,
    });
    const { json } = await api.request(
      'POST',
      '/lamina/2026-11-01/brokers',
      {},
      {
        BrokerName: 'local',
        Url: vhost.url,
      },
    );
    const created = await client.send(
      new CreateEventSourceMappingCommand({
        FunctionName: 'relay',
        EventSourceArn: (json as { BrokerArn: string }).BrokerArn,
        Queues: ['work'],
        BatchSize: 5,
        MaximumBatchingWindowInSeconds: 0,
      }),
    );
    const uuid = created.UUID ?? '';
    for (let n = 1; n <= COUNT; n += 1) vhost.publish('work', { n }, { persistent: true });
    // Killed once some, not all, messages were processed.
    await poll(received, (seen) => seen.size >= 10, 60_000, 'some processed');
    assert.equal(await server.stop('SIGKILL'), 'SIGKILL');
    await start();
    const all = await poll(received, (seen) => seen.size === COUNT, 120_000, 'all processed');
    assert.deepEqual(
      [...all].sort((a, b) => a - b),
      Array.from({ length: COUNT }, (_, i) => i + 1),
    );
    const resumed = await client.send(new GetEventSourceMappingCommand({ UUID: uuid }));
    assert.equal(resumed.State, 'Enabled');
    assert.equal(
      await poll(
        () => vhost.ready('work'),
        (n) => n === 0,
        30_000,
        'drained',
      ),
      0,
    );

    // An orderly stop with nothing to do; the mapping resumes and takes new messages.
    client.destroy();
    assert.equal(await server.stop('SIGTERM'), 0);
    await start();
    vhost.publish('work', { n: COUNT + 1 }, { persistent: true });
    await poll(received, (seen) => seen.has(COUNT + 1), 60_000, 'the next message');
  });
});
