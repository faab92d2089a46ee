/**
 * Event sources under hostile input: whoever can publish to a mapped queue or stream, or reach the
 * mapping and broker APIs, must not be able to stop the server or a mapping. Messages larger than
 * an invocation may carry, batches that together are, bodies that are not text, AMQP headers of
 * every type; filter patterns written to cost (deep nesting, wildcard bombs, oversized); broker
 * URLs that are not URLs; a "broker" that answers garbage. The server keeps answering, and the
 * mapping keeps delivering the messages that can be delivered.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  CreateEventSourceMappingCommand,
  DeleteEventSourceMappingCommand,
  GetAccountSettingsCommand,
  GetEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { LaminaApiClient } from '../../src/cli/lamina-api-client.js';
import { EventsApi, type EventView } from '../helpers/async-events.js';
import { deploy } from '../helpers/functions.js';
import { useInProcessServer } from '../helpers/in-process-server.js';
import { failureOf } from '../helpers/lambda-client.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { poll } from '../helpers/poll.js';
import { testVhost, type TestVhost } from '../helpers/rabbitmq.js';
import { TEST_CREDENTIALS } from '../helpers/server-process.js';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function';
const MB = 1024 * 1024;

/** Tells `sink` the size and first bytes of each message it got. */
const RELAY = `
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
const lambda = new LambdaClient({ maxAttempts: 1 });
export const handler = async (event) => {
  const messages = Object.values(event.rmqMessagesByQueue).flat();
  const seen = messages.map((m) => ({ bytes: m.basicProperties.bodySize, id: m.basicProperties.messageId, headers: m.basicProperties.headers }));
  await lambda.send(new InvokeCommand({ FunctionName: 'sink', InvocationType: 'Event', Payload: JSON.stringify({ seen }) }));
};
`;
const ECHO = 'export const handler = async (event) => event;\n';

