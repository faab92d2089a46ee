/**
 * CloudWatch Logs filter patterns (FilterLogEvents' `filterPattern`, `aws logs tail
 * --filter-pattern`), compiled once per request into a matcher of event messages. The three
 * forms AWS documents are told apart by their first character: `{ … }` a JSON pattern
 * (log-filter-pattern-json), `[ … ]` a space-delimited one (log-filter-pattern-fields), anything
 * else terms (log-filter-pattern-terms). An empty pattern, or one of spaces only, matches every
 * event. Compiling is linear in the pattern (at most MAX_FILTER_PATTERN_LENGTH characters) and
 * matching never backtracks, so hostile patterns and events cost bounded time.
 */
import { FilterPatternError, rejectFilterPattern } from './log-filter-pattern-error.js';
import { compileFields } from './log-filter-pattern-fields.js';
import { compileJson } from './log-filter-pattern-json.js';
import { compileTerms } from './log-filter-pattern-terms.js';

export { FilterPatternError } from './log-filter-pattern-error.js';

/** Whether an event's message matches a pattern. */
export type LogEventMatcher = (message: string) => boolean;

/** The longest pattern the Logs API takes (its model's `FilterPattern` length), in characters. */
export const MAX_FILTER_PATTERN_LENGTH = 1024;

/** Matches everything (no pattern, or an empty one). */
export const MATCH_ALL: LogEventMatcher = () => true;

/** Compiles `pattern`; throws FilterPatternError (with AWS's message) when it does not parse. */
export function compileFilterPattern(pattern: string): LogEventMatcher {
  if (pattern.length > MAX_FILTER_PATTERN_LENGTH) rejectFilterPattern();
  const text = pattern.trim();
  if (text === '') return MATCH_ALL;
  try {
    if (text.startsWith('{')) {
      if (!text.endsWith('}'))
        rejectFilterPattern("If a filter pattern starts with '{' it must end with '}'");
      return compileJson(text.slice(1, -1));
    }
    if (text.startsWith('[')) {
      if (!text.endsWith(']'))
        rejectFilterPattern("If a filter pattern starts with '[' it must end with ']'");
      return compileFields(text.slice(1, -1));
    }
    return compileTerms(text);
  } catch (error) {
    // Anything else thrown while reading a hostile pattern is still just a bad pattern.
    if (error instanceof FilterPatternError) throw error;
    return rejectFilterPattern();
  }
}
