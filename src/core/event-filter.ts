/**
 * Lambda event filtering: the `FilterCriteria` of an event source mapping, written in the
 * EventBridge event-pattern language, compiled once and then run against each record.
 *
 * A pattern is a JSON object whose leaves are arrays of alternatives: exact values (string,
 * number, boolean, null) and operator objects (`prefix`, `suffix`, `equals-ignore-case`,
 * `wildcard`, `anything-but`, `numeric`, `exists`, `cidr`). Keys are ANDed, leaf alternatives
 * ORed, `$or` ORs whole sub-patterns. What AWS recorded decides every doubtful point (see
 * `test/unit/fixtures/event-filter-cases.json`):
 * - Keys are dot-joined paths on both sides: `{"a.b": …}` and `{"a": {"b": …}}` are the same
 *   pattern, and they match the record `{"a.b": 1}` as well as `{"a": {"b": 1}}`.
 * - Arrays in the record match if any element does, and two fields of one pattern object must
 *   come from the same element of a record array ("array consistency").
 * - Operators test leaves only: an object where the pattern expects a value counts as absent, so
 *   `exists: true` fails on it and `exists: false` holds.
 * - `exists: false` means no leaf anywhere in the record at that path.
 * - Numbers compare as numbers (`300` matches `300.0`, recorded), never as strings; `numeric`
 *   ignores strings (a DynamoDB `{"N": "42"}` does not match, recorded).
 * - `anything-but` needs a leaf to be present; `null` and values of another type are "anything
 *   but" a string, so they match.
 * Error messages are EventBridge's reasons (`InvalidEventPatternException`), so a caller can
 * answer Lambda's `Invalid filter pattern definition.` and log the reason.
 *
 * Limits, because patterns and records are hostile:
 * - a pattern is at most 4096 characters (Lambda's own limit), nests at most 32 brackets, names
 *   paths of at most 32 segments, and holds at most 1024 leaf values; at most 5 patterns OR;
 * - wildcards are rejected as too complex when a worst-case value would keep more than 10
 *   pattern positions after a `*` alive at once (fits AWS's recorded accept/reject cases), or
 *   when that analysis would need more than 20 000 steps;
 * - a record is read at most 64 levels deep (deeper parts count as absent) and at most 5 million
 *   nodes wide (more means no match; a JSON payload within Lambda's 6 MB cannot get there).
 * Matching never throws and costs O(record nodes × pattern size): wildcards run a linear-time
 * matcher (not `policy-pattern.ts`, whose `?` is a wildcard and which backtracks to O(n·m)), and
 * no regular expression is built from input.
 */
import { nestingDepth } from './json-depth.js';

/** An invalid pattern; the message is EventBridge's reason, short and safe to show the caller. */
export class FilterPatternError extends Error {
  override name = 'FilterPatternError';
}

/** A compiled pattern (or several ORed): answers whether a parsed JSON record passes. */
export interface CompiledFilter {
  /** True when the record passes; never throws, whatever `record` is. */
  matches(record: unknown): boolean;
}

const MAX_PATTERN_CHARS = 4096;
const MAX_FILTERS = 5;
const MAX_PATTERN_NESTING = 32;
const MAX_PATH_SEGMENTS = 32;
const MAX_PATTERN_VALUES = 1024;
const MAX_WILDCARD_COMPLEXITY = 10;
const MAX_WILDCARD_ANALYSIS_STEPS = 20_000;
const MAX_RECORD_NESTING = 64;
const MAX_RECORD_NODES = 5_000_000;

const OPERATORS = new Set([
  'prefix',
  'suffix',
  'equals-ignore-case',
  'wildcard',
  'anything-but',
  'numeric',
  'exists',
  'cidr',
]);
/** Words EventBridge refuses as field names inside `$or` (its operators and reserved ones). */
const RESERVED_IN_OR = new Set([
  ...OPERATORS,
  'exactly',
  '=',
  '<',
  '<=',
  '>',
  '>=',
  'regex',
  'not-wildcard',
  'not-equals-ignore-case',
  'date-after',
  'date-on-or-after',
  'date-before',
  'date-on-or-before',
  'in-date-range',
  'ip-address-in-range',
  'ip-address-not-in-range',
]);
const ANYTHING_BUT_SHAPE = 'Value of anything-but must be an array or single string/number value.';

