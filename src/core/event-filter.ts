/**
 * Lambda event filtering: the `FilterCriteria` of an event source mapping, written in the
 * EventBridge event-pattern language, compiled once and then run against each record. This is
 * the public entry; the language lives in the `event-filter-*.ts` modules beside it.
 *
 * A pattern is a JSON object whose leaves are arrays of alternatives: exact values (string,
 * number, boolean, null) and operator objects (`prefix`, `suffix`, `equals-ignore-case`,
 * `wildcard`, `anything-but`, `numeric`, `exists`, `cidr`). Keys are ANDed, leaf alternatives
 * ORed, `$or` ORs whole sub-patterns. What AWS recorded decides every doubtful point (see
 * `test/unit/fixtures/event-filter-cases.json`):
 * - Keys are dot-joined paths on both sides: `{"a.b": …}` and `{"a": {"b": …}}` are the same
 *   pattern, and they match the record `{"a.b": 1}` as well as `{"a": {"b": 1}}`.
 * - Arrays in the record match if any element does, and two fields of one pattern object must
 *   come from the same element of a record array ("array consistency").
 * - Operators test leaves only: an object where the pattern expects a value counts as absent, so
 *   `exists: true` fails on it and `exists: false` holds.
 * - `exists: false` means no leaf anywhere in the record at that path.
 * - Numbers compare as numbers (`300` matches `300.0`, recorded), never as strings; `numeric`
 *   ignores strings (a DynamoDB `{"N": "42"}` does not match, recorded).
 * - `anything-but` needs a leaf to be present; `null` and values of another type are "anything
 *   but" a string, so they match.
 * Error messages are EventBridge's reasons (`InvalidEventPatternException`), so a caller can
 * answer Lambda's `Invalid filter pattern definition.` and log the reason.
 *
 * Limits, because patterns and records are hostile:
 * - a pattern is at most 4096 characters (Lambda's own limit), nests at most 32 brackets, names
 *   paths of at most 32 segments, and holds at most 1024 leaf values; at most 5 patterns OR;
 * - wildcards are rejected as too complex when a worst-case value would keep more than 10
 *   pattern positions after a `*` alive at once (fits AWS's recorded accept/reject cases), or
 *   when that analysis would need more than 20 000 steps;
 * - a record is read at most 64 levels deep (deeper parts count as absent) and at most 5 million
 *   nodes wide (more means no match; a JSON payload within Lambda's 6 MB cannot get there).
 * Matching never throws and costs O(record nodes × pattern size): wildcards run a linear-time
 * matcher (not `policy-pattern.ts`, whose `?` is a wildcard and which backtracks to O(n·m)), and
 * no regular expression is built from input.
 *
 * The modules, each of which owns the limits it enforces:
 * - `event-filter-error.ts`: FilterPatternError, the one error compiling raises;
 * - `event-filter-compiler.ts`: pattern text to a validated tree (`event-filter-tree.ts`),
 *   with the operators in `event-filter-values.ts` (exact, prefix, suffix, equals-ignore-case),
 *   `-numeric.ts`, `-cidr.ts`, `-wildcard.ts` and `-wildcard-complexity.ts`;
 * - `event-filter-record.ts` reads a record into the shape `event-filter-match.ts` walks.
 */
import { compilePattern } from './event-filter-compiler.js';
import { rejectPattern } from './event-filter-error.js';
import { matchesRecord } from './event-filter-match.js';
import { readRecord } from './event-filter-record.js';
import { isArray } from './event-filter-values.js';

export { FilterPatternError } from './event-filter-error.js';

/** A compiled pattern (or several ORed): answers whether a parsed JSON record passes. */
export interface CompiledFilter {
  /** True when the record passes; never throws, whatever `record` is. */
  matches(record: unknown): boolean;
}

/** Most patterns one filter ORs (Lambda's limit on `FilterCriteria.Filters`). */
const MAX_FILTERS = 5;

/** Compiles one `FilterCriteria.Filters[].Pattern` string; throws FilterPatternError. */
export function compileFilter(pattern: string): CompiledFilter {
  return compileFilters([pattern]);
}

/** Compiles up to 5 patterns into one filter that passes a record any of them matches; no patterns pass everything. */
export function compileFilters(patterns: readonly string[]): CompiledFilter {
  if (!isArray(patterns)) rejectPattern('Filters must be a list of patterns');
  if (patterns.length > MAX_FILTERS) rejectPattern(`At most ${MAX_FILTERS} filters are allowed`);
  const compiled = patterns.map(compilePattern);
  if (compiled.length === 0) return { matches: () => true };
  const depth = Math.max(...compiled.map((c) => c.depth));
  return {
    matches(record: unknown): boolean {
      try {
        const root = readRecord(record, depth);
        return compiled.some((c) => matchesRecord(c.root, root));
      } catch {
        return false; // a record we cannot read (throwing getter, too many nodes) does not pass
      }
    },
  };
}
