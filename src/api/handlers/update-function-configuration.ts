/** UpdateFunctionConfiguration: `PUT /2015-03-31/functions/{F}/configuration`. */
import { param, type Handler } from '../api-types.js';
import { toFunctionConfiguration } from '../function-wire.js';
import { readSettings } from '../settings-wire.js';
import { parseJsonObject } from '../wire-reader.js';

export const updateFunctionConfiguration: Handler = async (ctx, req) => {
  const body = parseJsonObject(req.body);
  const record = await ctx.functions.updateConfiguration(
    param(req, 'FunctionName'),
    readSettings(body),
    body.string('RevisionId'),
  );
  return {
    status: 200,
    json: toFunctionConfiguration(ctx.scope, record, record.latest, {
      view: 'detail',
      qualifier: undefined,
      runtimeVersionArn: ctx.runtimeVersionArn,
    }),
  };
};