/** Compiles one `FilterCriteria.Filters[].Pattern` string; throws FilterPatternError. */
export function compileFilter(pattern: string): CompiledFilter {
  return compileFilters([pattern]);
}

/** Compiles up to 5 patterns into one filter that passes a record any of them matches; no patterns pass everything. */
export function compileFilters(patterns: readonly string[]): CompiledFilter {
  if (!isArray(patterns)) reject('Filters must be a list of patterns');
  if (patterns.length > MAX_FILTERS) reject(`At most ${MAX_FILTERS} filters are allowed`);
  const compiled = patterns.map(compilePattern);
  if (compiled.length === 0) return { matches: () => true };
  const depth = Math.max(...compiled.map((c) => c.depth));
  return {
    matches(record: unknown): boolean {
      try {
        const root = readRecord(record, depth);
        return compiled.some((c) => matchesAt(c.root, root, new Evaluation(root)));
      } catch {
        return false; // a record we cannot read (throwing getter, too many nodes) does not pass
      }
    },
  };
}

function reject(reason: string): never {
  throw new FilterPatternError(reason);
}

// ---------------------------------------------------------------------------------------------
// Compiled form

type Scalar = string | number | boolean | null;

/** One candidate leaf value, folding its case only when an operator asks. */
class Probe {
  private folded: string | undefined;
  constructor(readonly value: Scalar) {}
  lower(): string {
    return (this.folded ??= String(this.value).toLowerCase());
  }
}

type ValueTest = (probe: Probe) => boolean;

interface LeafTest {
  readonly tests: readonly ValueTest[];
  /** An `{"exists": false}` alternative: passes when no leaf is at this path at all. */
  readonly absentPasses: boolean;
}

interface FieldTest {
  /** Absolute path of the field, for the record-wide `exists: false` check. */
  readonly path: readonly string[];
  leaf: LeafTest | undefined;
  object: ObjectTest | undefined;
}

interface ObjectTest {
  readonly fields: Map<string, FieldTest>;
  /** Each entry is one `$or`: at least one of its branches must pass. */
  readonly anyOf: ObjectTest[][];
}

interface CompiledPattern {
  readonly root: ObjectTest;
  /** Longest path the pattern names, in segments: how deep a record needs reading. */
  readonly depth: number;
}

// ---------------------------------------------------------------------------------------------
// Compiling

function compilePattern(text: string): CompiledPattern {
  if (typeof text !== 'string') reject('Pattern must be a string');
  if (text.length > MAX_PATTERN_CHARS)
    reject(`Pattern is longer than ${MAX_PATTERN_CHARS} characters`);
  // Checked on the text first, so no step below recurses deeper than this.
  if (nestingDepth(text) > MAX_PATTERN_NESTING)
    reject(`Pattern nests deeper than ${MAX_PATTERN_NESTING} levels`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    reject('Pattern is not valid JSON');
  }
  if (!isPlainObject(json)) reject('Filter is not an object');
  const compiler = new PatternCompiler();
  const root = compiler.object(json, [], false);
  compiler.checkWildcardComplexity();
  return { root, depth: compiler.depth };
}

class PatternCompiler {
  depth = 0;
  private values = 0;
  /** Wildcards per field path: EventBridge rates their complexity together. */
  private readonly wildcards = new Map<string, Glob[]>();

