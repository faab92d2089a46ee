/**
 * The arithmetic part of CloudWatch's metric math: numbers, the Ids of other queries, `+ - * /`,
 * `^`, unary minus and parentheses (`100*err/inv`, `(a+b)/2`). Two series combine at the
 * timestamps both have; a series and a number at every timestamp of the series; a result that is
 * not a finite number (a division by zero) leaves that timestamp out. An expression is compiled
 * into one function evaluated once per timestamp, with no series made for its parts. Functions (`SUM(…)`,
 * `METRICS()`, `FILL(…)`…) and Metrics Insights queries are refused with a message naming them.
 */

export type MathExpression =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'id'; readonly id: string }
  | { readonly kind: 'negate'; readonly operand: MathExpression }
  | {
      readonly kind: 'binary';
      readonly operator: '+' | '-' | '*' | '/' | '^';
      readonly left: MathExpression;
      readonly right: MathExpression;
    };

/** A time series: timestamp (epoch ms) → value. */
export type TimeSeries = ReadonlyMap<number, number>;

/** Deepest nesting of parentheses and unary minus taken. */
const MAX_DEPTH = 64;

/** Thrown for an expression that cannot be parsed or evaluated; the message says why. */
export class MathError extends Error {}

const TOKEN_RE =
  /\s*(?:(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|([-+*/^()]))/y;

const TRAILING_SPACE_RE = /\s*$/y;

type Token =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'symbol'; readonly symbol: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  TOKEN_RE.lastIndex = 0;
  let at = 0;
  while (at < text.length) {
    // Only spaces left? Checked where the scan is, not on a copy of the rest (that was quadratic).
    TRAILING_SPACE_RE.lastIndex = at;
    if (TRAILING_SPACE_RE.test(text)) break;
    TOKEN_RE.lastIndex = at;
    const match = TOKEN_RE.exec(text);
    if (match === null) throw new MathError(`Unexpected character at position ${at + 1}.`);
    at = TOKEN_RE.lastIndex;
    if (match[1] !== undefined) tokens.push({ kind: 'number', value: Number(match[1]) });
    else if (match[2] !== undefined) tokens.push({ kind: 'name', name: match[2] });
    else tokens.push({ kind: 'symbol', symbol: match[3] ?? '' });
  }
  return tokens;
}

/** Parses `text`, or throws MathError. */
export function parseMathExpression(text: string): MathExpression {
  const tokens = tokenize(text);
  let at = 0;
  const peek = (): Token | undefined => tokens[at];
  const isSymbol = (symbol: string) => {
    const token = peek();
    return token?.kind === 'symbol' && token.symbol === symbol;
  };

  const sum = (depth: number): MathExpression => {
    let left = product(depth);
    while (isSymbol('+') || isSymbol('-')) {
      const operator = (tokens[at++] as { symbol: '+' | '-' }).symbol;
      left = { kind: 'binary', operator, left, right: product(depth) };
    }
    return left;
  };
  const product = (depth: number): MathExpression => {
    let left = power(depth);
    while (isSymbol('*') || isSymbol('/')) {
      const operator = (tokens[at++] as { symbol: '*' | '/' }).symbol;
      left = { kind: 'binary', operator, left, right: power(depth) };
    }
    return left;
  };
  const power = (depth: number): MathExpression => {
    const base = unary(depth);
    if (!isSymbol('^')) return base;
    at += 1;
    return { kind: 'binary', operator: '^', left: base, right: power(depth + 1) };
  };
  const unary = (depth: number): MathExpression => {
    if (depth > MAX_DEPTH) throw new MathError('The expression is nested too deeply.');
    if (isSymbol('-')) {
      at += 1;
      return { kind: 'negate', operand: unary(depth + 1) };
    }
    if (isSymbol('+')) {
      at += 1;
      return unary(depth + 1);
    }
    return primary(depth);
  };
  const primary = (depth: number): MathExpression => {
    const token = peek();
    if (token === undefined) throw new MathError('The expression ends too early.');
    at += 1;
    if (token.kind === 'number') return { kind: 'number', value: token.value };
    if (token.kind === 'name') {
      if (isSymbol('('))
        throw new MathError(`The function ${token.name} is not supported (only + - * / ^ on Ids).`);
      return { kind: 'id', id: token.name };
    }
    if (token.symbol === '(') {
      const inner = sum(depth + 1);
      if (!isSymbol(')')) throw new MathError('A parenthesis is not closed.');
      at += 1;
      return inner;
    }
    throw new MathError(`Unexpected '${token.symbol}'.`);
  };

  if (tokens.length === 0) throw new MathError('The expression is empty.');
  const expression = sum(0);
  const rest = peek();
  if (rest !== undefined)
    throw new MathError(
      `Unexpected '${rest.kind === 'number' ? rest.value : rest.kind === 'name' ? rest.name : rest.symbol}'.`,
    );
  return expression;
}

