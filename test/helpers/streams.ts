/**
 * The machine's NATS JetStream (127.0.0.1:4222) and Redis (127.0.0.1:6379) for tests: a stream of
 * the test's own in each (deleted afterwards) and a way to append records. A test that needs them
 * fails when they are not there; it never skips.
 */
import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { Redis } from 'ioredis';

export interface TestStream {
  readonly kind: 'nats' | 'redis';
  readonly name: string;
  /** SelfManagedEventSource.Endpoints for a mapping of it. */
  readonly endpoints: Record<string, string[]>;
  /** Appends a record; `partition` is its subject (NATS: `<stream>.<partition>`) or `key` field. */
  append(partition: string, value: unknown, headers?: Record<string, string>): Promise<void>;
  remove(): Promise<void>;
}

export async function natsTestStream(): Promise<TestStream> {
  const name = `lamina_test_${randomBytes(4).toString('hex')}`;
  const nc: NatsConnection = await connect({ servers: '127.0.0.1:4222' });
  const jsm: JetStreamManager = await jetstreamManager(nc);
  await jsm.streams.add({ name, subjects: [`${name}.>`] });
  const js = jetstream(nc);
  return {
    kind: 'nats',
    name,
    endpoints: { NATS_SERVERS: ['127.0.0.1:4222'] },
    append: async (partition, value, headers = {}) => {
      const h = natsHeaders();
      for (const [k, v] of Object.entries(headers)) h.set(k, v);
      await js.publish(`${name}.${partition}`, JSON.stringify(value), { headers: h });
    },
    remove: async () => {
      await jsm.streams.delete(name).catch(() => undefined);
      await nc.close();
    },
  };
}

export async function redisTestStream(): Promise<TestStream> {
  const name = `lamina-test-${randomBytes(4).toString('hex')}`;
  const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
  await redis.connect();
  // The stream exists before the mapping reads it (an empty stream: add and trim one entry).
  await redis.xadd(name, '*', 'init', '1');
  await redis.xtrim(name, 'MAXLEN', 0);
  return {
    kind: 'redis',
    name,
    endpoints: { REDIS_URLS: ['redis://127.0.0.1:6379'] },
    append: async (partition, value, headers = {}) => {
      const fields = ['key', partition, 'value', JSON.stringify(value)];
      for (const [k, v] of Object.entries(headers)) fields.push(k, v);
      await redis.xadd(name, '*', ...fields);
    },
    remove: async () => {
      await redis.del(name);
      redis.disconnect();
    },
  };
}
