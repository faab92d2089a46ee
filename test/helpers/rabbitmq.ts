/**
 * The machine's RabbitMQ (127.0.0.1:5672, guest/guest) for tests: a virtual host of the test's own
 * (made with rabbitmqctl, deleted afterwards), queues in it, and a publishing channel. A test that
 * needs RabbitMQ fails when it is not there; it never skips.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';

const run = promisify(execFile);

export interface TestVhost {
  readonly name: string;
  /** `amqp://guest:guest@127.0.0.1:5672/<vhost>`. */
  readonly url: string;
  readonly channel: Channel;
  /** Publishes a JSON (or text) message to a queue, with optional AMQP properties. */
  publish(queue: string, body: unknown, properties?: Record<string, unknown>): void;
  /** Ready (not delivered) messages in a queue. */
  ready(queue: string): Promise<number>;
  /** The next message on `queue` (consumed and acknowledged), waiting until one arrives. */
  take(queue: string): Promise<ConsumeMessage>;
  remove(): Promise<void>;
}

export async function testVhost(): Promise<TestVhost> {
  const name = `lamina-test-${randomBytes(4).toString('hex')}`;
  await run('rabbitmqctl', ['add_vhost', name]);
  await run('rabbitmqctl', ['set_permissions', '-p', name, 'guest', '.*', '.*', '.*']);
  const url = `amqp://guest:guest@127.0.0.1:5672/${encodeURIComponent(name)}`;
  let model: ChannelModel;
  try {
    model = await connect(url);
  } catch (error) {
    await run('rabbitmqctl', ['delete_vhost', name]).catch(() => undefined);
    throw error;
  }
  const channel = await model.createChannel();
  return {
    name,
    url,
    channel,
    publish: (queue, body, properties = {}) => {
      const bytes = Buffer.isBuffer(body)
        ? body
        : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      channel.sendToQueue(queue, bytes, properties);
    },
    ready: async (queue) => (await channel.checkQueue(queue)).messageCount,
    take: (queue) =>
      new Promise((resolve, reject) => {
        let tag: string | undefined;
        channel
          .consume(queue, (message) => {
            if (message === null) return;
            channel.ack(message);
            if (tag !== undefined) void channel.cancel(tag);
            resolve(message);
          })
          .then((reply) => {
            tag = reply.consumerTag;
          }, reject);
      }),
    remove: async () => {
      await model.close().catch(() => undefined);
      await run('rabbitmqctl', ['delete_vhost', name]);
    },
  };
}
