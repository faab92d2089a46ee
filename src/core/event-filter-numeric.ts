/**
 * The `numeric` operator of event filtering: parses its argument (`["=", n]`, a one-sided bound,
 * or `[">"|">=", n, "<"|"<=", m]`) into a range, rejecting malformed ones with EventBridge's
 * reasons, and tests record values against it. Only JSON numbers match: a numeric string, such
 * as DynamoDB's `{"N": "42"}`, does not (AWS recorded).
 */
import { rejectPattern } from './event-filter-error.js';
import { isArray, type ValueTest } from './event-filter-values.js';

/** A numeric interval; an unbounded side is ±Infinity, exclusive. */
export interface NumericRange {
  readonly min: number;
  readonly minInclusive: boolean;
  readonly max: number;
  readonly maxInclusive: boolean;
}

/** Passes a number inside `range`; any other value fails. */
export function numericTest(range: NumericRange): ValueTest {
  return ({ value }) =>
    typeof value === 'number' &&
    (range.minInclusive ? value >= range.min : value > range.min) &&
    (range.maxInclusive ? value <= range.max : value < range.max);
}

/** `["=", n]`, `[">"|">=", n]`, `["<"|"<=", n]` or `[">"|">=", n, "<"|"<=", m]`. */
export function parseNumericRange(arg: unknown): NumericRange {
  if (!isArray(arg)) rejectPattern('Value of numeric must be an array.');
  const [op, value, topOp, top] = arg;
  if (typeof op !== 'string') rejectPattern(`Invalid member in numeric match: ${describe(op)}`);
  const lower = op === '>' || op === '>=';
  if (op !== '=' && !lower && op !== '<' && op !== '<=')
    rejectPattern(`Unrecognized numeric range operator: ${op}`);
  if (typeof value !== 'number' || !Number.isFinite(value))
    rejectPattern(`Value of ${op === '=' ? 'equals' : op} must be numeric`);
  if (op === '=' || !lower) {
    if (arg.length > 2) rejectPattern('Too many elements in numeric expression');
    if (op === '=') return { min: value, minInclusive: true, max: value, maxInclusive: true };
    return { min: -Infinity, minInclusive: false, max: value, maxInclusive: op === '<=' };
  }
  const bottom = { min: value, minInclusive: op === '>=' };
  if (arg.length === 2) return { ...bottom, max: Infinity, maxInclusive: false };
  if (typeof topOp !== 'string') rejectPattern(`Bad value in numeric range: ${describe(topOp)}`);
  if (topOp !== '<' && topOp !== '<=') rejectPattern(`Bad numeric range operator: ${topOp}`);
  // JSON numbers too large for a double (1e400) parse as Infinity: not a number a record can hold.
  if (typeof top !== 'number' || !Number.isFinite(top))
    rejectPattern(`Value of ${topOp} must be numeric`);
  if (arg.length > 4) rejectPattern('Too many terms in numeric range expression');
  if (!(value < top)) rejectPattern('Bottom must be less than top');
  return { ...bottom, max: top, maxInclusive: topOp === '<=' };
}

function describe(value: unknown): string {
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : typeof value;
}
