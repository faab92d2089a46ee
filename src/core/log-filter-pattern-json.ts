/**
 * JSON filter patterns (`{ $.level = "ERROR" && $.latency > 500 }`): they match only events whose
 * whole message is a JSON object. A selector (`$.a.b`, `$.list[0]`, `$.c[0][1]`; property names of
 * letters, digits, `-` and `_`) picks a value; it is compared with a string (`=`, `!=`, `*`
 * wildcards) or a number (`= != < <= > >=`, scientific notation allowed), or tested with `IS
 * NULL`, `NOT EXISTS`, `IS TRUE` and `IS FALSE`. A selector that finds an object or an array
 * matches no comparison, `=` or `!=`, as AWS documents. Each event's message is parsed once, and
 * only when nested within MAX_EVENT_NESTING.
 */
import { parseJsonWithin } from './json-depth.js';
import { rejectFilterPattern } from './log-filter-pattern-error.js';
import { parseExpression, PatternCursor, type Test } from './log-filter-pattern-expression.js';
import {
  checkOperator,
  compareNumbers,
  patternValue,
  type Comparison,
  type PatternValue,
} from './log-filter-pattern-values.js';

/** Deepest nesting of an event's JSON that is parsed; deeper events match no JSON pattern. */
export const MAX_EVENT_NESTING = 64;

/** One step of a selector: a property name or an array index. */
type Step = { readonly key: string } | { readonly index: number };

/** What a selector finds in an event. */
type Found = { readonly exists: false } | { readonly exists: true; readonly value: unknown };

const MISSING: Found = { exists: false };
const PROPERTY = /^[A-Za-z0-9_-]+/;

/** Compiles the inside of `{ … }` into a matcher of messages. */
export function compileJson(inner: string): (message: string) => boolean {
  const cursor = new PatternCursor(inner);
  const test = parseExpression<unknown>(cursor, readCondition);
  if (!cursor.atEnd) rejectFilterPattern();
  return (message) => {
    const start = message.search(/\S/);
    if (start < 0 || message.charAt(start) !== '{') return false;
    const parsed = parseJsonWithin(message, MAX_EVENT_NESTING);
    if (parsed === undefined || !isObject(parsed.value)) return false;
    return test(parsed.value);
  };
}

/** `$.selector` followed by a comparison or one of the IS / NOT EXISTS tests. */
function readCondition(cursor: PatternCursor): Test<unknown> {
  const steps = readSelector(cursor);
  const find = (root: unknown) => select(root, steps);
  if (cursor.take('IS ') || cursor.take('is ')) {
    cursor.skipSpaces();
    const word = readWord(cursor).toUpperCase();
    if (word === 'NULL') return (root) => holds(find(root), (value) => value === null);
    if (word === 'TRUE') return (root) => holds(find(root), (value) => value === true);
    if (word === 'FALSE') return (root) => holds(find(root), (value) => value === false);
    return rejectFilterPattern();
  }
  if (cursor.take('NOT ') || cursor.take('not ')) {
    cursor.skipSpaces();
    if (readWord(cursor).toUpperCase() !== 'EXISTS') rejectFilterPattern();
    return (root) => !find(root).exists;
  }
  const op = cursor.comparison();
  const { text, quoted } = cursor.value();
  const value = patternValue(text, quoted);
  checkOperator(op, value);
  return (root) => compareNode(find(root), op, value);
}

/** Reads `$` and its steps. */
function readSelector(cursor: PatternCursor): Step[] {
  if (!cursor.take('$')) rejectFilterPattern();
  const steps: Step[] = [];
  const { text } = cursor;
  for (;;) {
    const c = text.charAt(cursor.pos);
    if (c === '.') {
      const name = PROPERTY.exec(text.slice(cursor.pos + 1, cursor.pos + 1 + 1024))?.[0];
      if (name === undefined) return rejectFilterPattern();
      steps.push({ key: name });
      cursor.pos += 1 + name.length;
    } else if (c === '[') {
      const close = text.indexOf(']', cursor.pos);
      const digits = close < 0 ? '' : text.slice(cursor.pos + 1, close);
      if (!/^\d{1,9}$/.test(digits)) return rejectFilterPattern();
      steps.push({ index: Number(digits) });
      cursor.pos = close + 1;
    } else return steps;
  }
}

/** A run of letters at the cursor. */
function readWord(cursor: PatternCursor): string {
  const word = /^[A-Za-z]+/.exec(cursor.text.slice(cursor.pos, cursor.pos + 16))?.[0] ?? '';
  cursor.pos += word.length;
  return word;
}

function select(root: unknown, steps: readonly Step[]): Found {
  let node: unknown = root;
  for (const step of steps) {
    if ('key' in step) {
      if (!isObject(node) || !Object.hasOwn(node, step.key)) return MISSING;
      node = node[step.key];
    } else {
      if (!Array.isArray(node) || step.index >= node.length) return MISSING;
      node = node[step.index] as unknown;
    }
  }
  return { exists: true, value: node };
}

function holds(found: Found, test: (value: unknown) => boolean): boolean {
  return found.exists && test(found.value);
}

/**
 * A comparison holds only on a value node: numbers compare numerically with numbers; strings
 * (and numbers and booleans, by their JSON text) compare with string values and wildcards.
 */
function compareNode(found: Found, op: Comparison, value: PatternValue): boolean {
  if (!found.exists) return false;
  const node = found.value;
  if (value.kind === 'number')
    return typeof node === 'number' && compareNumbers(node, op, value.value);
  let text: string;
  if (typeof node === 'string') text = node;
  else if (typeof node === 'number' || typeof node === 'boolean') text = String(node);
  else return false;
  const matched = value.matches(text);
  return op === '=' ? matched : !matched;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
