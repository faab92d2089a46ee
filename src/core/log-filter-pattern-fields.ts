/**
 * Space-delimited filter patterns (`[ip, user, ..., status_code = 4*, bytes > 1000]`): the event
 * is cut into fields at spaces, text between `[` and `]` or between double quotes being one field
 * (without them). Each slot of the pattern takes one field: a name, an empty slot, or a condition
 * on the slot's name (`status_code = 4* && status_code != 403`, `w1=ERROR || w1=WARN`), which may
 * also test other named slots; `...` (at most once) takes any number of fields. Without `...` the
 * event must have exactly as many fields as the pattern has slots.
 */
import { rejectFilterPattern } from './log-filter-pattern-error.js';
import { parseExpression, PatternCursor, type Test } from './log-filter-pattern-expression.js';
import {
  checkOperator,
  compareNumbers,
  numberOf,
  patternValue,
} from './log-filter-pattern-values.js';

/** The fields of an event, placed in the pattern's slots. */
type SlotValues = readonly string[];

/** A name a condition tests, resolved to its slot once every slot has been read. */
interface NameReference {
  readonly name: string;
  slot: number;
}

const NAME = /^[A-Za-z0-9_-]+/;

/** Compiles the inside of `[ … ]` into a matcher of messages. */
export function compileFields(inner: string): (message: string) => boolean {
  const cursor = new PatternCursor(inner);
  const names: Array<string | undefined> = [];
  const tests: Array<Test<SlotValues>> = [];
  const references: NameReference[] = [];
  let ellipsis = -1;
  if (!cursor.atEnd) {
    for (let slot = 0; ; slot += 1) {
      const read = readSlot(cursor, references);
      if (read === 'ellipsis') {
        if (ellipsis >= 0) rejectFilterPattern();
        ellipsis = slot;
        names.push(undefined);
      } else {
        names.push(read.name);
        if (read.test !== undefined) tests.push(read.test);
      }
      if (cursor.atEnd) break;
      if (!cursor.take(',')) rejectFilterPattern();
    }
  }
  for (const reference of references) {
    reference.slot = names.indexOf(reference.name);
    if (reference.slot < 0) rejectFilterPattern();
  }
  // `[]` names no field at all: it is taken as matching every event, like an empty pattern.
  if (names.length === 0) return () => true;
  const slots = names.length;
  return (message) => {
    const fields = splitFields(message);
    const values = placeFields(fields, slots, ellipsis);
    return values !== undefined && tests.every((test) => test(values));
  };
}

type SlotRead =
  'ellipsis' | { readonly name: string | undefined; readonly test?: Test<SlotValues> };

/** One slot: empty, `...`, a bare name, or a condition (named by its first name). */
function readSlot(cursor: PatternCursor, references: NameReference[]): SlotRead {
  const next = cursor.peek();
  if (next === ',' || next === '') return { name: undefined };
  if (cursor.text.startsWith('...', cursor.pos)) {
    const after = cursor.pos + 3;
    cursor.pos = after;
    const following = cursor.peek();
    if (following === ',' || following === '') return 'ellipsis';
    return rejectFilterPattern();
  }
  const name = NAME.exec(cursor.text.slice(cursor.pos, cursor.pos + 512))?.[0];
  if (name !== undefined) {
    const start = cursor.pos;
    cursor.pos += name.length;
    const following = cursor.peek();
    if (following === ',' || following === '') return { name };
    cursor.pos = start;
  }
  const first = references.length;
  const test = parseExpression<SlotValues>(cursor, (c) => readCondition(c, references));
  return { name: references[first]?.name, test };
}

/** `name op value`, testing the field in the slot of that name. */
function readCondition(cursor: PatternCursor, references: NameReference[]): Test<SlotValues> {
  cursor.skipSpaces();
  const name = NAME.exec(cursor.text.slice(cursor.pos, cursor.pos + 512))?.[0];
  if (name === undefined) return rejectFilterPattern();
  cursor.pos += name.length;
  const reference: NameReference = { name, slot: -1 };
  references.push(reference);
  const op = cursor.comparison();
  const { text, quoted } = cursor.value();
  const value = patternValue(text, quoted);
  checkOperator(op, value);
  if (value.kind === 'number')
    return (values) => {
      const field = numberOf(values[reference.slot] ?? '');
      return field !== undefined && compareNumbers(field, op, value.value);
    };
  return (values) => {
    const matched = value.matches(values[reference.slot] ?? '');
    return op === '=' ? matched : !matched;
  };
}

/** The fields of a message: runs of non-spaces, `[…]` and `"…"` each one field. */
export function splitFields(message: string): string[] {
  const fields: string[] = [];
  let i = 0;
  const n = message.length;
  while (i < n) {
    if (isSpace(message.charCodeAt(i))) {
      i += 1;
      continue;
    }
    const c = message.charAt(i);
    const close = c === '"' ? '"' : c === '[' ? ']' : undefined;
    if (close !== undefined) {
      const end = message.indexOf(close, i + 1);
      const stop = end < 0 ? n : end;
      fields.push(message.slice(i + 1, stop));
      i = stop + 1;
      continue;
    }
    let end = i;
    while (end < n && !isSpace(message.charCodeAt(end))) end += 1;
    fields.push(message.slice(i, end));
    i = end;
  }
  return fields;
}

/** The field in each slot, or undefined when the counts cannot agree. */
function placeFields(
  fields: readonly string[],
  slots: number,
  ellipsis: number,
): SlotValues | undefined {
  if (ellipsis < 0) return fields.length === slots ? fields : undefined;
  const after = slots - ellipsis - 1;
  if (fields.length < slots - 1) return undefined;
  const values: string[] = fields.slice(0, ellipsis);
  values.push('');
  for (let i = fields.length - after; i < fields.length; i += 1) values.push(fields[i] ?? '');
  return values;
}

/** Space, tab, line feed or carriage return. */
function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}