  object(json: Record<string, unknown>, prefix: readonly string[], insideOr: boolean): ObjectTest {
    const entries = Object.entries(json);
    if (entries.length === 0) reject('Empty objects are not allowed');
    const test: ObjectTest = { fields: new Map(), anyOf: [] };
    for (const [key, value] of entries) {
      if (key === '$or') {
        test.anyOf.push(this.or(value, prefix));
        continue;
      }
      if (insideOr && RESERVED_IN_OR.has(key))
        reject(`${key} is Ruler reserved fieldName which cannot be used inside $or.`);
      const segments = key.split('.');
      const path = [...prefix, ...segments];
      if (path.length > MAX_PATH_SEGMENTS)
        reject(`Pattern paths are limited to ${MAX_PATH_SEGMENTS} keys`);
      this.depth = Math.max(this.depth, path.length);
      if (isArray(value)) placeLeaf(test, prefix, segments, this.leaf(value, path));
      else if (isPlainObject(value))
        placeObject(test, prefix, segments, this.object(value, path, insideOr));
      else reject(`"${key}" must be an object or an array`);
    }
    return test;
  }

  private or(value: unknown, prefix: readonly string[]): ObjectTest[] {
    if (!isArray(value)) reject('It must be an Array followed with $or.');
    const branches = value.map((branch) => {
      if (!isPlainObject(branch))
        reject('Only JSON object is allowed in array of $or relationship.');
      return this.object(branch, prefix, true);
    });
    if (branches.length < 2) reject('There must have at least 2 Objects in $or relationship.');
    return branches;
  }

  private leaf(values: unknown[], path: readonly string[]): LeafTest {
    if (values.length === 0) reject('Empty arrays are not allowed');
    const tests: ValueTest[] = [];
    let absentPasses = false;
    for (const value of values) {
      this.count(1);
      if (isScalar(value)) tests.push(equalsTest(value));
      else if (isPlainObject(value)) {
        const test = this.operator(value, path);
        if (test === 'absent') absentPasses = true;
        else tests.push(test);
      } else reject('Match value must be String, number, true, false, or null');
    }
    return { tests, absentPasses };
  }

  private operator(json: Record<string, unknown>, path: readonly string[]): ValueTest | 'absent' {
    const keys = Object.keys(json);
    const name = keys[0];
    if (name === undefined) reject('Match expression name not found');
    const test = this.operatorTest(name, json[name], path);
    if (keys.length > 1) reject('Only one key allowed in match expression');
    return test;
  }

  private operatorTest(name: string, arg: unknown, path: readonly string[]): ValueTest | 'absent' {
    switch (name) {
      case 'prefix':
      case 'suffix':
        return affixOperator(name, arg);
      case 'equals-ignore-case':
        if (typeof arg !== 'string') reject('equals-ignore-case match pattern must be a string');
        return equalsIgnoreCaseTest(arg);
      case 'wildcard':
        if (typeof arg !== 'string') reject('wildcard match pattern must be a string');
        return this.wildcard(arg, path);
      case 'numeric':
        return numericTest(parseNumericRange(arg));
      case 'anything-but':
        return this.anythingBut(arg, path);
      case 'exists':
        if (typeof arg !== 'boolean') reject('exists match pattern must be either true or false.');
        return arg ? () => true : 'absent';
      case 'cidr':
        // EventBridge's own wording for a cidr that is not a string.
        if (typeof arg !== 'string') reject('prefix match pattern must be a string');
        return cidrTest(parseCidr(arg));
      default:
        reject(`Unrecognized match type ${name}`);
    }
  }

  /** `anything-but`: passes a present leaf that none of the listed tests accept. */
  private anythingBut(arg: unknown, path: readonly string[]): ValueTest {
    const excluded = this.excludedTests(arg, path);
    return (probe) => !excluded.some((test) => test(probe));
  }

  private excludedTests(arg: unknown, path: readonly string[]): ValueTest[] {
    if (typeof arg === 'string' || typeof arg === 'number') return [equalsTest(arg)];
    if (isArray(arg)) return this.anythingButList(arg);
    if (!isPlainObject(arg)) reject(ANYTHING_BUT_SHAPE);
    const keys = Object.keys(arg);
    const name = keys[0];
    if (name === undefined) reject('Anything-But expression name not found');
    const tests = this.excludedByOperator(name, arg[name], path);
    if (keys.length > 1) reject('Only one key allowed in match expression');
    return tests;
  }

