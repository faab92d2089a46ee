/**
 * Lamina's events API (`/lamina/2026-11-01/…`, SigV4 like every route): one event by request id,
 * a function's events newest first (`Status`, `Marker`, `MaxItems`), and replay.
 */
import { param, queryValue, type Handler } from '../api-types.js';
import { toAsyncEventView } from '../async-event-wire.js';
import { maxItemsOf } from '../max-items.js';

export const getAsyncEvent: Handler = async (ctx, req) => {
  const event = await ctx.asyncEvents.get(param(req, 'RequestId'));
  return { status: 200, json: toAsyncEventView(ctx.scope, event) };
};

export const listAsyncEvents: Handler = async (ctx, req) => {
  const maxItems = maxItemsOf(req);
  const page = await ctx.asyncEvents.list(
    param(req, 'FunctionName'),
    queryValue(req, 'Status'),
    queryValue(req, 'Marker'),
    maxItems,
  );
  const json: Record<string, unknown> = {
    AsyncEvents: page.events.map((event) => toAsyncEventView(ctx.scope, event)),
  };
  if (page.nextMarker !== undefined) json['NextMarker'] = page.nextMarker;
  return { status: 200, json };
};

export const replayAsyncEvent: Handler = async (ctx, req) => {
  const event = await ctx.asyncEvents.replay(param(req, 'RequestId'));
  return { status: 202, json: { RequestId: event.requestId } };
};
