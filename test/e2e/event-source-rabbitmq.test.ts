/**
 * RabbitMQ queues as event sources, end to end: the machine's RabbitMQ (a virtual host of the
 * test's own), the real server in this process on a controllable clock (retry pauses pass by
 * moving it), real sandboxes, the AWS CLI and SDK. A `relay` function passes every batch it gets
 * to `sink` as an asynchronous event (whose answer, the batch, the events API shows) and fails as
 * its messages ask; `dead` receives what could not be processed.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  DeleteEventSourceMappingCommand,
  GetEventSourceMappingCommand,
  ListEventSourceMappingsCommand,
  UpdateEventSourceMappingCommand,
  CreateEventSourceMappingCommand,
  type EventSourceMappingConfiguration,
} from '@aws-sdk/client-lambda';
import { awsLambda } from '../helpers/aws-cli.js';
import { EventsApi, type EventView } from '../helpers/async-events.js';
import { deploy } from '../helpers/functions.js';
import { useInProcessServer } from '../helpers/in-process-server.js';
import { failureOf } from '../helpers/lambda-client.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { poll } from '../helpers/poll.js';
import { testVhost, type TestVhost } from '../helpers/rabbitmq.js';
import { REPO_ROOT, TEST_CREDENTIALS, tempDir } from '../helpers/server-process.js';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function';

/** Passes the batch on to `sink`; fails when a message says so (`fail`), or reports items (`failItem`). */
const RELAY = `
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
const lambda = new LambdaClient({ maxAttempts: 1 });
export const handler = async (event) => {
  await lambda.send(new InvokeCommand({ FunctionName: 'sink', InvocationType: 'Event', Payload: JSON.stringify(event) }));
  const messages = Object.values(event.rmqMessagesByQueue).flat();
  const bodies = messages.map((m) => JSON.parse(Buffer.from(m.data, 'base64').toString()));
  if (bodies.some((b) => b.fail === true)) throw new Error('asked to fail');
  const failed = messages.filter((m, i) => bodies[i].failItem === true);
  return { batchItemFailures: failed.map((m) => ({ itemIdentifier: m.basicProperties.messageId })) };
};
`;
const ECHO = 'export const handler = async (event) => event;\n';

type RmqEvent = {
  eventSource: string;
  eventSourceArn: string;
  rmqMessagesByQueue: Record<
    string,
    Array<{ data: string; basicProperties: Record<string, unknown>; redelivered: boolean }>
  >;
};

const bodiesOf = (event: RmqEvent) =>
  Object.values(event.rmqMessagesByQueue)
    .flat()
    .map((m) => JSON.parse(Buffer.from(m.data, 'base64').toString()) as Record<string, unknown>);

