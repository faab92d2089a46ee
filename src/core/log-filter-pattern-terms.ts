/**
 * Term patterns of CloudWatch Logs (for unstructured events): `ERROR` (the message contains it),
 * `ERROR Exception` (all of them), `"INTERNAL SERVER ERROR"` (an exact phrase), `ERROR -Exiting`
 * (without), `?ERROR ?WARN` (any of them). Matching is case-sensitive and by substring. A `?`
 * opens an alternative: the terms after it, up to the next `?`, must all hold with it
 * (`?"ERROR" "MainThread" ?WARN` is "ERROR and MainThread, or WARN"), as the AWS CDK writes
 * groups of terms. Unquoted terms are letters, digits and `_`; anything else must be quoted.
 */
import { rejectFilterPattern } from './log-filter-pattern-error.js';
import { readQuoted } from './log-filter-pattern-values.js';

/** One alternative: every `include` is in the message and no `exclude` is. */
interface TermGroup {
  readonly include: string[];
  readonly exclude: string[];
}

const BARE_TERM = /^[A-Za-z0-9_]+$/;

/** Compiles a term pattern (already trimmed, not empty) into a matcher of messages. */
export function compileTerms(pattern: string): (message: string) => boolean {
  const groups: TermGroup[] = [{ include: [], exclude: [] }];
  let sawAlternative = false;
  let i = 0;
  while (i < pattern.length) {
    if (isSpace(pattern.charAt(i))) {
      i += 1;
      continue;
    }
    let alternative = false;
    let excluded = false;
    if (pattern.charAt(i) === '?') {
      alternative = true;
      i += 1;
    } else if (pattern.charAt(i) === '-') {
      excluded = true;
      i += 1;
      // AWS's own example writes the minus apart from its term: `"ERROR" - "Exiting"`.
      while (isSpace(pattern.charAt(i))) i += 1;
    }
    const { term, end } = readTerm(pattern, i);
    i = end;
    if (alternative) {
      // The first `?` takes over the group of the terms before it, if any, as its own.
      const current = groups[groups.length - 1] as TermGroup;
      const reuse = !sawAlternative && current.include.length === 0 && current.exclude.length === 0;
      if (!reuse) groups.push({ include: [], exclude: [] });
      sawAlternative = true;
    }
    const group = groups[groups.length - 1] as TermGroup;
    (excluded ? group.exclude : group.include).push(term);
  }
  return (message) =>
    groups.some(
      (group) =>
        group.include.every((term) => message.includes(term)) &&
        !group.exclude.some((term) => message.includes(term)),
    );
}

/** The term at `start` (quoted or bare) and the index after it. */
function readTerm(pattern: string, start: number): { term: string; end: number } {
  if (start >= pattern.length) return rejectFilterPattern();
  if (pattern.charAt(start) === '"') {
    const { value, end } = readQuoted(pattern, start);
    if (end < pattern.length && !isSpace(pattern.charAt(end))) rejectFilterPattern();
    return { term: value, end };
  }
  let end = start;
  while (end < pattern.length && !isSpace(pattern.charAt(end))) end += 1;
  const term = pattern.slice(start, end);
  if (!BARE_TERM.test(term)) rejectFilterPattern(`Invalid character(s) in term '${term}'`);
  return { term, end };
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}
