/**
 * The arithmetic part of CloudWatch's metric math: numbers, the Ids of other queries, `+ - * /`,
 * `^`, unary minus and parentheses (`100*err/inv`, `(a+b)/2`). Two series combine at the
 * timestamps both have; a series and a number at every timestamp of the series; a result that is
 * not a finite number (a division by zero) leaves that timestamp out. Functions (`SUM(…)`,
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

type Token =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'symbol'; readonly symbol: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  TOKEN_RE.lastIndex = 0;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
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

/**
 * Evaluates `expression` with the series `lookup` gives for each Id (every Id must be known).
 * Throws MathError when the result is a single number rather than a series.
 */
export function evaluateMath(
  expression: MathExpression,
  lookup: (id: string) => TimeSeries,
): TimeSeries {
  const result = evaluate(expression, lookup);
  if (typeof result === 'number')
    throw new MathError('The expression must refer to at least one metric Id.');
  return result;
}

function evaluate(e: MathExpression, lookup: (id: string) => TimeSeries): TimeSeries | number {
  switch (e.kind) {
    case 'number':
      return e.value;
    case 'id':
      return lookup(e.id);
    case 'negate':
      return combine(0, evaluate(e.operand, lookup), (_, b) => -b);
    case 'binary':
      return combine(evaluate(e.left, lookup), evaluate(e.right, lookup), OPERATIONS[e.operator]);
  }
}

const OPERATIONS: Record<'+' | '-' | '*' | '/' | '^', (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '^': (a, b) => a ** b,
};

function combine(
  left: TimeSeries | number,
  right: TimeSeries | number,
  operation: (a: number, b: number) => number,
): TimeSeries | number {
  if (typeof left === 'number' && typeof right === 'number') return operation(left, right);
  const out = new Map<number, number>();
  const put = (timestamp: number, value: number) => {
    if (Number.isFinite(value)) out.set(timestamp, value);
  };
  if (typeof left === 'number') {
    for (const [t, b] of right as TimeSeries) put(t, operation(left, b));
  } else if (typeof right === 'number') {
    for (const [t, a] of left) put(t, operation(a, right));
  } else {
    for (const [t, a] of left) {
      const b = right.get(t);
      if (b !== undefined) put(t, operation(a, b));
    }
  }
  return out;
}
