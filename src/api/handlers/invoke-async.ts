/**
 * The legacy InvokeAsync: `POST /2014-11-13/functions/{F}/invoke-async/` queues the body as an
 * Event invoke (≤ 256 KB, JSON) and answers `202 {"Status":202}` once it is durably stored.
 */
import { param, type Handler } from '../api-types.js';
import { traceHeaderOf } from '../trace-header.js';
import { checkJson } from './invoke.js';

export const invokeAsync: Handler = async (ctx, req) => {
  checkJson(req.body);
  await ctx.asyncEvents.accept({
    requestId: req.requestId,
    functionName: param(req, 'FunctionName'),
    qualifier: undefined,
    payload: req.body,
    clientContext: undefined,
    traceHeader: traceHeaderOf(req.headers),
  });
  return { status: 202, json: { Status: 202 } };
};
