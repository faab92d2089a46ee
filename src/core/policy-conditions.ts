/**
 * The `Condition` element of an IAM policy statement, compiled once into a test of a request's
 * context (see docs/guide/identity.md, "Conditions"). Different operators, and different keys
 * under one operator, must all hold; several values for one key are alternatives (for a negated
 * operator: none may match). A key the request does not have makes a condition false, a negated
 * one true, and any `…IfExists` one true; `Null` tests presence. `ForAnyValue:` holds when some
 * request value matches (false for none), `ForAllValues:` when every one does (true for none).
 */
import { wildcardMatcher, arnMatcher, type Matcher } from './policy-pattern.js';

/** A request's condition keys (looked up case-insensitively by the caller's implementation). */
export type ConditionValues = (key: string) => string | readonly string[] | undefined;

/** A compiled Condition element. */
export type ConditionTest = (values: ConditionValues) => boolean;

/** A policy the server cannot use, with AWS's reason. */
export class PolicySyntaxError extends Error {}

type Compare = (requestValue: string) => boolean;
/** Builds the comparison of a request value against one policy value (undefined: not a valid value). */
type ValueCompiler = (policyValue: string) => Compare | undefined;

interface Operator {
  readonly compile: ValueCompiler;
  /** Negated operators (`StringNotEquals`…): true when no policy value matches. */
  readonly negated: boolean;
}

const equals: ValueCompiler = (p) => (v) => v === p;
const equalsIgnoreCase: ValueCompiler = (p) => {
  const lower = p.toLowerCase();
  return (v) => v.toLowerCase() === lower;
};
const like: ValueCompiler = (p) => wildcardMatcher(p);
const arnLike: ValueCompiler = (p) => arnMatcher(p);

const numeric =
  (test: (a: number, b: number) => boolean): ValueCompiler =>
  (p) => {
    const b = Number(p);
    if (p.trim() === '' || !Number.isFinite(b)) return undefined;
    return (v) => {
      const a = Number(v);
      return v.trim() !== '' && Number.isFinite(a) && test(a, b);
    };
  };

/** ISO-8601 or epoch seconds, as milliseconds (the last text read is remembered). */
let lastDate: { text: string; ms: number | undefined } = { text: '', ms: undefined };
function dateMs(text: string): number | undefined {
  if (lastDate.text === text) return lastDate.ms;
  let ms: number | undefined = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text);
  if (Number.isNaN(ms)) ms = undefined;
  lastDate = { text, ms };
  return ms;
}

const date =
  (test: (a: number, b: number) => boolean): ValueCompiler =>
  (p) => {
    const b = dateMs(p);
    if (b === undefined) return undefined;
    return (v) => {
      const a = dateMs(v);
      return a !== undefined && test(a, b);
    };
  };

const bool: ValueCompiler = (p) => {
  const lower = p.toLowerCase();
  if (lower !== 'true' && lower !== 'false') return undefined;
  return (v) => v.toLowerCase() === lower;
};

const ipAddress: ValueCompiler = (p) => {
  const cidr = parseCidr(p);
  if (cidr === undefined) return undefined;
  return (v) => {
    const address = lastParsed(v);
    return address !== undefined && inCidr(address, cidr);
  };
};

/** The address last parsed: a request tests its source against every block in turn. */
let parsed: { text: string; address: Uint8Array | undefined } = { text: '', address: undefined };
function lastParsed(text: string): Uint8Array | undefined {
  if (parsed.text !== text) parsed = { text, address: parseAddress(text) };
  return parsed.address;
}

const comparisons = {
  Equals: (a: number, b: number) => a === b,
  NotEquals: (a: number, b: number) => a === b,
  LessThan: (a: number, b: number) => a < b,
  LessThanEquals: (a: number, b: number) => a <= b,
  GreaterThan: (a: number, b: number) => a > b,
  GreaterThanEquals: (a: number, b: number) => a >= b,
};

const OPERATORS = new Map<string, Operator>();
const define = (name: string, compile: ValueCompiler, negated = false) =>
  OPERATORS.set(name.toLowerCase(), { compile, negated });
define('StringEquals', equals);
define('StringNotEquals', equals, true);
define('StringEqualsIgnoreCase', equalsIgnoreCase);
define('StringNotEqualsIgnoreCase', equalsIgnoreCase, true);
define('StringLike', like);
define('StringNotLike', like, true);
for (const [name, test] of Object.entries(comparisons)) {
  define(`Numeric${name}`, numeric(test), name === 'NotEquals');
  define(`Date${name}`, date(test), name === 'NotEquals');
}
define('Bool', bool);
define('BinaryEquals', equals);
define('IpAddress', ipAddress);
define('NotIpAddress', ipAddress, true);
define('ArnEquals', arnLike);
define('ArnLike', arnLike);
define('ArnNotEquals', arnLike, true);
define('ArnNotLike', arnLike, true);

