/**
 * Compiling one event-filter pattern: JSON text in the EventBridge event-pattern language,
 * validated and turned into the tree of `event-filter-tree.ts`. Every rejection carries
 * EventBridge's own reason (`InvalidEventPatternException`), including its wording where AWS's
 * is odd, because callers log it. The operators' arguments are parsed by their own modules
 * (`event-filter-values.ts`, `-numeric.ts`, `-cidr.ts`, `-wildcard.ts`); this one walks the
 * pattern, applies `$or` and `anything-but`, and enforces the limits, because patterns are
 * hostile: at most 4096 characters (Lambda's own limit), 32 levels of brackets (checked on the
 * text before parsing, so nothing here recurses deeper), 32 segments in a path, 1024 leaf values,
 * and wildcards no more complex than `event-filter-wildcard-complexity.ts` allows.
 */
import { rejectPattern } from './event-filter-error.js';
import { cidrTest, parseCidr } from './event-filter-cidr.js';
import { numericTest, parseNumericRange } from './event-filter-numeric.js';
import {
  placeLeaf,
  placeObject,
  type CompiledPattern,
  type LeafTest,
  type ObjectTest,
} from './event-filter-tree.js';
import {
  affixOperator,
  equalsIgnoreCaseTest,
  equalsTest,
  isArray,
  isPlainObject,
  isScalar,
  prefixTest,
  suffixTest,
  type ValueTest,
} from './event-filter-values.js';
import { globTest, parseGlob, type Glob } from './event-filter-wildcard.js';
import { MAX_WILDCARD_COMPLEXITY, wildcardComplexity } from './event-filter-wildcard-complexity.js';
import { nestingDepth } from './json-depth.js';

/** Longest pattern text, in characters (Lambda's own limit). */
const MAX_PATTERN_CHARS = 4096;
/** Deepest bracket nesting of the pattern text. */
const MAX_PATTERN_NESTING = 32;
/** Most segments in one field path, counting the dotted parts of keys. */
const MAX_PATH_SEGMENTS = 32;
/** Most leaf values in one pattern, `anything-but` lists included. */
const MAX_PATTERN_VALUES = 1024;

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

/** Validates and compiles one pattern text; throws FilterPatternError with the reason. */
export function compilePattern(text: string): CompiledPattern {
  if (typeof text !== 'string') rejectPattern('Pattern must be a string');
  if (text.length > MAX_PATTERN_CHARS)
    rejectPattern(`Pattern is longer than ${MAX_PATTERN_CHARS} characters`);
  // Checked on the text first, so no step below recurses deeper than this.
  if (nestingDepth(text) > MAX_PATTERN_NESTING)
    rejectPattern(`Pattern nests deeper than ${MAX_PATTERN_NESTING} levels`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    rejectPattern('Pattern is not valid JSON');
  }
  if (!isPlainObject(json)) rejectPattern('Filter is not an object');
  const compiler = new PatternCompiler();
  const root = compiler.object(json, [], false);
  compiler.checkWildcardComplexity();
  return { root, depth: compiler.depth };
}

/** Walks one pattern, counting its values and collecting each field's wildcards as it goes. */
class PatternCompiler {
  depth = 0;
  private values = 0;
  /** Wildcards per field path: EventBridge rates their complexity together. */
  private readonly wildcards = new Map<string, Glob[]>();

  object(json: Record<string, unknown>, prefix: readonly string[], insideOr: boolean): ObjectTest {
    const entries = Object.entries(json);
    if (entries.length === 0) rejectPattern('Empty objects are not allowed');
    const test: ObjectTest = { fields: new Map(), anyOf: [] };
    for (const [key, value] of entries) {
      if (key === '$or') {
        test.anyOf.push(this.or(value, prefix));
        continue;
      }
      if (insideOr && RESERVED_IN_OR.has(key))
        rejectPattern(`${key} is Ruler reserved fieldName which cannot be used inside $or.`);
      const segments = key.split('.');
      const path = [...prefix, ...segments];
      if (path.length > MAX_PATH_SEGMENTS)
        rejectPattern(`Pattern paths are limited to ${MAX_PATH_SEGMENTS} keys`);
      this.depth = Math.max(this.depth, path.length);
      if (isArray(value)) placeLeaf(test, prefix, segments, this.leaf(value, path));
      else if (isPlainObject(value))
        placeObject(test, prefix, segments, this.object(value, path, insideOr));
      else rejectPattern(`"${key}" must be an object or an array`);
    }
    return test;
  }

  private or(value: unknown, prefix: readonly string[]): ObjectTest[] {
    if (!isArray(value)) rejectPattern('It must be an Array followed with $or.');
    const branches = value.map((branch) => {
      if (!isPlainObject(branch))
        rejectPattern('Only JSON object is allowed in array of $or relationship.');
      return this.object(branch, prefix, true);
    });
    if (branches.length < 2)
      rejectPattern('There must have at least 2 Objects in $or relationship.');
    return branches;
  }

