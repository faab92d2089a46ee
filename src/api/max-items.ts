/** The `MaxItems` query parameter of the list operations, checked as AWS checks it. */
import { lambdaErrors } from '../core/errors.js';
import { constraint, validationMessage } from '../core/validation-message.js';
import { queryValue, type ApiRequest } from './api-types.js';

/** The page size asked for; undefined when absent; ValidationException when not an integer. */
export function maxItemsOf(req: ApiRequest): number | undefined {
  const text = queryValue(req, 'MaxItems');
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) {
    throw lambdaErrors.validation(
      validationMessage([{ field: 'maxItems', value: text, constraint: constraint.min(1) }]),
    );
  }
  return value;
}
