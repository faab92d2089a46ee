/**
 * Lambda event filtering: every outcome AWS recorded (EventBridge TestEventPattern and Lambda
 * event source mappings, copied into fixtures/event-filter-cases.json), then each operator,
 * invalid patterns, limits and hostile records.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { compileFilter, compileFilters, FilterPatternError } from '../../src/core/event-filter.js';

interface EventBridgeCase {
  readonly test: string;
  readonly name: string;
  readonly pattern: unknown;
  readonly event: unknown;
  readonly expected: 'match' | 'no-match' | 'exception';
  readonly error?: string;
}

interface LambdaCase {
  readonly test: string;
  readonly event_source: 'sqs' | 'dynamodb' | 'kinesis' | 'api';
  readonly pattern_text?: string;
  readonly patterns_text?: string[];
  readonly filters?: string[];
  readonly invalid_filter?: unknown;
  readonly item_not_matching?: unknown;
  readonly item_to_put1?: Record<string, unknown>;
  readonly item_to_put2?: Record<string, unknown>;
  readonly calls?: number;
  readonly delivered?: Array<Record<string, unknown>>;
  readonly delivered_to_first?: unknown[];
}

interface Fixture {
  readonly eventbridge: EventBridgeCase[];
  readonly lambda: LambdaCase[];
}

// Tests run from the repository root (`node --test dist/test/unit/…`).
const fixturePath = join(process.cwd(), 'test', 'unit', 'fixtures', 'event-filter-cases.json');
const fixture = JSON.parse(readFileSync(fixturePath, 'utf8')) as Fixture;
const referencePath = join(
  process.cwd(),
  '..',
  'shared',
  'reference',
  'aws-recorded',
  'filter-criteria.json',
);

const matches = (pattern: unknown, record: unknown): boolean =>
  compileFilter(JSON.stringify(pattern)).matches(record);

/** Asserts that `pattern` is refused, with `reason` when given. */
function assertRejected(pattern: string, reason?: string | RegExp): void {
  assert.throws(
    () => compileFilter(pattern),
    (error: unknown) => {
      assert.ok(error instanceof FilterPatternError, `not a FilterPatternError: ${String(error)}`);
      if (typeof reason === 'string') assert.equal(error.message, reason);
      else if (reason) assert.match(error.message, reason);
      return true;
    },
    pattern.slice(0, 80),
  );
}

test(
  'the fixture holds every case of the recorded reference (when the reference is present)',
  {
    skip: !existsSync(referencePath) && 'reference folder absent',
  },
  () => {
    const reference = JSON.parse(readFileSync(referencePath, 'utf8')) as {
      cases: Array<{ test: string }>;
    };
    const copied = new Set([...fixture.eventbridge, ...fixture.lambda].map((c) => c.test));
    assert.deepEqual(
      reference.cases.map((c) => c.test).filter((name) => !copied.has(name)),
      [],
    );
    assert.equal(fixture.eventbridge.length + fixture.lambda.length, reference.cases.length);
  },
);

for (const c of fixture.eventbridge)
  test(`EventBridge recorded: ${c.name} → ${c.expected}`, () => {
    const text = JSON.stringify(c.pattern);
    if (c.expected === 'exception') assertRejected(text, c.error);
    else assert.equal(compileFilter(text).matches(c.event), c.expected === 'match');
  });

test('Lambda recorded: SQS filters pass the message that reached the function, not the other', () => {
  const cases = fixture.lambda.filter((c) => c.event_source === 'sqs' && c.delivered);
  assert.equal(cases.length, 9);
  for (const c of cases) {
    const filter = compileFilter(c.pattern_text ?? '');
    const delivered = c.delivered ?? [];
    assert.equal(delivered.length, 1, c.test);
    for (const record of delivered) {
      assert.equal(filter.matches(record), true, c.test);
      assert.equal(filter.matches({ ...record, body: c.item_not_matching }), false, c.test);
    }
  }
});

test('Lambda recorded: invalid SQS and DynamoDB patterns are refused', () => {
  const cases = fixture.lambda.filter((c) => c.pattern_text !== undefined && !c.delivered);
  assert.equal(cases.length, 6);
  for (const c of cases) assertRejected(c.pattern_text ?? '');
});

