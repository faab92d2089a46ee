/**
 * Brokers registered with Lamina (RabbitMQ, by an `amqp://` or `amqps://` URL), each presented as
 * an Amazon MQ broker with an ARN (`arn:aws:mq:REGION:ACCOUNT:broker:NAME:b-…`) that event source
 * mappings name as their EventSourceArn. The URL (it may hold a password) is stored sealed and
 * never answered back: answers show it with the password hidden.
 */
import type { Clock } from '../core/clock.js';
import { LambdaError, lambdaErrors } from '../core/errors.js';
import type { IdSource } from '../core/ids.js';
import type { Scope } from '../core/arn.js';
import type { Broker, BrokerRepository, MappingRepository } from './ports.js';

const NAME = /^[A-Za-z0-9_-]{1,50}$/;

export interface BrokerServiceDeps {
  readonly scope: Scope;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly brokers: BrokerRepository;
  readonly mappings: MappingRepository;
}

export class BrokerService {
  readonly #d: BrokerServiceDeps;

  constructor(deps: BrokerServiceDeps) {
    this.#d = deps;
  }

  async add(name: string | undefined, url: string | undefined): Promise<Broker> {
    if (name === undefined || !NAME.test(name))
      throw lambdaErrors.invalidParameter(
        'A broker name has 1 to 50 letters, digits, hyphens or underscores.',
      );
    const parsed = brokerUrl(url);
    const { region, accountId } = this.#d.scope;
    const brokerId = `b-${this.#d.ids.uuid()}`;
    const broker: Broker = {
      name,
      brokerId,
      arn: `arn:aws:mq:${region}:${accountId}:broker:${name}:${brokerId}`,
      engineType: 'RABBITMQ',
      displayUrl: hidePassword(parsed),
      createdMs: this.#d.clock.now(),
    };
    if (!(await this.#d.brokers.insert(broker, parsed.toString())))
      throw lambdaErrors.conflict(`A broker named ${name} is already registered.`);
    return broker;
  }

  async get(name: string): Promise<Broker> {
    const found = await this.#d.brokers.get(name);
    if (found === undefined) throw notFound(name);
    return found.broker;
  }

  list(): Promise<Broker[]> {
    return this.#d.brokers.list();
  }

  /** Refused while a mapping reads from the broker. */
  async remove(name: string): Promise<void> {
    const broker = await this.get(name);
    const [user] = await this.#d.mappings.list({ sourceArn: broker.arn, limit: 1 });
    if (user !== undefined)
      throw lambdaErrors.conflict(
        `The broker ${name} is used by event source mapping ${user.uuid}; delete the mapping first.`,
      );
    await this.#d.brokers.delete(name);
  }

  /** The connection URL of the broker with this ARN, for the source adapters. */
  async urlOf(brokerArn: string): Promise<string | undefined> {
    const name = /:broker:([^:]+):b-/.exec(brokerArn)?.[1];
    const found = name === undefined ? undefined : await this.#d.brokers.get(name);
    return found?.broker.arn === brokerArn ? found.url : undefined;
  }
}

/** Longest broker URL accepted (a URL is a host, a port, a user, a password and a vhost). */
const URL_MAX_CHARS = 2048;

function brokerUrl(url: string | undefined): URL {
  let parsed: URL | undefined;
  try {
    parsed = url === undefined || url.length > URL_MAX_CHARS ? undefined : new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:'))
    throw lambdaErrors.invalidParameter(
      'The broker URL must be amqp://USER:PASSWORD@HOST:PORT/VHOST (or amqps://).',
    );
  if (parsed.hostname === '') throw lambdaErrors.invalidParameter('The broker URL has no host.');
  return parsed;
}

function hidePassword(url: URL): string {
  const shown = new URL(url.toString());
  if (shown.password !== '') shown.password = '****';
  return shown.toString();
}

function notFound(name: string): LambdaError {
  return new LambdaError('ResourceNotFoundException', `Broker not found: ${name}`);
}
