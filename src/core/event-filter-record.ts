/**
 * Reading a record for event filtering: the parsed JSON record becomes a tree of Maps, arrays
 * and leaves in which dotted keys are expanded (`{"a.b": 1}` reads like `{"a": {"b": 1}}`, as
 * AWS recorded), so the matcher has one shape to walk. Reading first, instead of walking the
 * record directly, also contains hostile input: only as many path segments as the patterns' longest
 * path are read, at most 64 levels deep (deeper parts count as absent), and at most 5 million
 * nodes (more throws, which the filter answers as no match; a JSON payload within Lambda's
 * 6 MB cannot get there). Getters run once, here, and anything that is not JSON is dropped.
 */
import { isArray, isScalar, type Scalar } from './event-filter-values.js';

/** Deepest record nesting read; deeper parts count as absent. */
const MAX_RECORD_NESTING = 64;
/** Most record nodes (object keys and array items) read before giving up on a record. */
const MAX_RECORD_NODES = 5_000_000;

/**
 * A record as matching sees it: objects become maps with dotted keys expanded (so `{"a.b": 1}`
 * reads like `{"a": {"b": 1}}`), arrays stay arrays, and anything that is not JSON is dropped.
 */
export type RecordNode = Scalar | RecordObject | RecordNode[];
/** A record object, keyed by single path segments. */
export type RecordObject = Map<string, RecordNode>;

/** Reads `record` only as deep as `depth` path segments reach; throws past the node budget. */
export function readRecord(record: unknown, depth: number): RecordNode | undefined {
  const budget = { nodes: 0 };
  const read = (value: unknown, segmentsLeft: number, nesting: number): RecordNode | undefined => {
    if (isScalar(value)) return value;
    if (typeof value !== 'object' || value === null || nesting > MAX_RECORD_NESTING)
      return undefined;
    if (isArray(value)) {
      const items: RecordNode[] = [];
      for (let i = 0; i < value.length; i += 1) {
        spend(budget);
        const item = read(value[i], segmentsLeft, nesting + 1);
        if (item !== undefined) items.push(item);
      }
      return items;
    }
    const object: RecordObject = new Map();
    if (segmentsLeft === 0) return object; // present, but no pattern path reaches inside
    for (const key of Object.keys(value)) {
      spend(budget);
      const segments = key.split('.');
      if (segments.length > segmentsLeft) continue;
      const child = read(
        (value as Record<string, unknown>)[key],
        segmentsLeft - segments.length,
        nesting + 1,
      );
      if (child !== undefined) insertAt(object, segments, child);
    }
    return object;
  };
  return read(record, depth, 0);
}

function spend(budget: { nodes: number }): void {
  budget.nodes += 1;
  if (budget.nodes > MAX_RECORD_NODES) throw new RangeError('record too large to filter');
}

/** Puts `child` at the dotted path; where two keys land on one place, both values are kept. */
function insertAt(object: RecordObject, segments: readonly string[], child: RecordNode): void {
  let target = object;
  for (let i = 0; i < segments.length - 1; i += 1) {
    const segment = segments[i] ?? '';
    const existing = target.get(segment);
    if (existing instanceof Map) target = existing;
    else {
      const fresh: RecordObject = new Map();
      target.set(segment, existing === undefined ? fresh : [existing, fresh]);
      target = fresh;
    }
  }
  place(target, segments[segments.length - 1] ?? '', child);
}

function place(target: RecordObject, key: string, child: RecordNode): void {
  const existing = target.get(key);
  if (existing === undefined) target.set(key, child);
  else if (existing instanceof Map && child instanceof Map)
    for (const [k, v] of child) place(existing, k, v);
  else target.set(key, [existing, child]);
}
