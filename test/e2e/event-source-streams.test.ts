/**
 * NATS JetStream and Redis Streams as ordered event sources, end to end, with the machine's
 * brokers (streams of the test's own), the real server in this process on a controllable clock,
 * real sandboxes and the SDK: where reading starts (TRIM_HORIZON, LATEST, AT_TIMESTAMP), order
 * per partition with ParallelizationFactor lanes, the Kafka-shaped event, and a failed record
 * holding back the ones after it until it is retried, then sent to the OnFailure function.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  GetEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { EventsApi, type EventView } from '../helpers/async-events.js';
import { deploy } from '../helpers/functions.js';
import { useInProcessServer } from '../helpers/in-process-server.js';
import { failureOf } from '../helpers/lambda-client.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { poll } from '../helpers/poll.js';
import { TEST_CREDENTIALS } from '../helpers/server-process.js';
import { natsTestStream, redisTestStream, type TestStream } from '../helpers/streams.js';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function';

/** Passes each record on to `sink` in order; fails as the records ask. */
const RELAY = `
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
const lambda = new LambdaClient({ maxAttempts: 1 });
export const handler = async (event) => {
  const failures = [];
  for (const records of Object.values(event.records))
    for (const r of records) {
      const value = JSON.parse(Buffer.from(r.value, 'base64').toString());
      const seen = { source: event.eventSource, topic: r.topic, partition: r.partition, offset: r.offset, value, headers: r.headers };
      await lambda.send(new InvokeCommand({ FunctionName: 'sink', InvocationType: 'Event', Payload: JSON.stringify(seen) }));
      if (value.fail === true) throw new Error('asked to fail');
      if (value.failItem === true) failures.push({ itemIdentifier: String(r.offset) });
    }
  return { batchItemFailures: failures };
};
`;
const ECHO = 'export const handler = async (event) => event;\n';

interface Seen {
  readonly source: string;
  readonly topic: string;
  readonly partition: string | number;
  readonly offset: string | number;
  readonly value: { readonly tag: string; readonly n: number; readonly p?: string };
  readonly headers: Array<Record<string, number[]>>;
}