describe('RabbitMQ event source mappings', () => {
  const clock = new ManualClock();
  const suite = useInProcessServer({ logLevel: 'warn' }, clock);
  const home = tempDir('lamina-cli-home-');
  let vhost: TestVhost;
  let brokerArn: string;
  let events: EventsApi;

  /** Batches of queue `q` `sink` received (oldest first), once `ready` holds for them. */
  const sinkBatches = async (
    q: string,
    ready: (batches: RmqEvent[]) => boolean,
  ): Promise<RmqEvent[]> => {
    const toBatches = (list: EventView[]) =>
      list
        .filter((e) => e.Status === 'Succeeded')
        .reverse()
        .map((e) => e.Response as RmqEvent)
        .filter((b) => Object.keys(b.rmqMessagesByQueue).some((k) => k.startsWith(`${q}::`)));
    const list = await events.waitForList('sink', (l) => ready(toBatches(l)));
    return toBatches(list);
  };
  const mapping = (uuid: string) =>
    suite.client.send(new GetEventSourceMappingCommand({ UUID: uuid }));
  const untilState = (uuid: string, state: string) =>
    poll(
      () => mapping(uuid),
      (m) => m.State === state,
      30_000,
      `mapping ${uuid} ${state}`,
    );
  const untilGone = (uuid: string) =>
    poll(
      () => failureOf(mapping(uuid)).catch(() => undefined),
      (f) => f?.name === 'ResourceNotFoundException',
      30_000,
      'deleted',
    );
  const queue = async (name: string, args: Record<string, unknown> = {}) => {
    await vhost.channel.assertQueue(name, { durable: false, arguments: args });
    return name;
  };
  const create = async (
    queueName: string,
    extra: Record<string, unknown> = {},
  ): Promise<EventSourceMappingConfiguration> => {
    const created = await suite.client.send(
      new CreateEventSourceMappingCommand({
        FunctionName: 'relay',
        EventSourceArn: brokerArn,
        Queues: [queueName],
        SourceAccessConfigurations: [{ Type: 'VIRTUAL_HOST', URI: vhost.name }],
        MaximumBatchingWindowInSeconds: 0,
        ...extra,
      }),
    );
    await untilState(created.UUID ?? '', extra['Enabled'] === false ? 'Disabled' : 'Enabled');
    return created;
  };

  /** Registers a broker with Lamina's CLI; answers its ARN. */
  const addBroker = (name: string, url: string) =>
    new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [
          join(REPO_ROOT, 'bin/lamina.js'),
          'brokers',
          'add',
          name,
          url,
          '--endpoint',
          suite.server.endpoint,
        ],
        {
          env: {
            PATH: process.env['PATH'],
            LAMINA_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
            LAMINA_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
          },
        },
        (error, stdout, stderr) =>
          error === null
            ? resolve(/(arn:aws:mq:\S+)/.exec(stdout)?.[1] ?? '')
            : reject(new Error(stderr)),
      ),
    );

  before(async () => {
    vhost = await testVhost();
    const store = suite.server.parts.asyncStore;
    events = new EventsApi(suite.server.endpoint, TEST_CREDENTIALS, (listener) =>
      store.onChange(listener),
    );
    await deploy(suite.client, 'relay', { 'index.mjs': RELAY });
    await deploy(suite.client, 'sink', { 'index.mjs': ECHO });
    await deploy(suite.client, 'dead', { 'index.mjs': ECHO });
    // The broker is registered with Lamina's CLI, as a user would; its own vhost is "/":
    // mappings choose theirs with VIRTUAL_HOST.
    brokerArn = await addBroker('local', 'amqp://guest:guest@127.0.0.1:5672/');
    assert.match(brokerArn, /^arn:aws:mq:us-east-1:000000000000:broker:local:b-[0-9a-f-]{36}$/);
  });

  after(async () => {
    await vhost?.remove();
    home.remove();
  });

  test('the AWS CLI maps a queue to a function: aws:rmq events, batches, acknowledged', async () => {
    const q = await queue('orders');
    const cli = await awsLambda(suite.server.endpoint, home.path, [
      'create-event-source-mapping',
      '--function-name',
      'relay',
      '--event-source-arn',
      brokerArn,
      '--queues',
      q,
      '--source-access-configurations',
      `Type=VIRTUAL_HOST,URI=${vhost.name}`,
      '--batch-size',
      '5',
      '--no-enabled',
    ]);
    assert.equal(cli.code, 0, cli.stderr);
    const created = JSON.parse(cli.stdout) as EventSourceMappingConfiguration;
    assert.equal(created.State, 'Creating');
    assert.equal(created.EventSourceArn, brokerArn);
    assert.deepEqual(created.Queues, [q]);
    assert.equal(created.BatchSize, 5);
    assert.equal(created.FunctionArn, `${ARN}:relay`);
    const uuid = created.UUID ?? '';
    await untilState(uuid, 'Disabled');
    for (let i = 1; i <= 12; i += 1)
      vhost.publish(
        q,
        { n: i },
        { messageId: `m${i}`, headers: { origin: 'test', n: i }, timestamp: 2021 },
      );
    assert.equal(
      await poll(
        () => vhost.ready(q),
        (n) => n === 12,
        10_000,
        'published',
      ),
      12,
    );
    await suite.client.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: true }));
    const batches = await sinkBatches(q, (b) => b.flatMap(bodiesOf).length >= 12);
    assert.deepEqual(
      batches
        .flatMap(bodiesOf)
        .map((b) => b['n'])
        .sort((a, b) => Number(a) - Number(b)),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
    );
    assert.ok(
      batches.every((b) => bodiesOf(b).length <= 5),
      'no batch is over BatchSize',
    );
    const first = batches[0];
    assert.ok(first !== undefined);
    assert.equal(first.eventSource, 'aws:rmq');
    assert.equal(first.eventSourceArn, brokerArn);
    assert.deepEqual(Object.keys(first.rmqMessagesByQueue), [`${q}::${vhost.name}`]);
    const message = Object.values(first.rmqMessagesByQueue)[0]?.[0];
    assert.equal(message?.redelivered, false);
    assert.deepEqual(message?.basicProperties['headers'], {
      origin: { bytes: [...Buffer.from('test')] },
      n: (JSON.parse(Buffer.from(message?.data ?? '', 'base64').toString()) as { n: number }).n,
    });
    assert.equal(message?.basicProperties['timestamp'], 'Jan 1, 1970, 12:33:41 AM');
    assert.equal(
      message?.basicProperties['bodySize'],
      Buffer.from(message?.data ?? '', 'base64').length,
    );
    const done = await poll(
      () => mapping(uuid),
      (m) => m.LastProcessingResult === 'OK',
      10_000,
      'OK',
    );
    assert.equal(done.State, 'Enabled');
    assert.equal(await vhost.ready(q), 0);
    await suite.client.send(new DeleteEventSourceMappingCommand({ UUID: uuid }));
  });

  test('filter criteria: only matching messages reach the function; the others are acknowledged', async () => {
    const q = await queue('filtered');
    const { UUID } = await create(q, {
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ data: { kind: ['keep'] } }) }] },
    });
    vhost.publish(q, { kind: 'drop', n: 1 });
    vhost.publish(q, { kind: 'keep', n: 2 });
    vhost.publish(q, 'not json');
    vhost.publish(q, { kind: 'keep', n: 3 });
    const batches = await sinkBatches(
      q,
      (b) => b.flatMap(bodiesOf).filter((x) => x['kind'] === 'keep' && x['n'] === 3).length === 1,
    );
    const seen = batches
      .flatMap(bodiesOf)
      .filter((x) => x['n'] === 1 || x['n'] === 2 || x['n'] === 3);
    assert.deepEqual(
      seen.map((x) => x['n']),
      [2, 3],
    );
    await poll(
      () => vhost.ready(q),
      (n) => n === 0,
      10_000,
      'all settled',
    );
    await suite.client.send(new DeleteEventSourceMappingCommand({ UUID }));
  });

  test('a failing batch is retried after a pause, then sent to the OnFailure function', async () => {
    const q = await queue('failing');
    const { UUID } = await create(q, {
      MaximumRetryAttempts: 1,
      DestinationConfig: { OnFailure: { Destination: `${ARN}:dead` } },
    });
    vhost.publish(q, { fail: true, id: 'poison' }, { messageId: 'poison' });
    const isPoison = (b: RmqEvent) => bodiesOf(b).some((x) => x['id'] === 'poison');
    await sinkBatches(q, (b) => b.filter(isPoison).length === 1);
    clock.advance(1000);
    await sinkBatches(q, (b) => b.filter(isPoison).length === 2);
    const dead = await events.waitForList('dead', (l) => l.some((e) => e.Status === 'Succeeded'));
    const record = dead.find((e) => e.Status === 'Succeeded')?.Response as Record<string, unknown>;
    const context = record['requestContext'] as Record<string, unknown>;
    assert.equal(context['condition'], 'RetryAttemptsExhausted');
    assert.equal(context['approximateInvokeCount'], 2);
    assert.equal(context['functionArn'], `${ARN}:relay`);
    assert.equal((record['responseContext'] as Record<string, unknown>)['functionError'], 'Error');
    assert.deepEqual(bodiesOf(record['payload'] as RmqEvent), [{ fail: true, id: 'poison' }]);
    await poll(
      () => vhost.ready(q),
      (n) => n === 0,
      10_000,
      'settled',
    );
    const failed = await mapping(UUID ?? '');
    assert.equal(failed.LastProcessingResult, 'PROBLEM: Function call failed');
    await suite.client.send(new DeleteEventSourceMappingCommand({ UUID }));
  });

  test("without a destination, a message that keeps failing goes to the queue's dead-letter exchange", async () => {
    const dlq = await queue('rejected-dlq');
    const q = await queue('rejecting', {
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': dlq,
    });
    const { UUID } = await create(q, { MaximumRetryAttempts: 0 });
    vhost.publish(q, { fail: true, id: 'to-dlq' });
    const rejected = await vhost.take(dlq);
    assert.deepEqual(JSON.parse(rejected.content.toString()), { fail: true, id: 'to-dlq' });
    await suite.client.send(new DeleteEventSourceMappingCommand({ UUID }));
  });

  test('ReportBatchItemFailures retries only the messages the function names', async () => {
    const q = await queue('partial');
    const { UUID } = await create(q, {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 1,
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 1,
    });
    vhost.publish(q, { id: 'ok-1' }, { messageId: 'ok-1' });
    vhost.publish(q, { id: 'bad', failItem: true }, { messageId: 'bad' });
    vhost.publish(q, { id: 'ok-2' }, { messageId: 'ok-2' });
    const ids = (b: RmqEvent) => bodiesOf(b).map((x) => x['id']);
    const first = await sinkBatches(q, (b) => b.some((x) => ids(x).includes('ok-2')));
    assert.ok(first.some((b) => ids(b).includes('bad')));
    clock.advance(1000);
    const all = await sinkBatches(q, (b) => b.filter((x) => ids(x).includes('bad')).length === 2);
    const retry = all.filter((x) => ids(x).includes('bad')).at(-1);
    assert.deepEqual(retry === undefined ? [] : ids(retry), ['bad']);
    await suite.client.send(new DeleteEventSourceMappingCommand({ UUID }));
  });

  test('disabled, a mapping reads nothing; enabled, it resumes; deleted, it is gone', async () => {
    const q = await queue('paused');
    const { UUID } = await create(q);
    const uuid = UUID ?? '';
    const disabling = await suite.client.send(
      new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: false }),
    );
    assert.equal(disabling.State, 'Disabling');
    await untilState(uuid, 'Disabled');
    vhost.publish(q, { id: 'waits' });
    assert.equal(
      await poll(
        () => vhost.ready(q),
        (n) => n === 1,
        10_000,
        'queued',
      ),
      1,
    );
    const enabling = await suite.client.send(
      new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: true }),
    );
    assert.equal(enabling.State, 'Enabling');
    await sinkBatches(q, (b) => b.some((x) => bodiesOf(x).some((y) => y['id'] === 'waits')));
    const listed = await suite.client.send(
      new ListEventSourceMappingsCommand({ FunctionName: 'relay', EventSourceArn: brokerArn }),
    );
    assert.ok(listed.EventSourceMappings?.some((m) => m.UUID === uuid));
    const deleting = await suite.client.send(new DeleteEventSourceMappingCommand({ UUID: uuid }));
    assert.equal(deleting.State, 'Deleting');
    const gone = await poll(
      () => failureOf(mapping(uuid)).catch(() => undefined),
      (f) => f?.name === 'ResourceNotFoundException',
      30_000,
      'deleted',
    );
    assert.equal(gone?.message, 'The resource you requested does not exist.');
  });

  test("bad requests get Lambda's errors and nothing is made", async () => {
    const q = await queue('errors');
    const send = (input: Record<string, unknown>) =>
      failureOf(
        suite.client.send(new CreateEventSourceMappingCommand({ FunctionName: 'relay', ...input })),
      );
    assert.deepEqual(await send({}), {
      name: 'InvalidParameterValueException',
      message: 'Unrecognized event source.',
      status: 400,
    });
    assert.equal(
      (await send({ EventSourceArn: brokerArn, Queues: [q], FunctionName: 'nope' })).message,
      'Function does not exist',
    );
    assert.equal(
      (await send({ EventSourceArn: brokerArn.replace(':local:', ':other:'), Queues: [q] })).name,
      'InvalidParameterValueException',
    );
    assert.equal(
      (await send({ EventSourceArn: brokerArn, Queues: [q, 'second'] })).name,
      'InvalidParameterValueException',
    );
    assert.equal(
      (
        await send({
          EventSourceArn: brokerArn,
          Queues: [q],
          FilterCriteria: { Filters: [{ Pattern: '{"data": "not a list"}' }] },
        })
      ).message,
      'Invalid filter pattern definition.',
    );
    assert.equal(
      (
        await send({
          EventSourceArn: brokerArn,
          Queues: [q],
          DestinationConfig: { OnSuccess: { Destination: `${ARN}:dead` } },
        })
      ).message,
      'Unsupported DestinationConfig parameter for given event source mapping type.',
    );
    assert.equal(
      (await send({ EventSourceArn: brokerArn, Queues: [q], BatchSize: 10_001 })).name,
      'ValidationException',
    );
    const kafka = await send({
      SelfManagedEventSource: { Endpoints: { KAFKA_BOOTSTRAP_SERVERS: ['k:9092'] } },
      Topics: ['t'],
      StartingPosition: 'LATEST',
    });
    assert.equal(kafka.name, 'InvalidParameterValueException');
    assert.match(kafka.message, /Kafka is not supported/);
    const first = await create(q);
    const duplicate = await send({
      EventSourceArn: brokerArn,
      Queues: [q],
      SourceAccessConfigurations: [{ Type: 'VIRTUAL_HOST', URI: vhost.name }],
    });
    assert.equal(duplicate.name, 'ResourceConflictException');
    assert.match(duplicate.message, new RegExp(`existing mapping with UUID ${first.UUID ?? ''}$`));
    const unknown = await failureOf(mapping('00000000-0000-0000-0000-000000000000'));
    assert.equal(unknown.status, 404);
    const listed = await suite.client.send(
      new ListEventSourceMappingsCommand({ FunctionName: 'relay' }),
    );
    assert.equal(listed.EventSourceMappings?.filter((m) => m.Queues?.[0] === q).length, 1);
    await suite.client.send(new DeleteEventSourceMappingCommand({ UUID: first.UUID }));
  });

  test('a broker that goes away shows as a problem; the mapping recovers by itself when it is back', async () => {
    // A TCP relay in front of RabbitMQ stands for the broker's host: closing it cuts the broker off.
    const sockets = new Set<Socket>();
    const relay = (port = 0) =>
      new Promise<Server>((resolve) => {
        const server = createServer((client) => {
          const upstream = tcpConnect(5672, '127.0.0.1');
          for (const socket of [client, upstream]) {
            sockets.add(socket);
            socket.on('close', () => sockets.delete(socket));
            socket.on('error', () => socket.destroy());
          }
          client.pipe(upstream).pipe(client);
        });
        server.listen(port, '127.0.0.1', () => resolve(server));
      });
    // close() waits for open connections: they are cut first.
    const cutOff = (server: Server) => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      return closed;
    };
    let server = await relay();
    const port = (server.address() as { port: number }).port;
    const arn = await addBroker('flaky', `amqp://guest:guest@127.0.0.1:${port}/`);
    const q = await queue('flaky-queue');
    const created = await suite.client.send(
      new CreateEventSourceMappingCommand({
        FunctionName: 'relay',
        EventSourceArn: arn,
        Queues: [q],
        SourceAccessConfigurations: [{ Type: 'VIRTUAL_HOST', URI: vhost.name }],
        MaximumBatchingWindowInSeconds: 0,
      }),
    );
    const uuid = created.UUID ?? '';
    await untilState(uuid, 'Enabled');
    vhost.publish(q, { id: 'before' });
    await sinkBatches(q, (b) => b.some((x) => bodiesOf(x).some((y) => y['id'] === 'before')));

    await cutOff(server);
    const down = await poll(
      () => mapping(uuid),
      (m) => (m.StateTransitionReason ?? '').startsWith('PROBLEM: Connection error.'),
      30_000,
      'the problem shown',
    );
    assert.match(down.LastProcessingResult ?? '', /^PROBLEM: Connection error\./);
    assert.equal(down.State, 'Enabled');
    vhost.publish(q, { id: 'while-down' });

    server = await relay(port);
    // Reconnection pauses run on the server's clock: move it until the mapping is back.
    const back = await poll(
      async () => {
        clock.advance(30_000);
        return mapping(uuid);
      },
      (m) => m.StateTransitionReason === 'USER_INITIATED',
      30_000,
      'recovered',
    );
    assert.equal(back.State, 'Enabled');
    await sinkBatches(q, (b) => b.some((x) => bodiesOf(x).some((y) => y['id'] === 'while-down')));
    await suite.client.send(new DeleteEventSourceMappingCommand({ UUID: uuid }));
    await untilGone(uuid);
    await cutOff(server);
  });
});
