/**
 * Put (PUT), Update (POST), Get, Delete and List (`…/event-invoke-config/list`) of
 * FunctionEventInvokeConfig, under the 2019-09-25 dated paths.
 */
import { param, queryValue, type Handler } from '../api-types.js';
import {
  readEventInvokeConfigInput,
  toFunctionEventInvokeConfig,
} from '../event-invoke-config-wire.js';
import { maxItemsOf } from '../max-items.js';

export const putFunctionEventInvokeConfig: Handler = async (ctx, req) => {
  const config = await ctx.eventInvokeConfigs.put(
    param(req, 'FunctionName'),
    queryValue(req, 'Qualifier'),
    readEventInvokeConfigInput(req.body),
  );
  return { status: 200, json: toFunctionEventInvokeConfig(ctx.scope, config) };
};

export const updateFunctionEventInvokeConfig: Handler = async (ctx, req) => {
  const config = await ctx.eventInvokeConfigs.update(
    param(req, 'FunctionName'),
    queryValue(req, 'Qualifier'),
    readEventInvokeConfigInput(req.body),
  );
  return { status: 200, json: toFunctionEventInvokeConfig(ctx.scope, config) };
};

export const getFunctionEventInvokeConfig: Handler = async (ctx, req) => {
  const config = await ctx.eventInvokeConfigs.get(
    param(req, 'FunctionName'),
    queryValue(req, 'Qualifier'),
  );
  return { status: 200, json: toFunctionEventInvokeConfig(ctx.scope, config) };
};

export const deleteFunctionEventInvokeConfig: Handler = async (ctx, req) => {
  await ctx.eventInvokeConfigs.delete(param(req, 'FunctionName'), queryValue(req, 'Qualifier'));
  return { status: 204 };
};

export const listFunctionEventInvokeConfigs: Handler = async (ctx, req) => {
  const maxItems = maxItemsOf(req);
  const page = await ctx.eventInvokeConfigs.list(
    param(req, 'FunctionName'),
    queryValue(req, 'Marker'),
    maxItems,
  );
  const json: Record<string, unknown> = {
    FunctionEventInvokeConfigs: page.configs.map((c) => toFunctionEventInvokeConfig(ctx.scope, c)),
  };
  if (page.nextMarker !== undefined) json['NextMarker'] = page.nextMarker;
  return { status: 200, json };
};