for (const kind of ['nats', 'redis'] as const) {
  describe(`${kind === 'nats' ? 'NATS JetStream' : 'Redis Streams'} event source mappings`, () => {
    const clock = new ManualClock();
    const suite = useInProcessServer({ logLevel: 'warn' }, clock);
    let stream: TestStream;
    let events: EventsApi;

    /** Records `sink` saw with tag `tag`, in the order it saw them, once `ready` holds. */
    const seen = async (tag: string, ready: (list: Seen[]) => boolean): Promise<Seen[]> => {
      const toSeen = (list: EventView[]) =>
        list
          .filter((e) => e.Status === 'Succeeded')
          .reverse()
          .map((e) => e.Response as Seen)
          .filter((s) => s.value.tag === tag);
      return toSeen(await events.waitForList('sink', (list) => ready(toSeen(list))));
    };
    const create = async (extra: Record<string, unknown>) => {
      const created = await suite.client.send(
        new CreateEventSourceMappingCommand({
          FunctionName: 'relay',
          SelfManagedEventSource: { Endpoints: stream.endpoints },
          Topics: [stream.name],
          MaximumBatchingWindowInSeconds: 0,
          ...extra,
        }),
      );
      const uuid = created.UUID ?? '';
      await poll(
        () => suite.client.send(new GetEventSourceMappingCommand({ UUID: uuid })),
        (m) => m.State === 'Enabled',
        30_000,
        'enabled',
      );
      return uuid;
    };
    const remove = async (uuid: string) => {
      await suite.client.send(new DeleteEventSourceMappingCommand({ UUID: uuid }));
      await poll(
        () =>
          failureOf(suite.client.send(new GetEventSourceMappingCommand({ UUID: uuid }))).catch(
            () => undefined,
          ),
        (f) => f?.name === 'ResourceNotFoundException',
        30_000,
        'deleted',
      );
    };

    before(async () => {
      stream = kind === 'nats' ? await natsTestStream() : await redisTestStream();
      const store = suite.server.parts.asyncStore;
      events = new EventsApi(suite.server.endpoint, TEST_CREDENTIALS, (listener) =>
        store.onChange(listener),
      );
      await deploy(suite.client, 'relay', { 'index.mjs': RELAY });
      await deploy(suite.client, 'sink', { 'index.mjs': ECHO });
      await deploy(suite.client, 'dead', { 'index.mjs': ECHO });
    });

    after(async () => {
      await stream?.remove();
    });

    test('TRIM_HORIZON reads what is there; order holds per partition across lanes', async () => {
      for (let n = 1; n <= 10; n += 1)
        for (const p of ['a', 'b', 'c'])
          await stream.append(p, { tag: 'order', n, p }, { origin: 'test' });
      const uuid = await create({
        StartingPosition: 'TRIM_HORIZON',
        ParallelizationFactor: 3,
        BatchSize: 4,
      });
      const list = await seen('order', (l) => l.length >= 30);
      assert.equal(list.length, 30, 'each record once');
      for (const p of ['a', 'b', 'c'])
        assert.deepEqual(
          list.filter((s) => s.value.p === p).map((s) => s.value.n),
          [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
          `partition ${p} in order`,
        );
      const first = list[0];
      assert.ok(first !== undefined);
      assert.equal(first.source, kind === 'nats' ? 'SelfManagedNATS' : 'SelfManagedRedis');
      assert.equal(first.topic, stream.name);
      assert.deepEqual(first.headers, [{ origin: [...Buffer.from('test')] }]);
      const mapping = await suite.client.send(new GetEventSourceMappingCommand({ UUID: uuid }));
      assert.equal(mapping.StartingPosition, 'TRIM_HORIZON');
      assert.equal(mapping.ParallelizationFactor, 3);
      assert.deepEqual(mapping.Topics, [stream.name]);
      assert.deepEqual(mapping.SelfManagedEventSource?.Endpoints, stream.endpoints);
      await remove(uuid);
    });

    test('LATEST starts after what is there; AT_TIMESTAMP at a time', async () => {
      await stream.append('a', { tag: 'before', n: 1 });
      const latest = await create({ StartingPosition: 'LATEST' });
      await stream.append('a', { tag: 'after', n: 2 });
      await seen('after', (l) => l.length === 1);
      assert.deepEqual(await seen('before', () => true), []);
      await remove(latest);
      const since = Date.now() / 1000;
      await stream.append('a', { tag: 'timed', n: 3 });
      const timed = await create({
        StartingPosition: 'AT_TIMESTAMP',
        StartingPositionTimestamp: new Date(Math.floor(since * 1000)),
      });
      const list = await seen('timed', (l) => l.length === 1);
      assert.equal(list[0]?.value.n, 3);
      // Records before the timestamp ("before", "after") are not read again.
      assert.equal((await seen('before', () => true)).length, 0);
      await remove(timed);
    });

    test('a failed record holds back the ones after it; retried, then sent to OnFailure', async () => {
      const uuid = await create({
        StartingPosition: 'LATEST',
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumRetryAttempts: 1,
        BatchSize: 10,
        MaximumBatchingWindowInSeconds: 1,
        DestinationConfig: { OnFailure: { Destination: `${ARN}:dead` } },
      });
      await stream.append('a', { tag: 'partial', n: 1 });
      await stream.append('a', { tag: 'partial', n: 2, failItem: true });
      await stream.append('a', { tag: 'partial', n: 3 });
      const firstRound = await seen('partial', (l) => l.some((s) => s.value.n === 3));
      assert.deepEqual(
        firstRound.map((s) => s.value.n),
        [1, 2, 3],
      );
      clock.advance(1000);
      const retried = await seen('partial', (l) => l.length === 5);
      assert.deepEqual(
        retried.map((s) => s.value.n),
        [1, 2, 3, 2, 3],
        'the retry starts at the failed record',
      );
      const dead = await events.waitForList('dead', (l) => l.some((e) => e.Status === 'Succeeded'));
      const record = dead.find((e) => e.Status === 'Succeeded')?.Response as Record<
        string,
        unknown
      >;
      const context = record['requestContext'] as Record<string, unknown>;
      assert.equal(context['condition'], 'RetryAttemptsExhausted');
      const info = record[kind === 'nats' ? 'NATSBatchInfo' : 'RedisBatchInfo'] as Record<
        string,
        unknown
      >;
      assert.equal(info['batchSize'], 2);
      assert.equal(info['stream'], stream.name);
      // The stream goes on after the records given up.
      await stream.append('a', { tag: 'later', n: 4 });
      await seen('later', (l) => l.length === 1);
      await remove(uuid);
    });
  });
}
