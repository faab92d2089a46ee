/**
 * The boolean expressions of JSON and space-delimited filter patterns: conditions joined by `&&`
 * (binding tighter) and `||`, grouped with parentheses, as AWS documents them. The caller reads
 * the conditions themselves (a JSON selector or a field name, an operator, a value). Nesting is
 * bounded, so a pattern of a thousand parentheses is refused instead of recursing a thousand deep.
 */
import { rejectFilterPattern } from './log-filter-pattern-error.js';
import { readComparison, readQuoted, type Comparison } from './log-filter-pattern-values.js';

/** Deepest nesting of parentheses accepted. */
export const MAX_PATTERN_NESTING = 32;

/** A position in the text of a pattern, moved forward as it is read. */
export class PatternCursor {
  readonly text: string;
  pos: number;

  constructor(text: string, pos = 0) {
    this.text = text;
    this.pos = pos;
  }

  /** Moves past spaces. */
  skipSpaces(): void {
    while (this.pos < this.text.length && /\s/.test(this.text.charAt(this.pos))) this.pos += 1;
  }

  /** Whether the text at the cursor (after spaces) starts with `token`; consumes it if so. */
  take(token: string): boolean {
    this.skipSpaces();
    if (!this.text.startsWith(token, this.pos)) return false;
    this.pos += token.length;
    return true;
  }

  /** The character at the cursor after spaces ('' at the end). */
  peek(): string {
    this.skipSpaces();
    return this.text.charAt(this.pos);
  }

  get atEnd(): boolean {
    this.skipSpaces();
    return this.pos >= this.text.length;
  }

  /** Reads a comparison operator, or refuses the pattern. */
  comparison(): Comparison {
    this.skipSpaces();
    const read = readComparison(this.text, this.pos);
    if (read === undefined) return rejectFilterPattern();
    this.pos = read.end;
    return read.op;
  }

  /**
   * Reads a value: a quoted string, or bare text up to a space, a parenthesis, a comma, `&&` or
   * `||`.
   */
  value(): { readonly text: string; readonly quoted: boolean } {
    this.skipSpaces();
    if (this.text.charAt(this.pos) === '"') {
      const { value, end } = readQuoted(this.text, this.pos);
      this.pos = end;
      return { text: value, quoted: true };
    }
    const start = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text.charAt(this.pos);
      if (/\s/.test(c) || c === '(' || c === ')' || c === ',' || c === '"') break;
      if (this.text.startsWith('&&', this.pos) || this.text.startsWith('||', this.pos)) break;
      this.pos += 1;
    }
    if (this.pos === start) rejectFilterPattern();
    return { text: this.text.slice(start, this.pos), quoted: false };
  }
}

/** A compiled condition or expression over a context (a parsed event, the fields of one). */
export type Test<C> = (context: C) => boolean;

/**
 * Reads `a && b || (c …)` from the cursor until its end, a `,` or an unmatched `)` (left unread),
 * with `readCondition` reading each condition.
 */
export function parseExpression<C>(
  cursor: PatternCursor,
  readCondition: (cursor: PatternCursor) => Test<C>,
  depth = 0,
): Test<C> {
  if (depth > MAX_PATTERN_NESTING) rejectFilterPattern();
  const alternatives: Array<Test<C>> = [parseConjunction(cursor, readCondition, depth)];
  while (cursor.take('||')) alternatives.push(parseConjunction(cursor, readCondition, depth));
  if (alternatives.length === 1) return alternatives[0] as Test<C>;
  return (context) => alternatives.some((test) => test(context));
}

function parseConjunction<C>(
  cursor: PatternCursor,
  readCondition: (cursor: PatternCursor) => Test<C>,
  depth: number,
): Test<C> {
  const all: Array<Test<C>> = [parseOperand(cursor, readCondition, depth)];
  while (cursor.take('&&')) all.push(parseOperand(cursor, readCondition, depth));
  if (all.length === 1) return all[0] as Test<C>;
  return (context) => all.every((test) => test(context));
}

function parseOperand<C>(
  cursor: PatternCursor,
  readCondition: (cursor: PatternCursor) => Test<C>,
  depth: number,
): Test<C> {
  if (cursor.take('(')) {
    const inner = parseExpression(cursor, readCondition, depth + 1);
    if (!cursor.take(')')) rejectFilterPattern();
    return inner;
  }
  if (cursor.atEnd) rejectFilterPattern();
  return readCondition(cursor);
}
