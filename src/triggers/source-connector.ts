/** Opens a mapping's source with the adapter of its kind. */
import type { Clock } from '../core/clock.js';
import type { EventSourceMapping, MappingSource } from '../core/event-source-mapping.js';
import type { RecordSource, SourceConnector } from '../event-sources/ports.js';
import { openNatsStreamSource } from './nats-stream-source.js';
import { openRabbitMqSource } from './rabbitmq-source.js';
import { openRedisStreamSource } from './redis-stream-source.js';

export class BrokerSourceConnector implements SourceConnector {
  readonly #brokerUrl: (brokerArn: string) => Promise<string | undefined>;
  readonly #clock: Clock;

  /** `brokerUrl`: the connection URL of a registered broker, by its ARN. */
  constructor(brokerUrl: (brokerArn: string) => Promise<string | undefined>, clock: Clock) {
    this.#brokerUrl = brokerUrl;
    this.#clock = clock;
  }

  async open(mapping: EventSourceMapping, source: MappingSource): Promise<RecordSource> {
    switch (source.kind) {
      case 'rabbitmq': {
        const url = await this.#brokerUrl(source.brokerArn);
        if (url === undefined)
          throw new Error(`The broker ${source.brokerArn} is no longer registered.`);
        return openRabbitMqSource(mapping, source, url, this.#clock);
      }
      case 'nats':
        return openNatsStreamSource(mapping, source);
      case 'redis':
        return openRedisStreamSource(mapping, source);
    }
  }
}
