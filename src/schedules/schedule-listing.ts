/**
 * The pieces the listings and tagging share: opaque page tokens (the last key of a page, in
 * base64url JSON) and the bounds of schedule groups' tags.
 */
import { lambdaErrors } from '../core/errors.js';
import { SCHEDULER_LIMITS } from '../core/schedule.js';
import { constraint, type Violation } from '../core/validation-message.js';
import type { ScheduleKey } from './ports.js';

/** A page token naming the last key of the page it follows. */
export function encodeNextToken(key: ScheduleKey): string {
  return Buffer.from(JSON.stringify([key.groupName, key.name])).toString('base64url');
}

/** The key a NextToken names; ValidationException for a token Lamina did not make. */
export function decodeNextToken(token: string): ScheduleKey {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      typeof parsed[1] === 'string'
    )
      return { groupName: parsed[0], name: parsed[1] };
  } catch {
    // fall through
  }
  throw lambdaErrors.validation(`Invalid NextToken: ${token.slice(0, 100)}`);
}

/** Tag count and lengths (the service model's TagList, TagKey and TagValue). */
export function tagViolations(tags: Readonly<Record<string, string>>): Violation[] {
  const violations: Violation[] = [];
  const entries = Object.entries(tags);
  if (entries.length > SCHEDULER_LIMITS.tagsPerGroup)
    violations.push({
      field: 'tags',
      value: `${entries.length} tags`,
      constraint: `Member must have length less than or equal to ${SCHEDULER_LIMITS.tagsPerGroup}`,
    });
  for (const [key, value] of entries) {
    if (key.length < 1 || key.length > SCHEDULER_LIMITS.tagKeyMaxLength)
      violations.push({
        field: 'tags.member.key',
        value: key,
        constraint:
          key.length < 1
            ? constraint.minLength(1)
            : constraint.maxLength(SCHEDULER_LIMITS.tagKeyMaxLength),
      });
    if (value.length < 1 || value.length > SCHEDULER_LIMITS.tagValueMaxLength)
      violations.push({
        field: 'tags.member.value',
        value,
        constraint:
          value.length < 1
            ? constraint.minLength(1)
            : constraint.maxLength(SCHEDULER_LIMITS.tagValueMaxLength),
      });
  }
  return violations;
}
