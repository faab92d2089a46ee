/**
 * The leaves of event filtering: the JSON values a pattern and a record hold, and the tests a
 * pattern's alternatives become (exact values, `prefix`, `suffix`, `equals-ignore-case`). Each
 * test takes a Probe, so the record value is case-folded at most once however many
 * case-insensitive alternatives look at it. Numbers compare as numbers (`300` is `300.0`) and
 * string operators never match a value of another type, as AWS recorded.
 */
import { rejectPattern } from './event-filter-error.js';

/** A JSON leaf: what a pattern compares and what a record holds at the end of a path. */
export type Scalar = string | number | boolean | null;

/** One candidate leaf value, folding its case only when an operator asks. */
export class Probe {
  private folded: string | undefined;
  constructor(readonly value: Scalar) {}
  lower(): string {
    return (this.folded ??= String(this.value).toLowerCase());
  }
}

/** One alternative of a leaf: whether the probed record value passes it. */
export type ValueTest = (probe: Probe) => boolean;

/** An exact value: equal type and value, so numbers compare numerically. */
export function equalsTest(expected: Scalar): ValueTest {
  return (probe) => probe.value === expected;
}

/** `prefix`: a string value that starts with `prefix` (case-sensitive). */
export function prefixTest(prefix: string): ValueTest {
  return (probe) => typeof probe.value === 'string' && probe.value.startsWith(prefix);
}

/** `suffix`: a string value that ends with `suffix` (case-sensitive). */
export function suffixTest(suffix: string): ValueTest {
  return (probe) => typeof probe.value === 'string' && probe.value.endsWith(suffix);
}

/** `equals-ignore-case`: a string value equal to `expected` after lower-casing both. */
export function equalsIgnoreCaseTest(expected: string): ValueTest {
  const folded = expected.toLowerCase();
  return (probe) => typeof probe.value === 'string' && probe.lower() === folded;
}

/** `prefix` or `suffix`: a string, or `{"equals-ignore-case": string}` for either. */
export function affixOperator(name: 'prefix' | 'suffix', arg: unknown): ValueTest {
  if (typeof arg === 'string') return name === 'prefix' ? prefixTest(arg) : suffixTest(arg);
  const keys = isPlainObject(arg) ? Object.keys(arg) : [];
  const text = isPlainObject(arg) ? arg['equals-ignore-case'] : undefined;
  if (keys.length !== 1 || typeof text !== 'string')
    rejectPattern(`${name} match pattern must be a string`);
  const folded = text.toLowerCase();
  return name === 'prefix'
    ? (probe) => typeof probe.value === 'string' && probe.lower().startsWith(folded)
    : (probe) => typeof probe.value === 'string' && probe.lower().endsWith(folded);
}

/** Whether `value` is a JSON leaf (string, number, boolean or null). */
export function isScalar(value: unknown): value is Scalar {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  );
}

/** `Array.isArray` typed as `unknown[]`, so parsed JSON stays unknown. */
export function isArray(value: unknown): value is unknown[] {
  return Array.isArray(value);
}

/** Whether `value` is a JSON object (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
