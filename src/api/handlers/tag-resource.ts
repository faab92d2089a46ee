/** TagResource: `POST /2017-03-31/tags/{ARN}` → 204; merges tags. */
import { lambdaErrors } from '../../core/errors.js';
import { parseTagResource } from '../../functions/tag-target.js';
import { param, type Handler } from '../api-types.js';
import { parseJsonObject } from '../wire-reader.js';

export const tagResource: Handler = async (ctx, req) => {
  const ref = parseTagResource(param(req, 'ARN'), ctx.scope);
  const tags = parseJsonObject(req.body).stringMap('Tags');
  if (tags === undefined || Object.keys(tags).length === 0) {
    throw lambdaErrors.invalidParameter('An error occurred and the request cannot be processed.');
  }
  await ctx.functions.setTags(ref, (current) => ({ ...current, ...tags }));
  return { status: 204 };
};