  private anythingButList(items: unknown[]): ValueTest[] {
    this.count(items.length);
    for (const item of items)
      if (typeof item !== 'string' && typeof item !== 'number')
        reject('Inside anything but list, start|null|boolean is not supported.');
    const strings = items.filter((item) => typeof item === 'string').length;
    if (items.length === 0 || (strings !== 0 && strings !== items.length))
      reject(
        'Inside anything but list, either all values are number or string, mixed type is not supported',
      );
    return (items as Array<string | number>).map(equalsTest);
  }

  private excludedByOperator(name: string, arg: unknown, path: readonly string[]): ValueTest[] {
    switch (name) {
      case 'prefix':
      case 'suffix':
        return this.stringList(arg, 'prefix/suffix match pattern must be a string').map((text) => {
          if (text === '') reject('Null prefix/suffix not allowed');
          return name === 'prefix' ? prefixTest(text) : suffixTest(text);
        });
      case 'equals-ignore-case':
        if (typeof arg === 'number' || (isArray(arg) && arg.some((v) => typeof v !== 'string')))
          reject(
            'Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.',
          );
        return this.stringList(arg, ANYTHING_BUT_SHAPE).map(equalsIgnoreCaseTest);
      case 'wildcard':
        return this.stringList(arg, 'wildcard match pattern must be a string').map((text) =>
          this.wildcard(text, path),
        );
      default:
        reject(`Unsupported anything-but pattern: ${name}`);
    }
  }

  /** A string or a non-empty list of strings, as `anything-but`'s operators take. */
  private stringList(arg: unknown, notString: string): string[] {
    if (typeof arg === 'string') return [arg];
    if (isPlainObject(arg)) reject(ANYTHING_BUT_SHAPE);
    if (!isArray(arg)) reject(notString);
    if (arg.length === 0) reject('Empty arrays are not allowed');
    this.count(arg.length);
    return arg.map((item) => (typeof item === 'string' ? item : reject(notString)));
  }

  private wildcard(text: string, path: readonly string[]): ValueTest {
    const glob = parseGlob(text);
    const key = JSON.stringify(path);
    const globs = this.wildcards.get(key) ?? [];
    globs.push(glob);
    this.wildcards.set(key, globs);
    return (probe) => typeof probe.value === 'string' && globMatches(glob, probe.value);
  }

  checkWildcardComplexity(): void {
    for (const globs of this.wildcards.values())
      if (wildcardComplexity(globs) > MAX_WILDCARD_COMPLEXITY)
        reject(
          'Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character',
        );
  }

  private count(values: number): void {
    this.values += values;
    if (this.values > MAX_PATTERN_VALUES)
      reject(`Pattern has more than ${MAX_PATTERN_VALUES} values`);
  }
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
  return field ?? reject('Empty field name');
}

/** A leaf at an already-used path replaces the earlier one, as a duplicate key does in EventBridge. */
function placeLeaf(
  test: ObjectTest,
  prefix: readonly string[],
  segments: string[],
  leaf: LeafTest,
): void {
  fieldAt(test, prefix, segments).leaf = leaf;
}