describe('event sources under hostile input', () => {
  const clock = new ManualClock();
  const suite = useInProcessServer({ logLevel: 'warn' }, clock);
  let vhost: TestVhost;
  let brokerArn: string;
  let events: EventsApi;
  let api: LaminaApiClient;

  const seenIds = async (ready: (ids: string[]) => boolean): Promise<string[]> => {
    const ids = (list: EventView[]) =>
      list
        .filter((e) => e.Status === 'Succeeded')
        .flatMap((e) => (e.Response as { seen: Array<{ id: string }> }).seen.map((s) => s.id));
    return ids(await events.waitForList('sink', (list) => ready(ids(list))));
  };
  const createMapping = async (queue: string, extra: Record<string, unknown> = {}) => {
    const created = await suite.client.send(
      new CreateEventSourceMappingCommand({
        FunctionName: 'relay',
        EventSourceArn: brokerArn,
        Queues: [queue],
        SourceAccessConfigurations: [{ Type: 'VIRTUAL_HOST', URI: vhost.name }],
        ...extra,
      }),
    );
    return created.UUID ?? '';
  };
  const healthy = async () => {
    const settings = await suite.client.send(new GetAccountSettingsCommand({}));
    assert.ok(settings.AccountLimit !== undefined);
  };

  before(async () => {
    vhost = await testVhost();
    const store = suite.server.parts.asyncStore;
    events = new EventsApi(suite.server.endpoint, TEST_CREDENTIALS, (listener) =>
      store.onChange(listener),
    );
    api = new LaminaApiClient({
      endpoint: suite.server.endpoint,
      region: 'us-east-1',
      credentials: TEST_CREDENTIALS,
    });
    const { json } = await api.request(
      'POST',
      '/lamina/2026-11-01/brokers',
      {},
      { BrokerName: 'local', Url: 'amqp://guest:guest@127.0.0.1:5672/' },
    );
    brokerArn = (json as { BrokerArn: string }).BrokerArn;
    await deploy(suite.client, 'relay', { 'index.mjs': RELAY });
    await deploy(suite.client, 'sink', { 'index.mjs': ECHO });
    await deploy(suite.client, 'dead', { 'index.mjs': ECHO });
  });

  after(async () => {
    await vhost?.remove();
  });

  test('oversized messages and batches: split to fit, the one too large dead-lettered, the rest delivered', async () => {
    await vhost.channel.assertQueue('big-dlq', { durable: false });
    await vhost.channel.assertQueue('big', {
      durable: false,
      arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'big-dlq' },
    });
    const uuid = await createMapping('big', {
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 1,
      DestinationConfig: { OnFailure: { Destination: `${ARN}:dead` } },
    });
    await poll(
      () => suite.client.send(new GetEventSourceMappingCommand({ UUID: uuid })),
      (m) => m.State === 'Enabled',
      30_000,
      'enabled',
    );
    // Four 2 MB messages make a batch over 6 MB; one 7 MB message can never be sent.
    for (const id of ['b1', 'b2', 'b3', 'b4'])
      vhost.publish('big', Buffer.alloc(2 * MB, 97), { messageId: id });
    vhost.publish('big', Buffer.alloc(7 * MB, 98), { messageId: 'huge' });
    vhost.publish('big', Buffer.from([0xff, 0xfe, 0x00, 0xc3]), { messageId: 'binary' });
    const ids = await seenIds((list) =>
      ['b1', 'b2', 'b3', 'b4', 'binary'].every((id) => list.includes(id)),
    );
    assert.ok(!ids.includes('huge'));
    // Too large for an invocation, and for the OnFailure record to carry: it stays with the
    // broker, in the queue's dead-letter queue, rather than being lost.
    const rejected = await vhost.take('big-dlq');
    assert.equal(rejected.properties.messageId, 'huge');
    assert.equal(rejected.content.length, 7 * MB);
    await poll(
      () => vhost.ready('big'),
      (n) => n === 0,
      30_000,
      'all settled',
    );
    await healthy();
    await suite.client.send(new DeleteEventSourceMappingCommand({ UUID: uuid }));
  });

  test('AMQP headers of every type reach the function as data', async () => {
    await vhost.channel.assertQueue('headers', { durable: false });
    const uuid = await createMapping('headers', { MaximumBatchingWindowInSeconds: 0 });
    vhost.publish('headers', 'x', {
      messageId: 'typed',
      headers: {
        text: 'a'.repeat(10_000),
        number: 1.5,
        big: 2 ** 40,
        yes: true,
        none: null,
        list: [1, 'two', [3]],
        table: { nested: { deeper: { deepest: 'x' } } },
        when: new Date(0),
        bytes: Buffer.from([0, 1, 2]),
      },
      timestamp: 2 ** 40,
      priority: 9,
    });
    await seenIds((list) => list.includes('typed'));
    await healthy();
    await suite.client.send(new DeleteEventSourceMappingCommand({ UUID: uuid }));
  });

  test('hostile filter patterns are refused at once, as Lambda refuses them', async () => {
    await vhost.channel.assertQueue('filters', { durable: false });
    const refusal = (patterns: string[]) =>
      failureOf(
        suite.client.send(
          new CreateEventSourceMappingCommand({
            FunctionName: 'relay',
            EventSourceArn: brokerArn,
            Queues: ['filters'],
            FilterCriteria: { Filters: patterns.map((Pattern) => ({ Pattern })) },
          }),
        ),
      );
    const deep = `${'{"a":'.repeat(800)}["x"]${'}'.repeat(800)}`.slice(0, 4096);
    for (const pattern of [
      deep,
      '{"data":[{"wildcard":"*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"}]}',
      '{"data":[{"numeric":[">",1e400]}]}',
      '{"data":[{"numeric":[">",0,"<",1e400]}]}',
      '{"data":[{"anything-but":{"prefix":{"prefix":"x"}}}]}',
      '[',
      'null',
    ])
      assert.deepEqual(await refusal([pattern]), {
        name: 'InvalidParameterValueException',
        message: 'Invalid filter pattern definition.',
        status: 400,
      });
    assert.equal((await refusal([`{"data":["${'x'.repeat(4096)}"]}`])).name, 'ValidationException');
    assert.equal((await refusal(Array.from({ length: 6 }, () => '{"data":["x"]}'))).status, 400);
    await healthy();
  });

  test('broker registrations that are not broker URLs are refused; a broker that answers garbage is a problem, not a crash', async () => {
    for (const [name, url] of <Array<[string, string]>>[
      ['bad', 'http://127.0.0.1:5672/'],
      ['bad', 'amqp://'],
      ['bad', `amqp://${'h'.repeat(100_000)}/`],
      ['../etc', 'amqp://127.0.0.1/'],
      ['a'.repeat(51), 'amqp://127.0.0.1/'],
    ]) {
      const error = await api
        .request('POST', '/lamina/2026-11-01/brokers', {}, { BrokerName: name, Url: url })
        .then(
          () => undefined,
          (e: unknown) => e as { code: string },
        );
      assert.equal(error?.code, 'InvalidParameterValueException', `${name} ${url.slice(0, 40)}`);
    }
    // A TCP server that answers every connection with noise.
    const sockets = new Set<Socket>();
    const noise: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => socket.destroy());
      socket.end(Buffer.from('\u0001\u0002garbage\u0000\u00ff'.repeat(100)));
    });
    await new Promise<void>((resolve) => noise.listen(0, '127.0.0.1', () => resolve()));
    const port = (noise.address() as { port: number }).port;
    const { json } = await api.request(
      'POST',
      '/lamina/2026-11-01/brokers',
      {},
      { BrokerName: 'noise', Url: `amqp://guest:guest@127.0.0.1:${port}/` },
    );
    const created = await suite.client.send(
      new CreateEventSourceMappingCommand({
        FunctionName: 'relay',
        EventSourceArn: (json as { BrokerArn: string }).BrokerArn,
        Queues: ['anything'],
      }),
    );
    const shown = await poll(
      () => suite.client.send(new GetEventSourceMappingCommand({ UUID: created.UUID })),
      (m) => (m.LastProcessingResult ?? '').startsWith('PROBLEM: Connection error.'),
      30_000,
      'the problem shown',
    );
    assert.equal(shown.State, 'Enabled');
    clock.advance(60_000);
    await healthy();
    await suite.client.send(new DeleteEventSourceMappingCommand({ UUID: created.UUID }));
    const closed = new Promise<void>((resolve) => noise.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  });
});
