/** ListVersionsByFunction: `GET /2015-03-31/functions/{F}/versions`, `$LATEST` first. */
import { param, queryValue, type Handler } from '../api-types.js';
import { toFunctionConfiguration } from '../function-wire.js';
import { maxItemsOf } from '../max-items.js';

export const listVersionsByFunction: Handler = async (ctx, req) => {
  const maxItems = maxItemsOf(req);
  const page = await ctx.versions.list(
    param(req, 'FunctionName'),
    queryValue(req, 'Marker'),
    maxItems,
  );
  const { record } = await ctx.functions.get(page.name, undefined);
  const json: Record<string, unknown> = {
    Versions: page.versions.map((version) =>
      toFunctionConfiguration(ctx.scope, record, version, {
        view: 'list',
        qualifier: version.version,
        runtimeVersionArn: ctx.runtimeVersionArn,
      }),
    ),
  };
  if (page.nextMarker !== undefined) json['NextMarker'] = page.nextMarker;
  return { status: 200, json };
};