function placeObject(
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

// ---------------------------------------------------------------------------------------------
// Value tests

function equalsTest(expected: Scalar): ValueTest {
  return (probe) => probe.value === expected;
}

function prefixTest(prefix: string): ValueTest {
  return (probe) => typeof probe.value === 'string' && probe.value.startsWith(prefix);
}

function suffixTest(suffix: string): ValueTest {
  return (probe) => typeof probe.value === 'string' && probe.value.endsWith(suffix);
}

function equalsIgnoreCaseTest(expected: string): ValueTest {
  const folded = expected.toLowerCase();
  return (probe) => typeof probe.value === 'string' && probe.lower() === folded;
}

/** `prefix` or `suffix`: a string, or `{"equals-ignore-case": string}` for either. */
function affixOperator(name: 'prefix' | 'suffix', arg: unknown): ValueTest {
  if (typeof arg === 'string') return name === 'prefix' ? prefixTest(arg) : suffixTest(arg);
  const keys = isPlainObject(arg) ? Object.keys(arg) : [];
  const text = isPlainObject(arg) ? arg['equals-ignore-case'] : undefined;
  if (keys.length !== 1 || typeof text !== 'string')
    reject(`${name} match pattern must be a string`);
  const folded = text.toLowerCase();
  return name === 'prefix'
    ? (probe) => typeof probe.value === 'string' && probe.lower().startsWith(folded)
    : (probe) => typeof probe.value === 'string' && probe.lower().endsWith(folded);
}

interface NumericRange {
  readonly min: number;
  readonly minInclusive: boolean;
  readonly max: number;
  readonly maxInclusive: boolean;
}

function numericTest(range: NumericRange): ValueTest {
  return ({ value }) =>
    typeof value === 'number' &&
    (range.minInclusive ? value >= range.min : value > range.min) &&
    (range.maxInclusive ? value <= range.max : value < range.max);
}

/** `["=", n]`, `[">"|">=", n]`, `["<"|"<=", n]` or `[">"|">=", n, "<"|"<=", m]`. */
function parseNumericRange(arg: unknown): NumericRange {
  if (!isArray(arg)) reject('Value of numeric must be an array.');
  const [op, value, topOp, top] = arg;
  if (typeof op !== 'string') reject(`Invalid member in numeric match: ${describe(op)}`);
  const lower = op === '>' || op === '>=';
  if (op !== '=' && !lower && op !== '<' && op !== '<=')
    reject(`Unrecognized numeric range operator: ${op}`);
  if (typeof value !== 'number') reject(`Value of ${op === '=' ? 'equals' : op} must be numeric`);
  if (op === '=' || !lower) {
    if (arg.length > 2) reject('Too many elements in numeric expression');
    if (op === '=') return { min: value, minInclusive: true, max: value, maxInclusive: true };
    return { min: -Infinity, minInclusive: false, max: value, maxInclusive: op === '<=' };
  }
  const bottom = { min: value, minInclusive: op === '>=' };
  if (arg.length === 2) return { ...bottom, max: Infinity, maxInclusive: false };
  if (typeof topOp !== 'string') reject(`Bad value in numeric range: ${describe(topOp)}`);
  if (topOp !== '<' && topOp !== '<=') reject(`Bad numeric range operator: ${topOp}`);
  if (typeof top !== 'number') reject(`Value of ${topOp} must be numeric`);
  if (arg.length > 4) reject('Too many terms in numeric range expression');
  if (!(value < top)) reject('Bottom must be less than top');
  return { ...bottom, max: top, maxInclusive: topOp === '<=' };
}

function describe(value: unknown): string {
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : typeof value;
}

// ---------------------------------------------------------------------------------------------
// Wildcards: `*` is any run (possibly empty), `\*` a star, `\\` a backslash.

interface Glob {
  /** Literal text between stars: one piece when there is no star. */
  readonly pieces: readonly string[];
  /** Knuth-Morris-Pratt failure tables of the pieces between stars. */
  readonly tables: ReadonlyArray<Int32Array>;
  /** The pattern as tokens for the complexity analysis: a character, or null for `*`. */
  readonly tokens: ReadonlyArray<string | null>;
}

function parseGlob(text: string): Glob {
  const tokens: Array<string | null> = [];
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charAt(i);
    if (c === '*') {
      if (tokens.at(-1) === null) reject(`Consecutive wildcard characters at pos ${i}`);
      tokens.push(null);
    } else if (c === '\\') {
      const next = text.charAt(i + 1);
      if (next !== '*' && next !== '\\') reject(`Invalid escape character at pos ${i}`);
      tokens.push(next);
      i += 1;
    } else tokens.push(c);
  }
  const pieces: string[] = [''];
  for (const token of tokens)
    if (token === null) pieces.push('');
    else pieces[pieces.length - 1] += token;
  return { pieces, tables: pieces.map(failureTable), tokens };
}

/**
 * Greedy glob matching: the first piece is a prefix, the last a suffix, and each piece between
 * stars is found leftmost after the previous one, which is correct because a star absorbs
 * anything. With KMP each search scans forward only, so the whole match is linear.
 */