/** The stream records DynamoDB emits for the two puts of the upstream test. */
function streamRecords(c: LambdaCase): unknown[] {
  const first = c.item_to_put1 ?? {};
  const second = c.item_to_put2 ?? {};
  type Item = Record<string, unknown>;
  const record = (eventName: string, image: Item, old?: Item): unknown => ({
    eventName,
    eventSource: 'aws:dynamodb',
    dynamodb: {
      ApproximateCreationDateTime: 1_700_000_000,
      Keys: { id: image['id'] },
      NewImage: image,
      ...(old ? { OldImage: old } : {}),
    },
  });
  const sameKey = JSON.stringify(first['id']) === JSON.stringify(second['id']);
  // Putting an unchanged item writes no stream record.
  if (sameKey && JSON.stringify(first) === JSON.stringify(second)) return [record('INSERT', first)];
  return [
    record('INSERT', first),
    sameKey ? record('MODIFY', second, first) : record('INSERT', second),
  ];
}

test('Lambda recorded: DynamoDB filters invoke the function as often as AWS did', () => {
  const cases = fixture.lambda.filter((c) => c.event_source === 'dynamodb' && c.calls);
  assert.equal(cases.length, 8);
  for (const c of cases) {
    const filter = compileFilter(c.pattern_text ?? '');
    const passed = streamRecords(c).filter((record) => filter.matches(record));
    assert.equal(passed.length, c.calls, c.test);
    for (const record of c.delivered ?? []) {
      // The recording replaced the timestamp with a placeholder; AWS sends a number.
      const dynamodb = { ...(record['dynamodb'] as object), ApproximateCreationDateTime: 1.7e9 };
      assert.equal(filter.matches({ ...record, dynamodb }), true, c.test);
    }
  }
});

test('Lambda recorded: Kinesis data routes to the mapping whose pattern names its type', () => {
  const c = fixture.lambda.find((l) => l.event_source === 'kinesis');
  const [first = '', second = ''] = c?.patterns_text ?? [];
  const data = c?.delivered_to_first?.[0];
  assert.equal(compileFilter(first).matches({ data }), true);
  assert.equal(compileFilter(second).matches({ data }), false);
});

test('Lambda recorded: an empty filter list is accepted and passes everything', () => {
  const c = fixture.lambda.find((l) => l.event_source === 'api');
  const filter = compileFilters(c?.filters ?? ['not used']);
  assert.equal(filter.matches({ anything: 1 }), true);
  assert.equal(filter.matches('not even an object'), true);
});

