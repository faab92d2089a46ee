/**
 * Create (POST), Get, Update (PUT), Delete and List of event source mappings, under the
 * 2015-03-31 paths. Changes answer 202 with the mapping in its transitional state, as Lambda does.
 */
import { lambdaErrors } from '../../core/errors.js';
import { constraint, validationMessage } from '../../core/validation-message.js';
import { param, queryValue, type Handler } from '../api-types.js';
import {
  readCreateMapping,
  readUpdateMapping,
  toMappingConfiguration,
} from '../event-source-mapping-wire.js';
import { maxItemsOf } from '../max-items.js';

const MAX_ITEMS = 10_000;
const DEFAULT_ITEMS = 100;

export const createEventSourceMapping: Handler = async (ctx, req) => {
  const mapping = await ctx.eventSourceMappings.create(readCreateMapping(req.body));
  return { status: 202, json: toMappingConfiguration(ctx.scope, mapping) };
};

export const getEventSourceMapping: Handler = async (ctx, req) => {
  const mapping = await ctx.eventSourceMappings.get(param(req, 'UUID'));
  return { status: 200, json: toMappingConfiguration(ctx.scope, mapping) };
};

export const updateEventSourceMapping: Handler = async (ctx, req) => {
  const mapping = await ctx.eventSourceMappings.update(
    param(req, 'UUID'),
    readUpdateMapping(req.body),
  );
  return { status: 202, json: toMappingConfiguration(ctx.scope, mapping) };
};

export const deleteEventSourceMapping: Handler = async (ctx, req) => {
  const mapping = await ctx.eventSourceMappings.delete(param(req, 'UUID'));
  return { status: 202, json: toMappingConfiguration(ctx.scope, mapping) };
};

export const listEventSourceMappings: Handler = async (ctx, req) => {
  const maxItems = maxItemsOf(req) ?? DEFAULT_ITEMS;
  if (maxItems < 1 || maxItems > MAX_ITEMS)
    throw lambdaErrors.validation(
      validationMessage([
        {
          field: 'maxItems',
          value: maxItems,
          constraint: maxItems < 1 ? constraint.min(1) : constraint.max(MAX_ITEMS),
        },
      ]),
    );
  const page = await ctx.eventSourceMappings.list({
    functionName: queryValue(req, 'FunctionName'),
    eventSourceArn: queryValue(req, 'EventSourceArn'),
    marker: queryValue(req, 'Marker'),
    maxItems,
  });
  const json: Record<string, unknown> = {
    EventSourceMappings: page.mappings.map((m) => toMappingConfiguration(ctx.scope, m)),
  };
  if (page.nextMarker !== undefined) json['NextMarker'] = page.nextMarker;
  return { status: 200, json };
};