function globMatches(glob: Glob, value: string): boolean {
  const { pieces } = glob;
  const first = pieces[0] ?? '';
  if (pieces.length === 1) return value === first;
  const last = pieces[pieces.length - 1] ?? '';
  const end = value.length - last.length;
  if (end < first.length || !value.startsWith(first) || !value.endsWith(last)) return false;
  let cursor = first.length;
  for (let i = 1; i < pieces.length - 1; i += 1) {
    const found = indexOfWithin(
      value,
      pieces[i] ?? '',
      glob.tables[i] ?? new Int32Array(),
      cursor,
      end,
    );
    if (found < 0) return false;
    cursor = found + (pieces[i] ?? '').length;
  }
  return true;
}

function failureTable(piece: string): Int32Array {
  const table = new Int32Array(piece.length);
  let k = 0;
  for (let i = 1; i < piece.length; i += 1) {
    while (k > 0 && piece[i] !== piece[k]) k = table[k - 1] ?? 0;
    if (piece[i] === piece[k]) k += 1;
    table[i] = k;
  }
  return table;
}

/** Index of `piece` in `value[from, to)`, or -1; linear in the span scanned (KMP). */
function indexOfWithin(
  value: string,
  piece: string,
  table: Int32Array,
  from: number,
  to: number,
): number {
  if (piece.length === 0) return from;
  let k = 0;
  for (let i = from; i < to; i += 1) {
    while (k > 0 && value[i] !== piece[k]) k = table[k - 1] ?? 0;
    if (value[i] === piece[k]) k += 1;
    if (k === piece.length) return i - k + 1;
  }
  return -1;
}

/**
 * How many positions after a `*` a worst-case value can keep alive at once, across all the
 * wildcards of one field: EventBridge's measure of how hard a rule is to match. Explores the
 * sets of positions that values can reach (a subset construction), stopping as soon as the
 * answer is over the limit or the exploration outgrows its budget.
 */
function wildcardComplexity(globs: readonly Glob[]): number {
  const nfa = new WildcardNfa(globs.filter((glob) => glob.tokens.includes(null)));
  const first = nfa.closure(nfa.starts);
  const seen = new Set([first.join()]);
  const pending = [first];
  let worst = 0;
  for (let steps = 0; pending.length > 0; steps += 1) {
    if (steps > MAX_WILDCARD_ANALYSIS_STEPS) return Infinity;
    const state = pending.pop() ?? [];
    worst = Math.max(worst, state.filter((p) => nfa.afterStar[p]).length);
    if (worst > MAX_WILDCARD_COMPLEXITY) return worst;
    for (const next of nfa.successors(state)) {
      const key = next.join();
      if (next.length > 0 && !seen.has(key)) {
        seen.add(key);
        pending.push(next);
      }
    }
  }
  return worst;
}

/** The wildcards of one field as one automaton over positions; a position awaits a token. */
class WildcardNfa {
  /** Per position: the character awaited, null for a star (loops), undefined at a glob's end. */
  readonly tokens: Array<string | null | undefined> = [];
  /** Per position: whether a star comes at or before it in its glob. */
  readonly afterStar: boolean[] = [];
  readonly starts: number[] = [];

  constructor(globs: readonly Glob[]) {
    for (const glob of globs) {
      this.starts.push(this.tokens.length);
      let seenStar = false;
      for (const token of [...glob.tokens, undefined]) {
        seenStar ||= token === null;
        this.tokens.push(token);
        this.afterStar.push(seenStar);
      }
    }
  }

  /** The positions, plus those a star lets a value skip to without reading anything. */
  closure(positions: Iterable<number>): number[] {
    const set = new Set<number>();
    for (let p of positions) {
      set.add(p);
      while (this.tokens[p] === null) set.add((p += 1));
    }
    return [...set].sort((a, b) => a - b);
  }

  /** The states one more character leads to: one per awaited character, one for any other. */
  successors(state: readonly number[]): number[][] {
    const stars = state.filter((p) => this.tokens[p] === null);
    const byCharacter = new Map<string, number[]>();
    for (const p of state) {
      const token = this.tokens[p];
      if (typeof token !== 'string') continue;
      const moved = byCharacter.get(token) ?? [];
      moved.push(p + 1);
      byCharacter.set(token, moved);
    }
    return [
      ...[...byCharacter.values()].map((moved) => this.closure([...stars, ...moved])),
      this.closure(stars),
    ];
  }
}