test('each operator, case by case', () => {
  const cases: Array<[pattern: unknown, record: unknown, expected: boolean]> = [
    // exact values: type matters, numbers compare as numbers
    [{ a: ['x'] }, { a: 'x' }, true],
    [{ a: ['x'] }, { a: 'X' }, false],
    [{ a: [300] }, JSON.parse('{"a": 300.0}'), true],
    [{ a: [300] }, { a: '300' }, false],
    [{ a: ['300'] }, { a: 300 }, false],
    [{ a: [true] }, { a: 'true' }, false],
    [{ a: [null] }, {}, false],
    [{ a: [''] }, { a: '' }, true],
    // prefix and suffix, with and without case
    [{ a: [{ prefix: 'us-' }] }, { a: 'us-east-1' }, true],
    [{ a: [{ prefix: 'us-' }] }, { a: 'US-east-1' }, false],
    [{ a: [{ prefix: { 'equals-ignore-case': 'us-' } }] }, { a: 'US-east-1' }, true],
    [{ a: [{ prefix: '1' }] }, { a: 12 }, false],
    [{ a: [{ suffix: '.png' }] }, { a: 'x.png' }, true],
    [{ a: [{ suffix: { 'equals-ignore-case': '.png' } }] }, { a: 'X.PnG' }, true],
    [{ a: [{ suffix: { 'equals-ignore-case': '.png' } }] }, { a: 'x.jpg' }, false],
    // equals-ignore-case
    [{ a: [{ 'equals-ignore-case': 'alice' }] }, { a: 'ALICE' }, true],
    [{ a: [{ 'equals-ignore-case': 'alice' }] }, { a: 'alicea' }, false],
    // anything-but
    [{ a: [{ 'anything-but': 'x' }] }, { a: 'y' }, true],
    [{ a: [{ 'anything-but': 'x' }] }, { a: 'x' }, false],
    [{ a: [{ 'anything-but': 'x' }] }, {}, false],
    [{ a: [{ 'anything-but': [1, 2] }] }, { a: 2 }, false],
    [{ a: [{ 'anything-but': [1, 2] }] }, { a: '2' }, true],
    [{ a: [{ 'anything-but': { prefix: 'us-' } }] }, { a: 'eu-west-1' }, true],
    [{ a: [{ 'anything-but': { suffix: ['.png', '.jpg'] } }] }, { a: 'x.jpg' }, false],
    [{ a: [{ 'anything-but': { 'equals-ignore-case': ['X', 'y'] } }] }, { a: 'Y' }, false],
    [{ a: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, { a: 'src/lib/x' }, false],
    [{ a: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, { a: 'src/bin/x' }, true],
    // numeric: one or two bounds, numbers only
    [{ a: [{ numeric: ['=', 301.8] }] }, { a: 301.8 }, true],
    [{ a: [{ numeric: ['<', 10] }] }, { a: 10 }, false],
    [{ a: [{ numeric: ['<=', 10] }] }, { a: 10 }, true],
    [{ a: [{ numeric: ['>', 0, '<=', 5] }] }, { a: 5 }, true],
    [{ a: [{ numeric: ['>', 0, '<=', 5] }] }, { a: 0 }, false],
    [{ a: [{ numeric: ['>=', 0, '<', 5] }] }, { a: 0 }, true],
    [{ a: [{ numeric: ['>=', -1e9] }] }, { a: -5 }, true],
    [{ a: [{ numeric: ['>', 0] }] }, { a: '5' }, false],
    // exists: leaves only, and `false` means nowhere in the record
    [{ a: [{ exists: true }] }, { a: null }, true],
    [{ a: [{ exists: true }] }, { a: { b: 1 } }, false],
    [{ a: [{ exists: false }] }, { a: { b: 1 } }, true],
    [{ a: { b: [{ exists: false }] } }, { a: [{ c: 1 }, { b: 1 }] }, false],
    [{ a: { b: [{ exists: false }] } }, { a: [] }, true],
    [{ a: { b: [{ exists: false }] } }, { a: 'scalar' }, true],
    // wildcard: `*` any run, `\*` a star
    [{ a: [{ wildcard: 'a*c' }] }, { a: 'ac' }, true],
    [{ a: [{ wildcard: 'a*c' }] }, { a: 'abbbc' }, true],
    [{ a: [{ wildcard: 'a*c' }] }, { a: 'abbbcd' }, false],
    [{ a: [{ wildcard: 'ab*ba' }] }, { a: 'aba' }, false],
    [{ a: [{ wildcard: '*b*b*' }] }, { a: 'abab' }, true],
    [{ a: [{ wildcard: 'a\\*c' }] }, { a: 'a*c' }, true],
    [{ a: [{ wildcard: 'a\\*c' }] }, { a: 'abc' }, false],
    [{ a: [{ wildcard: 'a\\\\*' }] }, { a: 'a\\xyz' }, true],
    [{ a: [{ wildcard: 'a?c' }] }, { a: 'abc' }, false],
    [{ a: [{ wildcard: '*' }] }, { a: 5 }, false],
    // cidr, IPv4 and IPv6
    [{ a: [{ cidr: '10.0.0.0/8' }] }, { a: '10.255.1.2' }, true],
    [{ a: [{ cidr: '10.0.0.0/8' }] }, { a: '11.0.0.1' }, false],
    [{ a: [{ cidr: '10.0.0.0/8' }] }, { a: '10.0.0' }, false],
    [{ a: [{ cidr: '192.168.1.7/32' }] }, { a: '192.168.1.7' }, true],
    [{ a: [{ cidr: '0.0.0.0/0' }] }, { a: '8.8.8.8' }, true],
    [{ a: [{ cidr: '0.0.0.0/0' }] }, { a: '::1' }, false],
    [{ a: [{ cidr: '2001:db8::/32' }] }, { a: '2001:DB8:0:0:1::1' }, true],
    [{ a: [{ cidr: '2001:db8::/32' }] }, { a: '2001:db9::1' }, false],
    [{ a: [{ cidr: '::ffff:0:0/96' }] }, { a: '::ffff:10.0.0.1' }, true],
    // leaf arrays OR, keys AND, record arrays match by any element
    [{ a: ['x', { prefix: 'y' }], b: [1] }, { a: 'yes', b: 1 }, true],
    [{ a: ['x', { prefix: 'y' }], b: [1] }, { a: 'yes', b: 2 }, false],
    [{ a: ['x'] }, { a: ['w', ['x']] }, true],
    [{ a: ['x'] }, { a: [] }, false],
    // nested objects and dotted keys are the same path
    [{ a: { b: { c: [1] } } }, { a: { b: { c: 1 } } }, true],
    [{ 'a.b': { c: [1] } }, { a: { 'b.c': 1 } }, true],
    [{ a: { b: [1] } }, { a: { b: { c: 1 } } }, false],
    // array consistency: fields of one pattern object come from one element
    [{ e: { first: ['Anna'], last: ['Smith'] } }, { e: [{ first: 'Anna', last: 'Smith' }] }, true],
    [
      { e: { first: ['Anna'], last: ['Jones'] } },
      { e: [{ first: 'Anna' }, { last: 'Jones' }] },
      false,
    ],
    // $or at any level, nested, combined with sibling keys
    [{ s: ['x'], $or: [{ a: [1] }, { b: [2] }] }, { s: 'x', b: 2 }, true],
    [{ s: ['x'], $or: [{ a: [1] }, { b: [2] }] }, { s: 'y', b: 2 }, false],
    [
      { d: { $or: [{ a: [1] }, { b: [2], $or: [{ c: [3] }, { e: [4] }] }] } },
      { d: { b: 2, e: 4 } },
      true,
    ],
    [
      { d: { $or: [{ a: [1] }, { b: [2], $or: [{ c: [3] }, { e: [4] }] }] } },
      { d: { b: 2, e: 5 } },
      false,
    ],
    [{ $or: [{ a: [{ exists: false }] }, { b: [1] }] }, {}, true],
  ];
  for (const [pattern, record, expected] of cases)
    assert.equal(
      matches(pattern, record),
      expected,
      `${JSON.stringify(pattern)} ~ ${JSON.stringify(record)}`,
    );
});

test('a key named twice keeps its last value, even when one spelling is dotted', () => {
  assert.equal(compileFilter('{"a": ["x"], "a": ["y"]}').matches({ a: 'y' }), true);
  assert.equal(matches({ 'a.b': ['x'], a: { b: ['y'] } }, { a: { b: 'y' } }), true);
  assert.equal(matches({ 'a.b': ['x'], a: { b: ['y'] } }, { a: { b: 'x' } }), false);
});

test('several patterns pass a record any of them matches; more than five are refused', () => {
  const filter = compileFilters(['{"a": [1]}', '{"b": [2]}']);
  assert.equal(filter.matches({ b: 2 }), true);
  assert.equal(filter.matches({ a: 2, b: 1 }), false);
  assert.doesNotThrow(() => compileFilters(Array.from({ length: 5 }, () => '{"a": [1]}')));
  assert.throws(
    () => compileFilters(Array.from({ length: 6 }, () => '{"a": [1]}')),
    FilterPatternError,
  );
  assert.throws(() => compileFilters(['{"a": [1]}', '{"a": 1}']), FilterPatternError);
});

test('invalid patterns are refused with a reason', () => {
  const cases: Array<[pattern: string, reason: string | RegExp]> = [
    ['{"a": ["x"]', 'Pattern is not valid JSON'],
    ['', 'Pattern is not valid JSON'],
    ['["a"]', 'Filter is not an object'],
    ['"text"', 'Filter is not an object'],
    ['{}', 'Empty objects are not allowed'],
    ['{"a": {}}', 'Empty objects are not allowed'],
    ['{"a": "x"}', '"a" must be an object or an array'],
    ['{"a": null}', '"a" must be an object or an array'],
    ['{"a": []}', 'Empty arrays are not allowed'],
    ['{"a": [["x"]]}', 'Match value must be String, number, true, false, or null'],
    ['{"a": [{}]}', 'Match expression name not found'],
    ['{"a": [{"regex": "x"}]}', 'Unrecognized match type regex'],
    ['{"a": [{"Prefix": "x"}]}', 'Unrecognized match type Prefix'],
    ['{"a": [{"prefix": "x", "suffix": "y"}]}', 'Only one key allowed in match expression'],
    ['{"a": [{"prefix": {"equals-ignore-case": 1}}]}', 'prefix match pattern must be a string'],
    ['{"a": [{"exists": "yes"}]}', 'exists match pattern must be either true or false.'],
    ['{"a": [{"numeric": [">", "1"]}]}', 'Value of > must be numeric'],
    ['{"a": [{"numeric": ["!=", 1]}]}', 'Unrecognized numeric range operator: !='],
    ['{"a": [{"numeric": [1]}]}', 'Invalid member in numeric match: 1'],
    ['{"a": [{"numeric": ["=", 1, "<", 2]}]}', 'Too many elements in numeric expression'],
    ['{"a": [{"numeric": ["<", 1, ">", 0]}]}', 'Too many elements in numeric expression'],
    ['{"a": [{"numeric": [">", 5, "<", 1]}]}', 'Bottom must be less than top'],
    ['{"a": [{"numeric": [">", 0, "<", 5, 6]}]}', 'Too many terms in numeric range expression'],
    ['{"a": [{"anything-but": true}]}', /^Value of anything-but must be/],
    ['{"a": [{"anything-but": []}]}', /mixed type is not supported$/],
    ['{"a": [{"anything-but": ["x", 1]}]}', /mixed type is not supported$/],
    [
      '{"a": [{"anything-but": {"numeric": [">", 1]}}]}',
      'Unsupported anything-but pattern: numeric',
    ],
    ['{"a": [{"anything-but": {"prefix": []}}]}', 'Empty arrays are not allowed'],
    ['{"a": [{"wildcard": "a\\\\b"}]}', 'Invalid escape character at pos 1'],
    ['{"a": [{"wildcard": "ab\\\\"}]}', 'Invalid escape character at pos 2'],
    ['{"a": [{"wildcard": "x**"}]}', 'Consecutive wildcard characters at pos 2'],
    ['{"a": [{"wildcard": "*aaaaaaaaaaaa"}]}', /^Rule is too complex/],
    ['{"a": [{"cidr": "10.0.0.0/33"}]}', /^Malformed CIDR, mask bits/],
    ['{"a": [{"cidr": "10.0.0.0/-1"}]}', 'Malformed CIDR, mask bits must be an integer'],
    ['{"a": [{"cidr": "300.0.0.0/8"}]}', 'Nonstandard IP address: 300.0.0.0'],
    ['{"$or": {"a": [1]}}', 'It must be an Array followed with $or.'],
    ['{"$or": [{"a": [1]}]}', 'There must have at least 2 Objects in $or relationship.'],
    ['{"$or": [{"a": [1]}, ["b"]]}', 'Only JSON object is allowed in array of $or relationship.'],
    [
      '{"$or": [{"a": [1]}, {"b": {"prefix": ["x"]}}]}',
      'prefix is Ruler reserved fieldName which cannot be used inside $or.',
    ],
  ];
  for (const [pattern, reason] of cases) assertRejected(pattern, reason);
});

test('limits: length, nesting, path length and number of values', () => {
  const long = `{"a": ["${'x'.repeat(4090)}"]}`;
  assertRejected(long, 'Pattern is longer than 4096 characters');
  assert.doesNotThrow(() => compileFilter(`{"a": ["${'x'.repeat(4096 - 11)}"]}`));
  const deep = (levels: number): string => `${'{"a":'.repeat(levels)}[1]${'}'.repeat(levels)}`;
  assert.doesNotThrow(() => compileFilter(deep(31)));
  assertRejected(deep(32), 'Pattern nests deeper than 32 levels');
  assertRejected(`{"${Array(33).fill('k').join('.')}": [1]}`, /^Pattern paths are limited to 32/);
  assert.doesNotThrow(() => compileFilter(`{"${Array(32).fill('k').join('.')}": [1]}`));
  const values = (n: number): string => `{"a": [${Array(n).fill(0).join(',')}]}`;
  assert.doesNotThrow(() => compileFilter(values(1024)));
  assertRejected(values(1025), 'Pattern has more than 1024 values');
  assertRejected(
    `{"a": [{"anything-but": [${Array(1030).fill(0).join(',')}]}]}`,
    'Pattern has more than 1024 values',
  );
});

test('wildcard complexity is judged per field, over all its wildcards', () => {
  // AWS accepted these (recorded) and a user's two-wildcard rule; refused four suffix wildcards.
  assert.doesNotThrow(() =>
    matches({ f: [{ wildcard: '*/datasync/*.bif' }, { wildcard: '*/datasync/*.tif' }] }, {}),
  );
  assertRejected(
    JSON.stringify({ f: ['*.bif', '*.tiff', '*.tif', '*.svs'].map((w) => ({ wildcard: w })) }),
    /^Rule is too complex/,
  );
  assert.doesNotThrow(() =>
    compileFilter(
      JSON.stringify({
        f: [{ wildcard: '*.bif' }, { wildcard: '*.tif' }],
        g: [{ wildcard: '*.x' }],
      }),
    ),
  );
});

test('hostile records: huge strings, deep nesting, cycles and throwing getters answer without throwing', () => {
  const mb = 'a'.repeat(1 << 20);
  const glob = compileFilter('{"s": [{"wildcard": "*a*a*a*b"}]}');
  assert.equal(glob.matches({ s: mb }), false);
  assert.equal(glob.matches({ s: `${mb}b` }), true);
  assert.equal(compileFilter('{"s": [{"wildcard": "*ab*"}]}').matches({ s: `${mb}b` }), true);
  // Suffix and prefix agree, so the middle piece is searched through the whole megabyte.
  assert.equal(compileFilter('{"s": [{"wildcard": "a*ba*b"}]}').matches({ s: `${mb}b` }), false);
  const ip = compileFilter('{"s": [{"cidr": "10.0.0.0/8"}]}');
  assert.equal(ip.matches({ s: mb }), false);
  const folded = compileFilter('{"s": [{"prefix": {"equals-ignore-case": "A"}}]}');
  assert.equal(folded.matches({ s: [mb, mb, mb] }), true);

  let deep: unknown = 'x';
  for (let i = 0; i < 100_000; i += 1) deep = [deep];
  assert.equal(compileFilter('{"a": ["x"]}').matches({ a: deep }), false);
  let nested: Record<string, unknown> = { a: 'x' };
  for (let i = 0; i < 100_000; i += 1) nested = { a: nested };
  assert.equal(compileFilter('{"a": {"a": {"a": ["x"]}}}').matches(nested), false);

  const cyclic: Record<string, unknown> = { b: 1 };
  cyclic['a'] = cyclic;
  cyclic['c'] = [cyclic, cyclic];
  assert.equal(compileFilter('{"a": {"a": {"b": [1]}}}').matches(cyclic), true);
  assert.equal(compileFilter('{"z": [{"exists": false}]}').matches(cyclic), true);

  const throwing = {
    get a(): never {
      throw new Error('boom');
    },
  };
  assert.equal(compileFilter('{"a": [1]}').matches(throwing), false);
  const trap = new Proxy(
    {},
    {
      ownKeys: () => {
        throw new Error('trap');
      },
    },
  );
  assert.equal(compileFilter('{"a": [1]}').matches(trap), false);
  const sparse: unknown[] = [];
  sparse.length = 2 ** 32 - 1;
  assert.equal(compileFilter('{"a": [1]}').matches({ a: sparse }), false);

  for (const record of [undefined, null, 0, 'text', [], [{ a: 1 }], Symbol('s'), () => 1])
    assert.doesNotThrow(() => compileFilter('{"a": [1]}').matches(record));
  assert.equal(compileFilter('{"a": [1]}').matches([{ a: 1 }]), true);
  assert.equal(compileFilter('{"a": [{"exists": false}]}').matches(null), true);
});
