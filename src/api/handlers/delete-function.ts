/** DeleteFunction: `DELETE /2015-03-31/functions/{F}` → 204, as AWS answers. */
import { param, queryValue, type Handler } from '../api-types.js';

export const deleteFunction: Handler = async (ctx, req) => {
  await ctx.functions.delete(param(req, 'FunctionName'), queryValue(req, 'Qualifier'));
  return { status: 204 };
};
