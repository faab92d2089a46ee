/**
 * Matching one compiled pattern against one read record (see `event-filter-record.ts`). The
 * walk follows the pattern tree: keys are ANDed, leaf alternatives and `$or` branches ORed; an
 * array in the record matches if any element does, and all fields of one pattern object must
 * be found in the same record object, so two fields cannot be satisfied by different elements
 * of a record array ("array consistency", as AWS recorded). Operators test leaves only: an
 * object where a leaf is expected counts as absent. `exists: false` means no leaf anywhere in
 * the record at that path, and since that check looks at the whole record, its answers are
 * cached per match so the walk stays O(record nodes × pattern size).
 */
import type { FieldTest, LeafTest, ObjectTest } from './event-filter-tree.js';
import { Probe, type Scalar } from './event-filter-values.js';
import type { RecordNode, RecordObject } from './event-filter-record.js';

/** Whether the record (as `readRecord` returns it) passes the pattern rooted at `root`. */
export function matchesRecord(root: ObjectTest, record: RecordNode | undefined): boolean {
  return matchesAt(root, record, new Evaluation(record));
}

/** One record being matched: its root, and the absence checks already answered for it. */
class Evaluation {
  private readonly absentFields = new Map<FieldTest, boolean>();
  private readonly absentObjects = new Map<ObjectTest, boolean>();

  constructor(private readonly root: RecordNode | undefined) {}

  /** Whether a pattern object passes where the record has nothing (through `exists: false`). */
  passesAbsent(test: ObjectTest): boolean {
    let answer = this.absentObjects.get(test);
    if (answer === undefined) {
      answer = matchesAbsent(test, this);
      this.absentObjects.set(test, answer);
    }
    return answer;
  }

  /** No leaf anywhere in the record at the field's path (EventBridge's `exists: false`). */
  isAbsent(field: FieldTest): boolean {
    let answer = this.absentFields.get(field);
    if (answer === undefined) {
      answer = !hasLeafAt(this.root, field.path, 0);
      this.absentFields.set(field, answer);
    }
    return answer;
  }
}

function hasLeafAt(node: RecordNode | undefined, path: readonly string[], index: number): boolean {
  if (node === undefined) return false;
  if (Array.isArray(node)) return node.some((item) => hasLeafAt(item, path, index));
  if (index === path.length) return !(node instanceof Map);
  return node instanceof Map && hasLeafAt(node.get(path[index] ?? ''), path, index + 1);
}

/** A pattern object against a record node: some object in it passes, or the object is absent. */
function matchesAt(
  test: ObjectTest,
  node: RecordNode | undefined,
  evaluation: Evaluation,
): boolean {
  return (
    someObject(node, (object) => matchesObject(test, object, evaluation)) ||
    evaluation.passesAbsent(test)
  );
}

function someObject(
  node: RecordNode | undefined,
  predicate: (object: RecordObject) => boolean,
): boolean {
  if (node instanceof Map) return predicate(node);
  return Array.isArray(node) && node.some((item) => someObject(item, predicate));
}

function someLeaf(node: RecordNode | undefined, predicate: (value: Scalar) => boolean): boolean {
  if (Array.isArray(node)) return node.some((item) => someLeaf(item, predicate));
  return node !== undefined && !(node instanceof Map) && predicate(node);
}

function matchesObject(test: ObjectTest, object: RecordObject, evaluation: Evaluation): boolean {
  for (const [segment, field] of test.fields)
    if (!matchesField(field, object.get(segment), evaluation)) return false;
  return test.anyOf.every((branches) =>
    branches.some((branch) => matchesObject(branch, object, evaluation)),
  );
}

function matchesField(
  field: FieldTest,
  node: RecordNode | undefined,
  evaluation: Evaluation,
): boolean {
  const { leaf, object } = field;
  if (leaf !== undefined && !matchesLeaf(leaf, field, node, evaluation)) return false;
  return object === undefined || matchesAt(object, node, evaluation);
}

function matchesLeaf(
  leaf: LeafTest,
  field: FieldTest,
  node: RecordNode | undefined,
  evaluation: Evaluation,
): boolean {
  const passes = (value: Scalar): boolean => {
    const probe = new Probe(value);
    return leaf.tests.some((test) => test(probe));
  };
  return someLeaf(node, passes) || (leaf.absentPasses && evaluation.isAbsent(field));
}

/** A pattern object where the record has nothing passes only through `exists: false`. */
function matchesAbsent(test: ObjectTest, evaluation: Evaluation): boolean {
  for (const field of test.fields.values()) {
    if (field.leaf !== undefined && !(field.leaf.absentPasses && evaluation.isAbsent(field)))
      return false;
    if (field.object !== undefined && !evaluation.passesAbsent(field.object)) return false;
  }
  return test.anyOf.every((branches) => branches.some((branch) => evaluation.passesAbsent(branch)));
}
