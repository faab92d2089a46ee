/** GetFunctionConfiguration: `GET /2015-03-31/functions/{F}/configuration`. */
import { param, queryValue, type Handler } from '../api-types.js';
import { toFunctionConfiguration } from '../function-wire.js';

export const getFunctionConfiguration: Handler = async (ctx, req) => {
  const { record, version, ref } = await ctx.functions.get(
    param(req, 'FunctionName'),
    queryValue(req, 'Qualifier'),
  );
  return {
    status: 200,
    json: toFunctionConfiguration(ctx.scope, record, version, {
      view: 'detail',
      qualifier: ref.qualifier,
      runtimeVersionArn: ctx.runtimeVersionArn,
    }),
  };
};
