/**
 * Mappings survive their server: killed (SIGKILL) in the middle of a queue or stream, the server is
 * started again on the same data directory; each mapping resumes by itself and every record is
 * processed. A queue's unacknowledged messages are delivered again by RabbitMQ; a stream resumes
 * at its checkpoint in the broker (JetStream's durable consumer redelivers the batch in flight
 * after its ack wait, Redis's group pending list at once), so only records in flight when the
 * server died are delivered twice. Then an orderly stop (SIGTERM) and start: the mappings resume.
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
import { natsTestStream, redisTestStream, type TestStream } from '../helpers/streams.js';

/** Passes each record's body on to `sink` (one asynchronous event each), a little slowly. */
const RELAY = `
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
const lambda = new LambdaClient({ maxAttempts: 1 });
export const handler = async (event) => {
  const bodies = event.rmqMessagesByQueue
    ? Object.values(event.rmqMessagesByQueue).flat().map((m) => m.data)
    : Object.values(event.records).flat().map((r) => r.value);
  for (const body of bodies)
    await lambda.send(new InvokeCommand({ FunctionName: 'sink', InvocationType: 'Event', Payload: Buffer.from(body, 'base64') }));
  await new Promise((resolve) => setTimeout(resolve, 20));
};
`;
const ECHO = 'export const handler = async (event) => event;\n';
const COUNT = 60;
const BATCH = 5;
const SOURCES = ['rabbitmq', 'nats', 'redis'] as const;

describe('event source mappings across server restarts', () => {
  const dir = tempDir();
  let server: ServerProcess;
  let client: LambdaClient;
  let vhost: TestVhost;
  const streams: TestStream[] = [];
  const uuids: string[] = [];

  const start = async () => {
    server = await startServer({ dataDir: dir.path });
    client = lambdaClient(server.endpoint);
  };
  /** How many times `sink` received each record, by source. */
  const received = async (): Promise<Map<string, Map<number, number>>> => {
    const events = new EventsApi(server.endpoint, TEST_CREDENTIALS);
    const list = await events.list('sink', { Status: 'Succeeded', MaxItems: '1000' });
    const counts = new Map<string, Map<number, number>>(SOURCES.map((s) => [s, new Map()]));
    for (const e of list) {
      const { source, n } = e.Response as { source: string; n: number };
      const bySource = counts.get(source);
      bySource?.set(n, (bySource.get(n) ?? 0) + 1);
    }
    return counts;
  };
  const append = async (source: (typeof SOURCES)[number], n: number) => {
    if (source === 'rabbitmq') vhost.publish('work', { source, n }, { persistent: true });
    else await streams[source === 'nats' ? 0 : 1]?.append(`p${n % 3}`, { source, n });
  };

  before(async () => {
    vhost = await testVhost();
    await vhost.channel.assertQueue('work', { durable: true });
    streams.push(await natsTestStream(), await redisTestStream());
    await start();
    await deploy(client, 'relay', { 'index.mjs': RELAY });
    await deploy(client, 'sink', { 'index.mjs': ECHO });
  });

  after(async () => {
    client?.destroy();
    await server?.stop();
    await vhost?.remove();
    for (const stream of streams) await stream.remove();
    dir.remove();
  });

  test('killed mid-stream, the server resumes every mapping and no record is lost', async () => {
    const api = new LaminaApiClient({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: TEST_CREDENTIALS,
    });
    const { json } = await api.request(
      'POST',
      '/lamina/2026-11-01/brokers',
      {},
      { BrokerName: 'local', Url: vhost.url },
    );
    const common = { FunctionName: 'relay', BatchSize: BATCH, MaximumBatchingWindowInSeconds: 0 };
    const made = [
      { EventSourceArn: (json as { BrokerArn: string }).BrokerArn, Queues: ['work'] },
      ...streams.map((stream) => ({
        SelfManagedEventSource: { Endpoints: stream.endpoints },
        Topics: [stream.name],
        StartingPosition: 'TRIM_HORIZON' as const,
        ParallelizationFactor: 2,
      })),
    ];
    for (const input of made) {
      const created = await client.send(
        new CreateEventSourceMappingCommand({ ...common, ...input }),
      );
      uuids.push(created.UUID ?? '');
    }
    for (let n = 1; n <= COUNT; n += 1) for (const source of SOURCES) await append(source, n);
    // Killed once some, not all, records of each source were processed.
    await poll(
      received,
      (counts) => [...counts.values()].every((c) => c.size >= 5),
      60_000,
      'some processed',
    );
    assert.equal(await server.stop('SIGKILL'), 'SIGKILL');
    await start();
    const all = await poll(
      received,
      (counts) => [...counts.values()].every((c) => c.size === COUNT),
      120_000,
      'all processed',
    );
    for (const [source, counts] of all) {
      assert.deepEqual(
        [...counts.keys()].sort((a, b) => a - b),
        Array.from({ length: COUNT }, (_, i) => i + 1),
        `every ${source} record`,
      );
      // Only records in flight (a batch per lane, or per consumer for the queue) came twice.
      const twice = [...counts.values()].filter((times) => times > 1).length;
      assert.ok(twice <= BATCH * 2, `${source}: ${twice} records delivered twice`);
    }
    for (const uuid of uuids) {
      const resumed = await client.send(new GetEventSourceMappingCommand({ UUID: uuid }));
      assert.equal(resumed.State, 'Enabled');
    }
    assert.equal(
      await poll(
        () => vhost.ready('work'),
        (n) => n === 0,
        30_000,
        'drained',
      ),
      0,
    );

    // An orderly stop; the mappings resume and take new records.
    client.destroy();
    assert.equal(await server.stop('SIGTERM'), 0);
    await start();
    for (const source of SOURCES) await append(source, COUNT + 1);
    await poll(
      received,
      (counts) => [...counts.values()].every((c) => c.has(COUNT + 1)),
      60_000,
      'the next records',
    );
  });
});