  private leaf(values: unknown[], path: readonly string[]): LeafTest {
    if (values.length === 0) rejectPattern('Empty arrays are not allowed');
    const tests: ValueTest[] = [];
    let absentPasses = false;
    for (const value of values) {
      this.count(1);
      if (isScalar(value)) tests.push(equalsTest(value));
      else if (isPlainObject(value)) {
        const test = this.operator(value, path);
        if (test === 'absent') absentPasses = true;
        else tests.push(test);
      } else rejectPattern('Match value must be String, number, true, false, or null');
    }
    return { tests, absentPasses };
  }

  private operator(json: Record<string, unknown>, path: readonly string[]): ValueTest | 'absent' {
    const keys = Object.keys(json);
    const name = keys[0];
    if (name === undefined) rejectPattern('Match expression name not found');
    const test = this.operatorTest(name, json[name], path);
    if (keys.length > 1) rejectPattern('Only one key allowed in match expression');
    return test;
  }

  private operatorTest(name: string, arg: unknown, path: readonly string[]): ValueTest | 'absent' {
    switch (name) {
      case 'prefix':
      case 'suffix':
        return affixOperator(name, arg);
      case 'equals-ignore-case':
        if (typeof arg !== 'string')
          rejectPattern('equals-ignore-case match pattern must be a string');
        return equalsIgnoreCaseTest(arg);
      case 'wildcard':
        if (typeof arg !== 'string') rejectPattern('wildcard match pattern must be a string');
        return this.wildcard(arg, path);
      case 'numeric':
        return numericTest(parseNumericRange(arg));
      case 'anything-but':
        return this.anythingBut(arg, path);
      case 'exists':
        if (typeof arg !== 'boolean')
          rejectPattern('exists match pattern must be either true or false.');
        return arg ? () => true : 'absent';
      case 'cidr':
        // EventBridge's own wording for a cidr that is not a string.
        if (typeof arg !== 'string') rejectPattern('prefix match pattern must be a string');
        return cidrTest(parseCidr(arg));
      default:
        rejectPattern(`Unrecognized match type ${name}`);
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
    if (!isPlainObject(arg)) rejectPattern(ANYTHING_BUT_SHAPE);
    const keys = Object.keys(arg);
    const name = keys[0];
    if (name === undefined) rejectPattern('Anything-But expression name not found');
    const tests = this.excludedByOperator(name, arg[name], path);
    if (keys.length > 1) rejectPattern('Only one key allowed in match expression');
    return tests;
  }

  private anythingButList(items: unknown[]): ValueTest[] {
    this.count(items.length);
    for (const item of items)
      if (typeof item !== 'string' && typeof item !== 'number')
        rejectPattern('Inside anything but list, start|null|boolean is not supported.');
    const strings = items.filter((item) => typeof item === 'string').length;
    if (items.length === 0 || (strings !== 0 && strings !== items.length))
      rejectPattern(
        'Inside anything but list, either all values are number or string, mixed type is not supported',
      );
    return (items as Array<string | number>).map(equalsTest);
  }

  private excludedByOperator(name: string, arg: unknown, path: readonly string[]): ValueTest[] {
    switch (name) {
      case 'prefix':
      case 'suffix':
        return this.stringList(arg, 'prefix/suffix match pattern must be a string').map((text) => {
          if (text === '') rejectPattern('Null prefix/suffix not allowed');
          return name === 'prefix' ? prefixTest(text) : suffixTest(text);
        });
      case 'equals-ignore-case':
        if (typeof arg === 'number' || (isArray(arg) && arg.some((v) => typeof v !== 'string')))
          rejectPattern(
            'Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.',
          );
        return this.stringList(arg, ANYTHING_BUT_SHAPE).map(equalsIgnoreCaseTest);
      case 'wildcard':
        return this.stringList(arg, 'wildcard match pattern must be a string').map((text) =>
          this.wildcard(text, path),
        );
      default:
        rejectPattern(`Unsupported anything-but pattern: ${name}`);
    }
  }

  /** A string or a non-empty list of strings, as `anything-but`'s operators take. */
  private stringList(arg: unknown, notString: string): string[] {
    if (typeof arg === 'string') return [arg];
    if (isPlainObject(arg)) rejectPattern(ANYTHING_BUT_SHAPE);
    if (!isArray(arg)) rejectPattern(notString);
    if (arg.length === 0) rejectPattern('Empty arrays are not allowed');
    this.count(arg.length);
    return arg.map((item) => (typeof item === 'string' ? item : rejectPattern(notString)));
  }

  private wildcard(text: string, path: readonly string[]): ValueTest {
    const glob = parseGlob(text);
    const key = JSON.stringify(path);
    const globs = this.wildcards.get(key) ?? [];
    globs.push(glob);
    this.wildcards.set(key, globs);
    return globTest(glob);
  }

  checkWildcardComplexity(): void {
    for (const globs of this.wildcards.values())
      if (wildcardComplexity(globs) > MAX_WILDCARD_COMPLEXITY)
        rejectPattern(
          'Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character',
        );
  }

  private count(values: number): void {
    this.values += values;
    if (this.values > MAX_PATTERN_VALUES)
      rejectPattern(`Pattern has more than ${MAX_PATTERN_VALUES} values`);
  }
}
