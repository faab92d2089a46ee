/**
 * The refusal of a CloudWatch Logs filter pattern that does not parse. Its message is what the
 * Logs API answers in an `InvalidParameterException` (AWS's own words where they are known:
 * `Invalid filter pattern`, `Invalid character(s) in term '…'`, `If a filter pattern starts
 * with '{' it must end with '}'`).
 */

/** AWS's message for a pattern it cannot read. */
export const INVALID_FILTER_PATTERN = 'Invalid filter pattern';

export class FilterPatternError extends Error {
  constructor(message: string = INVALID_FILTER_PATTERN) {
    super(message);
    this.name = 'FilterPatternError';
  }
}

/** Throws the generic refusal (or `message`). */
export function rejectFilterPattern(message: string = INVALID_FILTER_PATTERN): never {
  throw new FilterPatternError(message);
}
