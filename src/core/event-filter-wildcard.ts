/**
 * The `wildcard` operator of event filtering: `*` is any run of characters (possibly empty),
 * `\*` a literal star and `\\` a backslash. A glob is parsed once into the literal pieces
 * between its stars and matched greedily with Knuth-Morris-Pratt searches, so matching is
 * linear in the value: records are hostile, and neither a backtracking matcher (as in
 * `policy-pattern.ts`, whose `?` is also a wildcard) nor a regular expression built from input
 * would be. How complex a set of globs is to accept is `event-filter-wildcard-complexity.ts`.
 */
import { rejectPattern } from './event-filter-error.js';
import type { ValueTest } from './event-filter-values.js';

/** A parsed wildcard pattern. */
export interface Glob {
  /** Literal text between stars: one piece when there is no star. */
  readonly pieces: readonly string[];
  /** Knuth-Morris-Pratt failure tables of the pieces between stars. */
  readonly tables: ReadonlyArray<Int32Array>;
  /** The pattern as tokens for the complexity analysis: a character, or null for `*`. */
  readonly tokens: ReadonlyArray<string | null>;
}

/** `text` as a Glob; throws FilterPatternError on `**` or a bad escape. */
export function parseGlob(text: string): Glob {
  const tokens: Array<string | null> = [];
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charAt(i);
    if (c === '*') {
      if (tokens.at(-1) === null) rejectPattern(`Consecutive wildcard characters at pos ${i}`);
      tokens.push(null);
    } else if (c === '\\') {
      const next = text.charAt(i + 1);
      if (next !== '*' && next !== '\\') rejectPattern(`Invalid escape character at pos ${i}`);
      tokens.push(next);
      i += 1;
    } else tokens.push(c);
  }
  const pieces: string[] = [''];
  for (const token of tokens)
    if (token === null) pieces.push('');
    else pieces[pieces.length - 1] += token;
  return { pieces, tables: pieces.map(failureTable), tokens };
}

/** Passes a string value the glob matches; any other value fails. */
export function globTest(glob: Glob): ValueTest {
  return (probe) => typeof probe.value === 'string' && globMatches(glob, probe.value);
}

/**
 * Greedy glob matching: the first piece is a prefix, the last a suffix, and each piece between
 * stars is found leftmost after the previous one, which is correct because a star absorbs
 * anything. With KMP each search scans forward only, so the whole match is linear.
 */
function globMatches(glob: Glob, value: string): boolean {
  const { pieces } = glob;
  const first = pieces[0] ?? '';
  if (pieces.length === 1) return value === first;
  const last = pieces[pieces.length - 1] ?? '';
  const end = value.length - last.length;
  if (end < first.length || !value.startsWith(first) || !value.endsWith(last)) return false;
  let cursor = first.length;
  for (let i = 1; i < pieces.length - 1; i += 1) {
    const found = indexOfWithin(
      value,
      pieces[i] ?? '',
      glob.tables[i] ?? new Int32Array(),
      cursor,
      end,
    );
    if (found < 0) return false;
    cursor = found + (pieces[i] ?? '').length;
  }
  return true;
}

function failureTable(piece: string): Int32Array {
  const table = new Int32Array(piece.length);
  let k = 0;
  for (let i = 1; i < piece.length; i += 1) {
    while (k > 0 && piece[i] !== piece[k]) k = table[k - 1] ?? 0;
    if (piece[i] === piece[k]) k += 1;
    table[i] = k;
  }
  return table;
}

/** Index of `piece` in `value[from, to)`, or -1; linear in the span scanned (KMP). */
function indexOfWithin(
  value: string,
  piece: string,
  table: Int32Array,
  from: number,
  to: number,
): number {
  if (piece.length === 0) return from;
  let k = 0;
  for (let i = from; i < to; i += 1) {
    while (k > 0 && value[i] !== piece[k]) k = table[k - 1] ?? 0;
    if (value[i] === piece[k]) k += 1;
    if (k === piece.length) return i - k + 1;
  }
  return -1;
}