/** Compiles a statement's `Condition` (undefined: none). */
export function compileCondition(condition: unknown): ConditionTest {
  if (condition === undefined) return () => true;
  if (!isRecord(condition)) throw new PolicySyntaxError('Condition must be an object.');
  const tests: ConditionTest[] = [];
  for (const [operatorName, block] of Object.entries(condition)) {
    if (!isRecord(block)) {
      throw new PolicySyntaxError(`Condition operator ${operatorName} must map keys to values.`);
    }
    for (const [key, values] of Object.entries(block)) {
      tests.push(compileOne(operatorName, key, policyValues(values, operatorName, key)));
    }
  }
  return (values) => tests.every((test) => test(values));
}

function compileOne(operatorName: string, key: string, values: readonly string[]): ConditionTest {
  let name = operatorName;
  let set: 'any' | 'all' | undefined;
  const prefix = /^(ForAnyValue|ForAllValues):/i.exec(name);
  if (prefix !== null) {
    set = (prefix[1] ?? '').toLowerCase() === 'foranyvalue' ? 'any' : 'all';
    name = name.slice(prefix[0].length);
  }
  if (name.toLowerCase() === 'null') {
    if (set !== undefined) throw unknownOperator(operatorName);
    const wanted = values.map((value) => bool(value));
    if (wanted.some((compare) => compare === undefined)) throw badValue(operatorName, key);
    return (request) => {
      const present = isPresent(request(key));
      return values.some((value) => (value.toLowerCase() === 'true') === !present);
    };
  }
  let ifExists = false;
  if (/IfExists$/i.test(name)) {
    ifExists = true;
    name = name.slice(0, -'IfExists'.length);
  }
  const operator = OPERATORS.get(name.toLowerCase());
  if (operator === undefined) throw unknownOperator(operatorName);
  const compares: Compare[] = [];
  for (const value of values) {
    const compare = operator.compile(value);
    if (compare === undefined) throw badValue(operatorName, key);
    compares.push(compare);
  }
  const anyMatches: Matcher = (value) => compares.some((compare) => compare(value));
  // One request value against the operator: a negated operator holds when no policy value matches.
  const holds = (value: string) => anyMatches(value) !== operator.negated;
  return (request) => {
    const found = request(key);
    const list = found === undefined ? [] : typeof found === 'string' ? [found] : found;
    if (set === 'any') return list.some(holds);
    if (set === 'all') return list.every(holds);
    if (list.length === 0) return ifExists || operator.negated;
    return operator.negated ? list.every(holds) : list.some(holds);
  };
}

function isPresent(value: string | readonly string[] | undefined): boolean {
  return value !== undefined && (typeof value === 'string' || value.length > 0);
}

/** A key's values: one string, a number or boolean (written as text), or a list of them. */
function policyValues(values: unknown, operator: string, key: string): string[] {
  const list = Array.isArray(values) ? (values as unknown[]) : [values];
  if (list.length === 0) throw badValue(operator, key);
  return list.map((value) => {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw badValue(operator, key);
  });
}

function unknownOperator(name: string): PolicySyntaxError {
  return new PolicySyntaxError(`Invalid Condition type : ${name}.`);
}

function badValue(operator: string, key: string): PolicySyntaxError {
  return new PolicySyntaxError(`Invalid value for condition ${operator} on key ${key}.`);
}

/** A JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface Cidr {
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

function parseCidr(text: string): Cidr | undefined {
  const [address, prefixText, extra] = text.split('/');
  if (extra !== undefined || address === undefined) return undefined;
  const bytes = parseAddress(address);
  if (bytes === undefined) return undefined;
  const prefix = prefixText === undefined ? bytes.length * 8 : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bytes.length * 8) return undefined;
  return { bytes, prefix };
}

function inCidr(address: Uint8Array, cidr: Cidr): boolean {
  if (address.length !== cidr.bytes.length) return false;
  for (let bit = 0; bit < cidr.prefix; bit += 1) {
    const mask = 0x80 >> (bit % 8);
    const index = Math.floor(bit / 8);
    if (((address[index] ?? 0) & mask) !== ((cidr.bytes[index] ?? 0) & mask)) return false;
  }
  return true;
}

/** An IPv4 (4 bytes) or IPv6 (16 bytes) address; an IPv4-mapped IPv6 address counts as IPv4. */
function parseAddress(text: string): Uint8Array | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4 !== null) {
    const bytes = v4.slice(1).map(Number);
    return bytes.every((b) => b <= 255) ? Uint8Array.from(bytes) : undefined;
  }
  const mapped = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i.exec(text);
  if (mapped !== null) return parseAddress(mapped[1] ?? '');
  if (!/^[0-9a-f:]+$/i.test(text) || text.split('::').length > 2) return undefined;
  const [head = '', tail] = text.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  const all = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...right];
  const bytes = new Uint8Array(16);
  for (const [index, group] of all.entries()) {
    if (group.length === 0 || group.length > 4) return undefined;
    const value = parseInt(group, 16);
    bytes[index * 2] = value >> 8;
    bytes[index * 2 + 1] = value & 255;
  }
  return bytes;
}
