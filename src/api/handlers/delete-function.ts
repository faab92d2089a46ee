/** DeleteFunction: `DELETE /2015-03-31/functions/{F}` → 204, as AWS answers. */
import { parseFunctionName } from '../../core/function-name.js';
import { param, queryValue, type Handler } from '../api-types.js';

export const deleteFunction: Handler = async (ctx, req) => {
  const functionName = param(req, 'FunctionName');
  const qualifier = queryValue(req, 'Qualifier');
  await ctx.functions.delete(functionName, qualifier);
  // Provisioned concurrency goes with the version or function it was configured on.
  const ref = parseFunctionName(functionName, qualifier, ctx.scope);
  if (ref.qualifier === undefined) await ctx.provisioned.forgetFunction(ref.name);
  else {
    await ctx.provisioned.forget(ref.name, ref.qualifier);
    // A version's resource policy goes with it (the function's own go by cascade).
    await ctx.permissions.forget(ref.name, ref.qualifier);
  }
  return { status: 204 };
};
