/**
 * The compiled form of an event-filter pattern, shared by the compiler that builds it and the
 * matcher that walks it, so neither imports the other. A pattern object becomes an ObjectTest
 * keyed by path segment; a dotted key's segments are placed here as nested fields, so
 * `{"a.b": …}` and `{"a": {"b": …}}` build the same tree, and a later key on an already-used
 * path merges into it (a leaf replaces the earlier leaf, as a duplicate key does in EventBridge).
 */
import { rejectPattern } from './event-filter-error.js';
import type { ValueTest } from './event-filter-values.js';

/** The alternatives at one path: passes when any test passes a leaf there. */
export interface LeafTest {
  readonly tests: readonly ValueTest[];
  /** An `{"exists": false}` alternative: passes when no leaf is at this path at all. */
  readonly absentPasses: boolean;
}

/** One path segment of a pattern object: a leaf test, a nested object test, or both. */
export interface FieldTest {
  /** Absolute path of the field, for the record-wide `exists: false` check. */
  readonly path: readonly string[];
  leaf: LeafTest | undefined;
  object: ObjectTest | undefined;
}

/** A pattern object: every field passes (keys are ANDed) and every `$or` has a passing branch. */
export interface ObjectTest {
  readonly fields: Map<string, FieldTest>;
  /** Each entry is one `$or`: at least one of its branches must pass. */
  readonly anyOf: ObjectTest[][];
}

/** One compiled pattern, ready to match against records. */
export interface CompiledPattern {
  readonly root: ObjectTest;
  /** Longest path the pattern names, in segments: how deep a record needs reading. */
  readonly depth: number;
}

/** The field test at `segments` under `test`, creating the objects a dotted key implies. */
function fieldAt(
  test: ObjectTest,
  prefix: readonly string[],
  segments: readonly string[],
): FieldTest {
  const path = [...prefix];
  let owner = test;
  let field: FieldTest | undefined;
  for (const segment of segments) {
    if (field !== undefined) owner = field.object ??= emptyObjectTest();
    path.push(segment);
    field = owner.fields.get(segment);
    if (field === undefined) {
      field = { path: [...path], leaf: undefined, object: undefined };
      owner.fields.set(segment, field);
    }
  }
  return field ?? rejectPattern('Empty field name');
}

/** A leaf at an already-used path replaces the earlier one, as a duplicate key does in EventBridge. */
export function placeLeaf(
  test: ObjectTest,
  prefix: readonly string[],
  segments: string[],
  leaf: LeafTest,
): void {
  fieldAt(test, prefix, segments).leaf = leaf;
}

/** A nested pattern object at `segments`, merged into any object already there. */
export function placeObject(
  test: ObjectTest,
  prefix: readonly string[],
  segments: string[],
  child: ObjectTest,
): void {
  const field = fieldAt(test, prefix, segments);
  if (field.object === undefined) field.object = child;
  else mergeObjectTests(field.object, child);
}

function mergeObjectTests(into: ObjectTest, from: ObjectTest): void {
  for (const [segment, field] of from.fields) {
    const existing = into.fields.get(segment);
    if (existing === undefined) into.fields.set(segment, field);
    else {
      if (field.leaf !== undefined) existing.leaf = field.leaf;
      if (field.object !== undefined)
        if (existing.object === undefined) existing.object = field.object;
        else mergeObjectTests(existing.object, field.object);
    }
  }
  into.anyOf.push(...from.anyOf);
}

function emptyObjectTest(): ObjectTest {
  return { fields: new Map(), anyOf: [] };
}
