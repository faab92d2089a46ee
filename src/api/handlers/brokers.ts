/**
 * Lamina's broker registry (`/lamina/2026-11-01/brokers`): register a RabbitMQ broker by URL,
 * list, describe and remove. Answers never contain the broker's password.
 */
import type { Broker } from '../../event-sources/ports.js';
import { param, type Handler } from '../api-types.js';
import { parseJsonObject } from '../wire-reader.js';

function toBroker(broker: Broker): Record<string, unknown> {
  return {
    BrokerName: broker.name,
    BrokerId: broker.brokerId,
    BrokerArn: broker.arn,
    EngineType: broker.engineType,
    Url: broker.displayUrl,
    Created: new Date(broker.createdMs).toISOString(),
  };
}

export const createBroker: Handler = async (ctx, req) => {
  const wire = parseJsonObject(req.body);
  const broker = await ctx.brokers.add(wire.string('BrokerName'), wire.string('Url'));
  return { status: 201, json: toBroker(broker) };
};

export const getBroker: Handler = async (ctx, req) => {
  return { status: 200, json: toBroker(await ctx.brokers.get(param(req, 'BrokerName'))) };
};

export const listBrokers: Handler = async (ctx) => {
  return { status: 200, json: { Brokers: (await ctx.brokers.list()).map(toBroker) } };
};

export const deleteBroker: Handler = async (ctx, req) => {
  await ctx.brokers.remove(param(req, 'BrokerName'));
  return { status: 204 };
};
