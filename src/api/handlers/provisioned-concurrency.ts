/**
 * Put/Get/Delete/ListProvisionedConcurrencyConfig(s) on
 * `/2019-09-30/functions/{F}/provisioned-concurrency` (`?List=ALL` lists).
 */
import { functionArn } from '../../core/arn.js';
import type { ProvisionedConcurrencyView } from '../../functions/provisioned-concurrency-service.js';
import { param, queryValue, type ApiContext, type Handler } from '../api-types.js';
import { formatLastModified } from '../function-wire.js';
import { parseJsonObject } from '../wire-reader.js';

const PAGE_LIMIT = 50;

export const putProvisionedConcurrencyConfig: Handler = async (ctx, req) => {
  const requested = parseJsonObject(req.body).integer('ProvisionedConcurrentExecutions');
  const view = await ctx.provisioned.put(
    param(req, 'FunctionName'),
    queryValue(req, 'Qualifier'),
    requested,
  );
  return { status: 202, json: configJson(view) };
};

export const getProvisionedConcurrencyConfig: Handler = async (ctx, req) => {
  if (queryValue(req, 'List') !== undefined) return list(ctx, req.params, req.query);
  const view = await ctx.provisioned.get(param(req, 'FunctionName'), queryValue(req, 'Qualifier'));
  return { status: 200, json: configJson(view) };
};

export const deleteProvisionedConcurrencyConfig: Handler = async (ctx, req) => {
  await ctx.provisioned.delete(param(req, 'FunctionName'), queryValue(req, 'Qualifier'));
  return { status: 204 };
};

async function list(
  ctx: ApiContext,
  params: Readonly<Record<string, string>>,
  query: Readonly<Record<string, string | string[] | undefined>>,
) {
  const first = (name: string) => {
    const value = query[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const max = Number(first('MaxItems') ?? PAGE_LIMIT);
  const page = await ctx.provisioned.list(
    params['FunctionName'] ?? '',
    first('Marker'),
    Number.isInteger(max) ? Math.min(Math.max(max, 1), PAGE_LIMIT) : PAGE_LIMIT,
  );
  const json: Record<string, unknown> = {
    ProvisionedConcurrencyConfigs: page.items.map((view) => ({
      FunctionArn: functionArn(ctx.scope, view.config.functionName, view.config.qualifier),
      ...configJson(view),
    })),
  };
  if (page.nextMarker !== undefined) json['NextMarker'] = page.nextMarker;
  return { status: 200, json };
}

function configJson(view: ProvisionedConcurrencyView): Record<string, unknown> {
  const json: Record<string, unknown> = {
    RequestedProvisionedConcurrentExecutions: view.config.requested,
    AvailableProvisionedConcurrentExecutions: view.available,
    AllocatedProvisionedConcurrentExecutions: view.allocated,
    Status: view.status,
    LastModified: formatLastModified(view.config.lastModifiedMs),
  };
  if (view.reason !== undefined) json['StatusReason'] = view.reason;
  return json;
}