/** The Ids an expression names. */
export function referencedIds(expression: MathExpression): Set<string> {
  const ids = new Set<string>();
  const walk = (e: MathExpression): void => {
    if (e.kind === 'id') ids.add(e.id);
    else if (e.kind === 'negate') walk(e.operand);
    else if (e.kind === 'binary') {
      walk(e.left);
      walk(e.right);
    }
  };
  walk(expression);
  return ids;
}

/** An expression made ready to evaluate: one pass over the timestamps, no series in between. */
export interface CompiledMath {
  /** The Ids it names, each once: `evaluate` takes their series in this order. */
  readonly ids: readonly string[];
  /** The operations per timestamp (numbers, Ids, operators): its cost is this × the datapoints. */
  readonly operations: number;
  /** The result over the series of `ids`; throws MathError when it names no Id. */
  evaluate(series: readonly TimeSeries[]): TimeSeries;
  /**
   * Adds the results at some of the timestamps `mathTimestamps` gives to `out` (a caller gives
   * the event loop back between slices); throws MathError when it names no Id.
   */
  evaluateAt(
    series: readonly TimeSeries[],
    timestamps: readonly number[],
    out: Map<number, number>,
  ): void;
}

/**
 * A compiled part: a number (parts without an Id are worked out once), or a function of the Ids'
 * values at one timestamp giving NaN where the old series-by-series evaluation would have left
 * the timestamp out (a result that is not finite drops it from every part above).
 */
type Part = number | ((values: Float64Array) => number);

/** Compiles `expression`. */
export function compileMath(expression: MathExpression): CompiledMath {
  const ids: string[] = [];
  const slotOf = new Map<string, number>();
  let operations = 0;
  const compile = (e: MathExpression): Part => {
    operations += 1;
    switch (e.kind) {
      case 'number':
        return e.value;
      case 'id': {
        let slot = slotOf.get(e.id);
        if (slot === undefined) {
          slot = ids.length;
          ids.push(e.id);
          slotOf.set(e.id, slot);
        }
        const at = slot;
        return (values) => values[at] ?? NaN;
      }
      case 'negate': {
        const operand = compile(e.operand);
        if (typeof operand === 'number') return -operand;
        return (values) => -operand(values);
      }
      case 'binary':
        return combineParts(compile(e.left), compile(e.right), OPERATIONS[e.operator]);
    }
  };
  const root = compile(expression);
  return {
    ids,
    operations,
    evaluate(series: readonly TimeSeries[]): TimeSeries {
      const out = new Map<number, number>();
      this.evaluateAt(series, mathTimestamps(series), out);
      return out;
    },
    evaluateAt(series, timestamps, out): void {
      if (typeof root === 'number' || series.length === 0)
        throw new MathError('The expression must refer to at least one metric Id.');
      const values = new Float64Array(series.length);
      for (const timestamp of timestamps) {
        let complete = true;
        for (let i = 0; i < series.length; i += 1) {
          const value = series[i]?.get(timestamp);
          if (value === undefined) {
            complete = false;
            break;
          }
          values[i] = value;
        }
        if (!complete) continue;
        const result = root(values);
        if (Number.isFinite(result)) out.set(timestamp, result);
      }
    },
  };
}

/** The timestamps an expression over `series` is evaluated at: the smallest series' (the result has the timestamps every Id has). */
export function mathTimestamps(series: readonly TimeSeries[]): number[] {
  if (series.length === 0) return [];
  return [...series.reduce((a, b) => (b.size < a.size ? b : a)).keys()];
}

/** The datapoints `compiled` walks over `series` (its cost is this × its operations). */
export function mathDatapoints(series: readonly TimeSeries[]): number {
  return series.reduce((least, s) => Math.min(least, s.size), series.length === 0 ? 0 : Infinity);
}

function combineParts(left: Part, right: Part, operation: (a: number, b: number) => number): Part {
  if (typeof left === 'number') {
    if (typeof right === 'number') return operation(left, right);
    return (values) => {
      const b = right(values);
      return b !== b ? NaN : finiteOrNaN(operation(left, b));
    };
  }
  if (typeof right === 'number')
    return (values) => {
      const a = left(values);
      return a !== a ? NaN : finiteOrNaN(operation(a, right));
    };
  return (values) => {
    const a = left(values);
    const b = right(values);
    return a !== a || b !== b ? NaN : finiteOrNaN(operation(a, b));
  };
}

function finiteOrNaN(value: number): number {
  return Number.isFinite(value) ? value : NaN;
}

/**
 * Evaluates `expression` with the series `lookup` gives for each Id (every Id must be known).
 * Throws MathError when the result is a single number rather than a series.
 */
export function evaluateMath(
  expression: MathExpression,
  lookup: (id: string) => TimeSeries,
): TimeSeries {
  const compiled = compileMath(expression);
  return compiled.evaluate(compiled.ids.map(lookup));
}

const OPERATIONS: Record<'+' | '-' | '*' | '/' | '^', (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '^': (a, b) => a ** b,
};
