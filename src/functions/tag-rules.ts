/** Rules for function tags: count, key and value lengths, and the reserved `aws:` prefix. */
import { lambdaErrors } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';
import { constraint, validationMessage } from '../core/validation-message.js';

/** Throws the AWS error for the first broken tag rule. */
export function checkTags(tags: Readonly<Record<string, string>>): void {
  const keys = Object.keys(tags);
  if (keys.length > LIMITS.tagsPerFunction) {
    throw lambdaErrors.invalidParameter('Number of tags exceeds resource tag limit.');
  }
  for (const key of keys) {
    if (key.length < 1 || key.length > LIMITS.tagKeyMaxLength) {
      throw lambdaErrors.validation(
        validationMessage([
          {
            field: 'tags',
            value: key,
            constraint: `Map keys must satisfy constraint: [${constraint.maxLength(LIMITS.tagKeyMaxLength)}, ${constraint.minLength(1)}]`,
          },
        ]),
      );
    }
    if (key.toLowerCase().startsWith('aws:')) {
      throw lambdaErrors.invalidParameter(`Tag keys starting with 'aws:' are reserved: ${key}`);
    }
    const value = tags[key] ?? '';
    if (value.length > LIMITS.tagValueMaxLength) {
      throw lambdaErrors.validation(
        validationMessage([
          {
            field: 'tags',
            value,
            constraint: `Map values must satisfy constraint: [${constraint.maxLength(LIMITS.tagValueMaxLength)}]`,
          },
        ]),
      );
    }
  }
}
