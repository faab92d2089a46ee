/** UntagResource: `DELETE /2017-03-31/tags/{ARN}?tagKeys=…` → 204; unknown keys are ignored. */
import { lambdaErrors } from '../../core/errors.js';
import { constraint, validationMessage } from '../../core/validation-message.js';
import { parseTagResource } from '../../functions/tag-target.js';
import { param, queryValues, type Handler } from '../api-types.js';

export const untagResource: Handler = async (ctx, req) => {
  const ref = parseTagResource(param(req, 'ARN'), ctx.scope);
  const keys = queryValues(req, 'tagKeys');
  if (keys.length === 0) {
    throw lambdaErrors.validation(
      validationMessage([{ field: 'tagKeys', value: null, constraint: constraint.notNull() }]),
    );
  }
  await ctx.functions.setTags(ref, (current) =>
    Object.fromEntries(Object.entries(current).filter(([key]) => !keys.includes(key))),
  );
  return { status: 204 };
};
