/**
 * The pieces the three forms of CloudWatch Logs filter pattern share: quoted strings (`"…"`, with
 * `\"` and `\\` escapes), numbers (signed, decimal, scientific), comparison operators, and the
 * `*` wildcard of string values. A wildcard value is matched greedily piece by piece, which is
 * correct for a star that absorbs anything and never backtracks, so a hostile value costs time
 * linear in its length for each piece.
 */
import { rejectFilterPattern } from './log-filter-pattern-error.js';

/** A comparison of a JSON selector or a space-delimited field with a value. */
export type Comparison = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** What a condition compares with: a number (numeric comparison) or a string with wildcards. */
export type PatternValue =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'string'; readonly matches: (text: string) => boolean };

/** Signed integers and decimals, optionally in scientific notation (`10e-3`, `+1000`, `55.5`). */
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** `text` as a number when all of it is one, else undefined. */
export function numberOf(text: string): number | undefined {
  if (!NUMBER.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * Reads the quoted string starting at `start` (a `"`): its content with `\"` and `\\` unescaped
 * (any other backslash stays as it is), and the index after the closing quote.
 */
export function readQuoted(
  text: string,
  start: number,
): { readonly value: string; readonly end: number } {
  let value = '';
  for (let i = start + 1; i < text.length; i += 1) {
    const c = text.charAt(i);
    if (c === '"') return { value, end: i + 1 };
    if (c === '\\' && (text.charAt(i + 1) === '"' || text.charAt(i + 1) === '\\')) {
      value += text.charAt(i + 1);
      i += 1;
    } else value += c;
  }
  return rejectFilterPattern();
}

/** Reads a comparison operator at `i`, or undefined when there is none. */
export function readComparison(
  text: string,
  i: number,
): { readonly op: Comparison; readonly end: number } | undefined {
  const two = text.slice(i, i + 2);
  if (two === '!=' || two === '<=' || two === '>=') return { op: two, end: i + 2 };
  const one = text.charAt(i);
  if (one === '=' || one === '<' || one === '>') return { op: one, end: i + 1 };
  return undefined;
}

/**
 * A condition's value: quoted text is always a string (its `*` are wildcards, as in
 * `= "*"`); bare text is a number when all of it is one, else a string.
 */
export function patternValue(text: string, quoted: boolean): PatternValue {
  const value = quoted ? undefined : numberOf(text);
  if (value !== undefined) return { kind: 'number', value };
  return { kind: 'string', matches: wildcardMatcher(text) };
}

/** Whether an operator may compare strings (only equality and inequality may). */
export function checkOperator(op: Comparison, value: PatternValue): void {
  if (value.kind === 'string' && op !== '=' && op !== '!=') rejectFilterPattern();
}

/** Compares numbers with an operator. */
export function compareNumbers(left: number, op: Comparison, right: number): boolean {
  switch (op) {
    case '=':
      return left === right;
    case '!=':
      return left !== right;
    case '<':
      return left < right;
    case '<=':
      return left <= right;
    case '>':
      return left > right;
    case '>=':
      return left >= right;
  }
}

/**
 * A matcher of whole strings against `pattern`, where `*` stands for any run of characters: the
 * first piece is a prefix, the last a suffix, and each piece between stars is found leftmost after
 * the previous one.
 */
export function wildcardMatcher(pattern: string): (text: string) => boolean {
  if (!pattern.includes('*')) return (text) => text === pattern;
  const pieces = pattern.split('*');
  const first = pieces[0] ?? '';
  const last = pieces[pieces.length - 1] ?? '';
  const middle = pieces.slice(1, -1).filter((piece) => piece !== '');
  return (text) => {
    const end = text.length - last.length;
    if (end < first.length || !text.startsWith(first) || !text.endsWith(last)) return false;
    let at = first.length;
    for (const piece of middle) {
      const found = text.indexOf(piece, at);
      if (found < 0 || found + piece.length > end) return false;
      at = found + piece.length;
    }
    return true;
  };
}
