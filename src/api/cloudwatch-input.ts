/**
 * CloudWatch requests in either protocol, decoded into one shape: the JSON protocol's body as it
 * is, and the Query protocol's form turned into the same nesting (`A.member.2.B` → `A[1].B`), so
 * that one set of rules validates both. Then the readers of that shape, which take a field's
 * value in either protocol's form (a number or its text, `true` or "true", a timestamp as epoch
 * seconds or ISO 8601) and refuse anything else with AWS's messages. Every size is bounded.
 */
import { nestingDepth } from '../core/json-depth.js';
import { cloudWatchErrors, constraintError } from './cloudwatch-errors.js';

/** A decoded request: field name → value (strings, numbers, booleans, arrays, objects). */
export type Fields = Readonly<Record<string, unknown>>;

/** Deepest JSON body taken (the operations' shapes are five levels deep). */
const MAX_JSON_NESTING = 16;
/** Most segments in a form key (`MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name`). */
const MAX_KEY_SEGMENTS = 16;
/** Largest list index taken in a form key. */
const MAX_LIST_INDEX = 100_000;

/** The operation and fields of a Query-protocol form. */
export function decodeForm(body: Buffer): { action: string | undefined; fields: Fields } {
  const root: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  let action: string | undefined;
  for (const [key, value] of new URLSearchParams(body.toString('utf8'))) {
    if (key === 'Action') action = value;
    else if (key !== 'Version') place(root, key, value);
  }
  return { action, fields: listsOf(root) as Fields };
}

/** The fields of a JSON-protocol body (empty for an empty body). */
export function decodeJson(body: Buffer): Fields {
  const text = body.toString('utf8');
  if (text.trim() === '') return {};
  if (nestingDepth(text) > MAX_JSON_NESTING)
    throw cloudWatchErrors.serialization('The request body is nested too deeply.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw cloudWatchErrors.serialization('The request body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw cloudWatchErrors.serialization('The request body must be a JSON object.');
  return parsed as Fields;
}

/** A list being built from form keys: index → value. */
class FormList extends Map<number, unknown> {}

function malformed(key: string): never {
  throw cloudWatchErrors.serialization(`The form field ${key.slice(0, 200)} is not well formed.`);
}

/** Puts one form value at the place its key names. */
function place(root: Record<string, unknown>, key: string, value: string): void {
  const segments = key.split('.');
  if (segments.length > MAX_KEY_SEGMENTS) malformed(key);
  // Name and index steps: `member` followed by a number is an index into a list.
  const steps: Array<string | number> = [];
  for (let i = 0; i < segments.length; i += 1) {
    const segment = segments[i] ?? '';
    if (segment === 'member') {
      const index = segments[i + 1] ?? '';
      if (!/^[1-9]\d{0,5}$/.test(index) || Number(index) > MAX_LIST_INDEX) malformed(key);
      steps.push(Number(index));
      i += 1;
    } else if (/^[A-Za-z][A-Za-z0-9]{0,63}$/.test(segment)) steps.push(segment);
    else malformed(key);
  }
  let container: Record<string, unknown> | FormList = root;
  for (let i = 0; i < steps.length; i += 1) {
    const step = steps[i] as string | number;
    const last = i === steps.length - 1;
    const next = steps[i + 1];
    const child = last
      ? value
      : typeof next === 'number'
        ? new FormList()
        : (Object.create(null) as Record<string, unknown>);
    const isList = container instanceof FormList;
    if (isList !== (typeof step === 'number')) malformed(key);
    const existing: unknown = isList
      ? (container as FormList).get(step as number)
      : (container as Record<string, unknown>)[step as string];
    if (existing === undefined) {
      if (isList) (container as FormList).set(step as number, child);
      else (container as Record<string, unknown>)[step as string] = child;
      if (last) return;
      container = child as Record<string, unknown> | FormList;
      continue;
    }
    if (last || typeof existing === 'string') malformed(key);
    if (existing instanceof FormList !== (typeof next === 'number')) malformed(key);
    container = existing as Record<string, unknown> | FormList;
  }
}

/** Lists built from index → value, as arrays in index order. */
function listsOf(value: unknown): unknown {
  if (value instanceof FormList)
    return [...value.entries()].sort(([a], [b]) => a - b).map(([, item]) => listsOf(item));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [name, child] of Object.entries(value)) out[name] = listsOf(child);
    return out;
  }
  return value;
}

