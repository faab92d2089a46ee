/** ListTags: `GET /2017-03-31/tags/{ARN}` → {Tags}. */
import { parseTagResource } from '../../functions/tag-target.js';
import { param, type Handler } from '../api-types.js';

export const listTags: Handler = async (ctx, req) => {
  const record = await ctx.functions.require(parseTagResource(param(req, 'ARN'), ctx.scope));
  return { status: 200, json: { Tags: record.tags } };
};
