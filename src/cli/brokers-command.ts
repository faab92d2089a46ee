/**
 * `lamina brokers add NAME URL | list | get NAME | remove NAME`: the RabbitMQ brokers a server's
 * event source mappings may read from, through its broker API. `add` prints the broker's ARN,
 * which `aws lambda create-event-source-mapping --event-source-arn` takes.
 */
import type { EventsClientOptions } from './events-command.js';
import { LaminaApiClient } from './lamina-api-client.js';

const API = '/lamina/2026-11-01/brokers';

interface BrokerView {
  readonly BrokerName: string;
  readonly BrokerArn: string;
  readonly EngineType: string;
  readonly Url: string;
  readonly Created: string;
}

export async function addBroker(
  options: EventsClientOptions,
  name: string,
  url: string,
): Promise<void> {
  const { json } = await new LaminaApiClient(options).request(
    'POST',
    API,
    {},
    {
      BrokerName: name,
      Url: url,
    },
  );
  if (options.output === 'json') return options.write(`${JSON.stringify(json, null, 2)}\n`);
  const broker = json as BrokerView;
  options.write(`Registered ${broker.BrokerName}: ${broker.BrokerArn}\n`);
}

export async function listBrokers(options: EventsClientOptions): Promise<void> {
  const { json } = await new LaminaApiClient(options).request('GET', API);
  if (options.output === 'json') return options.write(`${JSON.stringify(json, null, 2)}\n`);
  const { Brokers } = json as { Brokers: BrokerView[] };
  if (Brokers.length === 0) return options.write('No brokers.\n');
  for (const broker of Brokers)
    options.write(`${broker.BrokerName}  ${broker.BrokerArn}  ${broker.Url}\n`);
}

export async function getBroker(options: EventsClientOptions, name: string): Promise<void> {
  const { json } = await new LaminaApiClient(options).request(
    'GET',
    `${API}/${encodeURIComponent(name)}`,
  );
  if (options.output === 'json') return options.write(`${JSON.stringify(json, null, 2)}\n`);
  const broker = json as BrokerView;
  options.write(
    `Name     ${broker.BrokerName}\nArn      ${broker.BrokerArn}\nEngine   ${broker.EngineType}\n` +
      `Url      ${broker.Url}\nCreated  ${broker.Created}\n`,
  );
}

export async function removeBroker(options: EventsClientOptions, name: string): Promise<void> {
  await new LaminaApiClient(options).request('DELETE', `${API}/${encodeURIComponent(name)}`);
  if (options.output === 'json') return options.write('{}\n');
  options.write(`Removed ${name}.\n`);
}