// ---- readers: each takes a field's value and its path in AWS's messages ----

/** An object field (a nested structure), or undefined. */
export function structureAt(value: unknown, path: string): Fields | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value))
    throw cloudWatchErrors.serialization(`${path} must be a structure.`);
  return value as Fields;
}

/** A list field, or an empty list. */
export function listAt(value: unknown, path: string, max: number): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw cloudWatchErrors.serialization(`${path} must be a list.`);
  if (value.length > max)
    throw constraintError(
      `[${value.length} items]`,
      path,
      `Member must have length less than or equal to ${max}`,
    );
  return value;
}

/** A string field within length bounds, or undefined. */
export function stringAt(
  value: unknown,
  path: string,
  bounds: { min?: number; max?: number } = {},
): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw cloudWatchErrors.serialization(`${path} must be a string.`);
  const { min = 0, max = Infinity } = bounds;
  if (value.length < min)
    throw constraintError(value, path, `Member must have length greater than or equal to ${min}`);
  if (value.length > max)
    throw constraintError(value, path, `Member must have length less than or equal to ${max}`);
  return value;
}

/** An integer field (a JSON number or the text of one), or undefined. */
export function integerAt(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^-?\d{1,15}$/.test(value)
        ? Number(value)
        : NaN;
  if (!Number.isSafeInteger(number))
    throw cloudWatchErrors.invalidParameterValue(
      `The value ${shortText(value)} for parameter ${path} is not a valid integer.`,
    );
  return number;
}

/** A boolean field, or undefined. */
export function booleanAt(value: unknown, path: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw cloudWatchErrors.invalidParameterValue(
    `The value ${shortText(value)} for parameter ${path} is not a valid boolean.`,
  );
}

/** Years a timestamp may name (CloudWatch's data is days old at most; this only bounds input). */
const EARLIEST_MS = Date.UTC(1970, 0, 1);
const LATEST_MS = Date.UTC(9999, 11, 31, 23, 59, 59);
const ISO_RE =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * A timestamp field (epoch ms): epoch seconds as a number or its text (the JSON protocol), or
 * ISO 8601 text (the Query protocol); undefined when absent.
 */
export function timestampAt(value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  let ms = NaN;
  if (typeof value === 'number') ms = value * 1000;
  else if (typeof value === 'string') {
    if (/^-?\d{1,12}(?:\.\d{1,9})?$/.test(value)) ms = Number(value) * 1000;
    else if (ISO_RE.test(value)) {
      // A date-time without a zone is UTC, as AWS reads it.
      const zoned =
        /(?:Z|[+-]\d{2}:?\d{2})$/i.test(value) || !value.includes(':') ? value : `${value}Z`;
      ms = Date.parse(zoned.replace(' ', 'T'));
    }
  }
  if (!Number.isFinite(ms) || ms < EARLIEST_MS || ms > LATEST_MS)
    throw cloudWatchErrors.invalidParameterValue(
      `The parameter ${path} must be a timestamp (ISO 8601, or seconds since the epoch) between 1970 and 9999; got ${shortText(value)}.`,
    );
  return Math.round(ms);
}

/** A required field: the value, or AWS's MissingParameter error. */
export function required<T>(value: T | undefined, path: string): T {
  if (value === undefined)
    throw cloudWatchErrors.missingParameter(`The parameter ${path} is required.`);
  return value;
}

function shortText(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}
