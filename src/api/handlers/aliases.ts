/** The alias operations under `/2015-03-31/functions/{F}/aliases`. */
import { param, queryValue, type Handler } from '../api-types.js';
import { readAliasInput, toAliasConfiguration } from '../alias-wire.js';
import { parseJsonObject } from '../wire-reader.js';
import { maxItemsOf } from '../max-items.js';

export const createAlias: Handler = async (ctx, req) => {
  const { name, alias } = await ctx.aliases.create(
    param(req, 'FunctionName'),
    readAliasInput(parseJsonObject(req.body)),
  );
  return { status: 201, json: toAliasConfiguration(ctx.scope, name, alias) };
};

export const getAlias: Handler = async (ctx, req) => {
  const { name, alias } = await ctx.aliases.get(param(req, 'FunctionName'), param(req, 'Name'));
  return { status: 200, json: toAliasConfiguration(ctx.scope, name, alias) };
};

export const updateAlias: Handler = async (ctx, req) => {
  const input = readAliasInput(parseJsonObject(req.body));
  const { name, alias } = await ctx.aliases.update(
    param(req, 'FunctionName'),
    param(req, 'Name'),
    input,
  );
  // Provisioned concurrency on the alias follows it to its new version.
  ctx.provisioned.refresh(name);
  return { status: 200, json: toAliasConfiguration(ctx.scope, name, alias) };
};

export const deleteAlias: Handler = async (ctx, req) => {
  const name = await ctx.aliases.delete(param(req, 'FunctionName'), param(req, 'Name'));
  await ctx.provisioned.forget(name, param(req, 'Name'));
  // The alias's function URL and resource policy go with it.
  await ctx.functionUrls.forget(name, param(req, 'Name'));
  await ctx.permissions.forget(name, param(req, 'Name'));
  return { status: 204 };
};

export const listAliases: Handler = async (ctx, req) => {
  const maxItems = maxItemsOf(req);
  const page = await ctx.aliases.list(
    param(req, 'FunctionName'),
    queryValue(req, 'FunctionVersion'),
    queryValue(req, 'Marker'),
    maxItems,
  );
  const json: Record<string, unknown> = {
    Aliases: page.aliases.map((alias) => toAliasConfiguration(ctx.scope, page.name, alias)),
  };
  if (page.nextMarker !== undefined) json['NextMarker'] = page.nextMarker;
  return { status: 200, json };
};
