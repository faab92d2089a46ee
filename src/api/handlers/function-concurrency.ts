/** Put/Get/DeleteFunctionConcurrency (note Get's different dated path). */
import { param, type Handler } from '../api-types.js';
import { parseJsonObject } from '../wire-reader.js';

export const putFunctionConcurrency: Handler = async (ctx, req) => {
  const value = parseJsonObject(req.body).integer('ReservedConcurrentExecutions');
  const reserved = await ctx.concurrency.put(param(req, 'FunctionName'), value);
  return { status: 200, json: { ReservedConcurrentExecutions: reserved } };
};

export const getFunctionConcurrency: Handler = async (ctx, req) => {
  const reserved = await ctx.concurrency.get(param(req, 'FunctionName'));
  return {
    status: 200,
    json: reserved === undefined ? {} : { ReservedConcurrentExecutions: reserved },
  };
};

export const deleteFunctionConcurrency: Handler = async (ctx, req) => {
  await ctx.concurrency.delete(param(req, 'FunctionName'));
  return { status: 204 };
};