// ---------------------------------------------------------------------------------------------
// CIDR blocks and IP addresses

interface IpBlock {
  readonly bytes: Uint8Array;
  readonly prefixBits: number;
}

function parseCidr(text: string): IpBlock {
  const parts = text.split('/');
  if (parts.length !== 2) reject("Malformed CIDR, one '/' required");
  const [address = '', mask = ''] = parts;
  if (!isDigits(mask, 3)) reject('Malformed CIDR, mask bits must be an integer');
  const bytes = parseIp(address) ?? reject(`Nonstandard IP address: ${address}`);
  const prefixBits = Number(mask);
  if (prefixBits > bytes.length * 8)
    reject(`Malformed CIDR, mask bits must be at most ${bytes.length * 8}`);
  return { bytes, prefixBits };
}

function cidrTest(block: IpBlock): ValueTest {
  return ({ value }) => {
    if (typeof value !== 'string') return false;
    const bytes = parseIp(value);
    return bytes !== undefined && bytes.length === block.bytes.length && sharesPrefix(bytes, block);
  };
}

function sharesPrefix(bytes: Uint8Array, block: IpBlock): boolean {
  for (let bit = 0; bit < block.prefixBits; bit += 8) {
    const keep = Math.min(8, block.prefixBits - bit);
    const mask = (0xff << (8 - keep)) & 0xff;
    if (((bytes[bit / 8] ?? 0) & mask) !== ((block.bytes[bit / 8] ?? 0) & mask)) return false;
  }
  return true;
}

/** An IPv4 (4 bytes) or IPv6 (16 bytes) address in its textual forms, or undefined. */
function parseIp(text: string): Uint8Array | undefined {
  if (text.length > 45) return undefined; // longest IPv6 text; also spares huge record strings
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((part) => isDigits(part, 3) && Number(part) <= 255))
    return undefined;
  return Uint8Array.from(parts, Number);
}

function parseIpv6(text: string): Uint8Array | undefined {
  if (text.includes('.') && text.lastIndexOf(':') > text.indexOf('.')) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = halves.map((half) => (half === '' ? [] : half.split(':')));
  const words = groups.map((list) => list.flatMap(ipv6Words));
  if (words.some((list) => list.includes(-1))) return undefined;
  const [head = [], tail = []] = words;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 1 ? 0 : missing).fill(0), ...tail];
  return Uint8Array.from(all.flatMap((word) => [word >> 8, word & 0xff]));
}

/** One colon-separated group: a 16-bit hex word, or a dotted IPv4 tail as two words; -1 if bad. */
function ipv6Words(group: string): number[] {
  if (group.includes('.')) {
    const v4 = parseIpv4(group);
    return v4 ? [((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0)] : [-1];
  }
  if (group.length < 1 || group.length > 4) return [-1];
  for (const c of group) if (!'0123456789abcdefABCDEF'.includes(c)) return [-1];
  return [parseInt(group, 16)];
}

function isDigits(text: string, maxLength: number): boolean {
  if (text.length === 0 || text.length > maxLength) return false;
  for (const c of text) if (c < '0' || c > '9') return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Records

/**
 * A record as matching sees it: objects become maps with dotted keys expanded (so `{"a.b": 1}`
 * reads like `{"a": {"b": 1}}`), arrays stay arrays, and anything that is not JSON is dropped.
 */
type RecordNode = Scalar | RecordObject | RecordNode[];
type RecordObject = Map<string, RecordNode>;

/** Reads `record` only as deep as `depth` path segments reach; throws past the node budget. */
function readRecord(record: unknown, depth: number): RecordNode | undefined {
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

// ---------------------------------------------------------------------------------------------
// Matching

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

// ---------------------------------------------------------------------------------------------

function isScalar(value: unknown): value is Scalar {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  );
}

function isArray(value: unknown): value is unknown[] {
  return Array.isArray(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
