/**
 * Create (POST), Get, Update (PUT), Delete of `/2021-10-31/functions/{F}/url` and
 * ListFunctionUrlConfigs (`…/urls`).
 */
import { param, queryValue, type Handler } from '../api-types.js';
import { readFunctionUrlInput, toFunctionUrlConfig } from '../function-url-wire.js';
import { maxItemsOf } from '../max-items.js';

export const createFunctionUrlConfig: Handler = async (ctx, req) => {
  const config = await ctx.functionUrls.create(
    param(req, 'FunctionName'),
    queryValue(req, 'Qualifier'),
    readFunctionUrlInput(req.body),
  );
  return { status: 201, json: toFunctionUrlConfig(ctx.scope, ctx.urlBase(), config, 'create') };
};

export const getFunctionUrlConfig: Handler = async (ctx, req) => {
  const config = await ctx.functionUrls.get(
    param(req, 'FunctionName'),
    queryValue(req, 'Qualifier'),
  );
  return { status: 200, json: toFunctionUrlConfig(ctx.scope, ctx.urlBase(), config, 'get') };
};

export const updateFunctionUrlConfig: Handler = async (ctx, req) => {
  const config = await ctx.functionUrls.update(
    param(req, 'FunctionName'),
    queryValue(req, 'Qualifier'),
    readFunctionUrlInput(req.body),
  );
  return { status: 200, json: toFunctionUrlConfig(ctx.scope, ctx.urlBase(), config, 'update') };
};

export const deleteFunctionUrlConfig: Handler = async (ctx, req) => {
  await ctx.functionUrls.delete(param(req, 'FunctionName'), queryValue(req, 'Qualifier'));
  return { status: 204 };
};

export const listFunctionUrlConfigs: Handler = async (ctx, req) => {
  const maxItems = maxItemsOf(req);
  const page = await ctx.functionUrls.list(
    param(req, 'FunctionName'),
    queryValue(req, 'Marker'),
    maxItems,
  );
  const base = ctx.urlBase();
  const json: Record<string, unknown> = {
    FunctionUrlConfigs: page.configs.map((c) => toFunctionUrlConfig(ctx.scope, base, c, 'get')),
  };
  if (page.nextMarker !== undefined) json['NextMarker'] = page.nextMarker;
  return { status: 200, json };
};
