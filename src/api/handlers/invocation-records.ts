/**
 * Lamina's invocations API (`/lamina/2026-11-01/invocations`): the records of past invocations,
 * newest first, filtered by function, time range (of their start), outcome and trigger; and the
 * usage API (`/lamina/2026-11-01/usage`): requests, GB-seconds and their price per function
 * version and hour or day.
 */
import { lambdaErrors } from '../../core/errors.js';
import { queryValue, type Handler } from '../api-types.js';
import {
  markerParam,
  outcomeParam,
  pageSizeParam,
  timeParam,
  toInvocationView,
  toUsageView,
  triggerParam,
} from '../invocation-record-wire.js';

export const listInvocations: Handler = async (ctx, req) => {
  const page = await ctx.invocationHistory.list({
    functionName: queryValue(req, 'FunctionName'),
    requestId: queryValue(req, 'RequestId'),
    sinceMs: timeParam(req, 'Since'),
    untilMs: timeParam(req, 'Until'),
    outcome: outcomeParam(req),
    trigger: triggerParam(req),
    beforeSeq: markerParam(req),
    limit: pageSizeParam(req, 50, 1000),
  });
  const json: Record<string, unknown> = { Invocations: page.records.map(toInvocationView) };
  if (page.nextBeforeSeq !== undefined) json['NextMarker'] = String(page.nextBeforeSeq);
  return { status: 200, json };
};

export const getUsage: Handler = async (ctx, req) => {
  const by = queryValue(req, 'By') ?? 'hour';
  if (by !== 'hour' && by !== 'day') throw lambdaErrors.invalidParameter('By must be hour or day.');
  // Usage is kept per hour: a period counts from the start of the hour (or UTC day) `Since`
  // falls in, so usage since 10:40 includes the hour 10:00–11:00, as the records of 10:40 do.
  const period = by === 'day' ? 86_400_000 : 3_600_000;
  const since = timeParam(req, 'Since');
  const answer = await ctx.invocationHistory.usage({
    functionName: queryValue(req, 'FunctionName'),
    sinceMs: since === undefined ? undefined : since - (since % period),
    untilMs: timeParam(req, 'Until'),
    by,
  });
  return { status: 200, json: toUsageView(answer, by) };
};
