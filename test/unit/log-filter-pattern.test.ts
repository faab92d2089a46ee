/**
 * CloudWatch Logs filter patterns: the examples of AWS's "Filter and pattern syntax" page (terms,
 * OR and exclusions, the JSON example event and its compound conditions, numeric comparisons, the
 * Apache access log lines of the space-delimited section), the AWS CDK's term groups, patterns
 * AWS refuses with their messages, and hostile patterns and events that must cost little.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  compileFilterPattern,
  FilterPatternError,
  MAX_FILTER_PATTERN_LENGTH,
} from '../../src/core/log-filter-pattern.js';
import { splitFields } from '../../src/core/log-filter-pattern-fields.js';

/** A pattern, and for each event whether it matches. */
interface Case {
  readonly pattern: string;
  readonly matches: readonly string[];
  readonly misses: readonly string[];
}

function check(cases: readonly Case[]): void {
  for (const { pattern, matches, misses } of cases) {
    const matcher = compileFilterPattern(pattern);
    for (const event of matches) assert.equal(matcher(event), true, `${pattern} ⊨ ${event}`);
    for (const event of misses) assert.equal(matcher(event), false, `${pattern} ⊭ ${event}`);
  }
}

const THREE = ['ERROR WARN message', 'ERROR message', 'WARN message'] as const;

describe('term patterns', () => {
  test('terms, phrases, exclusions and alternatives, as in AWS examples', () => {
    check([
      {
        pattern: 'ERROR',
        matches: ['[ERROR] A fatal exception has occurred', 'Exiting with ERRORCODE: -1'],
        misses: ['error in lower case', 'WARN only'],
      },
      {
        pattern: '"ERROR" - "Exiting"',
        matches: ['[ERROR] A fatal exception has occurred'],
        misses: ['Exiting with ERRORCODE: -1'],
      },
      {
        pattern: 'ERROR Exception',
        matches: ['[ERROR] Caught IllegalArgumentException', '[ERROR] Unhandled Exception'],
        misses: ['[ERROR] no such thing', 'Exception without the level'],
      },
      {
        pattern: 'Failed to process the request',
        matches: [
          '[WARN] Failed to process the request',
          '[ERROR] Unable to continue: Failed to process the request',
        ],
        misses: ['[WARN] Failed to process'],
      },
      { pattern: 'ERROR', matches: [THREE[0], THREE[1]], misses: [THREE[2]] },
      { pattern: '?ERROR ?WARN', matches: [...THREE], misses: ['INFO message'] },
      { pattern: 'ERROR WARN', matches: [THREE[0]], misses: [THREE[1], THREE[2]] },
      { pattern: 'ERROR -WARN', matches: [THREE[1]], misses: [THREE[0], THREE[2]] },
      {
        pattern: '"INTERNAL SERVER ERROR"',
        matches: ['500 INTERNAL SERVER ERROR at /'],
        misses: ['INTERNAL ERROR SERVER', 'internal server error'],
      },
      {
        pattern: '"Task timed out"',
        matches: ['2026-01-01T00:00:00.000Z abc Task timed out after 3.00 seconds'],
        misses: ['Task completed'],
      },
    ]);
  });

  test('a ? opens a group of terms that must all hold (the CDK writes groups so)', () => {
    check([
      {
        pattern: '?"ERROR" "MainThread" ?"WARN" "MainThread"',
        matches: ['ERROR in MainThread', 'WARN from MainThread'],
        misses: ['ERROR in worker', 'WARN from worker', 'INFO MainThread'],
      },
      {
        pattern: 'ERROR ?WARN',
        matches: ['ERROR alone', 'WARN alone'],
        misses: ['INFO'],
      },
    ]);
  });

  test('quoted terms take escaped quotes and backslashes; empty patterns match everything', () => {
    check([
      { pattern: '"say \\"hi\\""', matches: ['they say "hi" twice'], misses: ['they say hi'] },
      { pattern: '"C:\\\\temp"', matches: ['opened C:\\temp'], misses: ['opened C:temp'] },
      { pattern: '"a-b.c:d/e@f"', matches: ['x a-b.c:d/e@f y'], misses: ['a-b'] },
      { pattern: '', matches: ['anything', ''], misses: [] },
      { pattern: '   ', matches: ['anything'], misses: [] },
      { pattern: '[]', matches: ['anything at all', ''], misses: [] },
    ]);
  });
});

/** The JSON example event of AWS's page. */
const TRAIL = JSON.stringify({
  eventType: 'UpdateTrail',
  sourceIPAddress: '111.111.111.111',
  arrayKey: ['value', 'another value'],
  objectList: [
    { name: 'a', id: 1 },
    { name: 'b', id: 2 },
  ],
  SomeObject: null,
  ThisFlag: true,
});

/** The JSON example of AWS's compound conditions. */
const USERS = JSON.stringify({
  user: { id: 1, email: 'John.Stiles@example.com' },
  users: [
    { id: 2, email: 'John.Doe@example.com' },
    { id: 3, email: 'Jane.Doe@example.com' },
  ],
  actions: ['GET', 'PUT', 'DELETE'],
  coordinates: [
    [0, 1, 2],
    [4, 5, 6],
    [7, 8, 9],
  ],
});

describe('JSON patterns', () => {
  test('every filter AWS lists as matching its example event matches it', () => {
    for (const pattern of [
      '{ $.eventType = "UpdateTrail" }',
      '{ $.sourceIPAddress != 123.123.* }',
      '{ $.arrayKey[0] = "value" }',
      '{ $.objectList[1].id = 2 }',
      '{ $.SomeObject IS NULL }',
      '{ $.SomeOtherObject NOT EXISTS }',
      '{ $.ThisFlag IS TRUE }',
      '{ $.eventType = Update* }',
      '{ $.eventType = *Trail }',
      '{ $.eventType = "*" }',
      '{$.eventType="UpdateTrail"}',
    ])
      assert.equal(compileFilterPattern(pattern)(TRAIL), true, pattern);
    for (const pattern of [
      '{ $.eventType = "PutTrail" }',
      '{ $.sourceIPAddress != 111.111.* }',
      '{ $.arrayKey[2] = "value" }',
      '{ $.objectList[1].id = 1 }',
      '{ $.eventType IS NULL }',
      '{ $.eventType NOT EXISTS }',
      '{ $.ThisFlag IS FALSE }',
      '{ $.SomeOtherObject IS NULL }',
      '{ $.eventType = Ev*ent }',
      '{ $.arrayKey = "value" }',
      '{ $.objectList != 1 }',
    ])
      assert.equal(compileFilterPattern(pattern)(TRAIL), false, pattern);
  });

  test('compound conditions follow () > && > ||, as in AWS examples', () => {
    const expected: Array<[string, boolean]> = [
      ['{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', true],
      ['{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', false],
      [
        '{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }',
        true,
      ],
      [
        '{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }',
        false,
      ],
      ['{ $.coordinates[2][0] = 7 }', true],
      ['{ $.actions[1] = PUT && $.users[1].id >= 3 }', true],
    ];
    for (const [pattern, result] of expected)
      assert.equal(compileFilterPattern(pattern)(USERS), result, pattern);
  });

  test('OR in JSON patterns and selectors that point at arrays', () => {
    check([
      { pattern: '{$.foo = bar}', matches: ['{"foo": "bar"}'], misses: ['{"foo": "baz"}'] },
      { pattern: '{$.foo = baz }', matches: ['{"foo": "baz"}'], misses: ['{"foo": "bar"}'] },
      {
        pattern: '{$.foo = bar || $.foo = baz }',
        matches: ['{"foo": "bar"}', '{"foo": "baz"}'],
        misses: ['{"foo": "qux"}'],
      },
      { pattern: '{$.users = 1}', matches: [], misses: ['{"users": [1, 2, 3]}'] },
      { pattern: '{$.users != 1}', matches: [], misses: ['{"users": [1, 2, 3]}'] },
    ]);
  });

  test('numeric comparisons, signed and scientific', () => {
    check([
      {
        pattern: '{ $.latency >= 500 }',
        matches: ['{"latency": 500}', '{"latency": 1e3}'],
        misses: ['{"latency": 499.9}', '{"latency": "900"}', '{"other": 900}'],
      },
      {
        pattern: '{ $.numbers[0] < 10e3 }',
        matches: ['{"numbers": [9999]}'],
        misses: ['{"numbers": [10000]}'],
      },
      {
        pattern: '{ $.numbers[0] < 10e-3 }',
        matches: ['{"numbers": [0.001]}'],
        misses: ['{"numbers": [0.01]}'],
      },
      {
        pattern: '{ $.processes[4].averageRuntime <= 55.5 }',
        matches: ['{"processes": [0, 1, 2, 3, {"averageRuntime": 55.5}]}'],
        misses: ['{"processes": [{"averageRuntime": 1}]}'],
      },
      {
        pattern: '{ $.errorCode = 400 }',
        matches: ['{"errorCode": 400}'],
        misses: ['{"errorCode": 401}'],
      },
      {
        pattern: '{ $.errorCode != 500 }',
        matches: ['{"errorCode": 400}'],
        misses: ['{"errorCode": 500}', '{}'],
      },
      {
        pattern: '{ $.latency > +1000 }',
        matches: ['{"latency": 1001}'],
        misses: ['{"latency": -2000}'],
      },
      {
        pattern: '{ $.level = "ERROR" }',
        matches: ['  {"level":"ERROR","msg":"x"}'],
        misses: ['level ERROR {"level":"ERROR"}', '{"level":"ERROR"', '["ERROR"]'],
      },
    ]);
  });

  test('Lambda JSON log records are matched by their fields', () => {
    const record = JSON.stringify({
      timestamp: '2026-01-01T00:00:00.000Z',
      level: 'ERROR',
      requestId: '79b4f56e-95b1-4643-9700-2807f4e68189',
      message: 'payment failed',
    });
    check([
      { pattern: '{ $.level = "ERROR" && $.message = "*failed*" }', matches: [record], misses: [] },
      { pattern: '{ $.level = "INFO" || $.requestId NOT EXISTS }', matches: [], misses: [record] },
    ]);
  });
});

const APACHE = [
  '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534',
  '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324',
  '127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355',
] as const;
const NOT_FOUND =
  '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534';

describe('space-delimited patterns', () => {
  test('brackets and quotes make one field each', () => {
    assert.deepEqual(splitFields(NOT_FOUND), [
      '127.0.0.1',
      '-',
      'frank',
      '10/Oct/2000:13:25:15 -0700',
      'GET /index.html HTTP/1.0',
      '404',
      '1534',
    ]);
  });

  test('the Apache examples of AWS', () => {
    check([
      {
        pattern: '[ip, user, username, timestamp, request, status_code, bytes]',
        matches: [...APACHE, NOT_FOUND],
        misses: ['too few fields'],
      },
      { pattern: '[..., status_code, bytes]', matches: [...APACHE], misses: [] },
      { pattern: '[ip, user, ..., status_code, bytes]', matches: [...APACHE], misses: ['one'] },
      { pattern: '[ip, user, ...]', matches: [...APACHE, 'a b'], misses: ['a'] },
      {
        pattern: '[ip, user, username, timestamp, request, status_code, bytes > 1000]',
        matches: [...APACHE],
        misses: ['127.0.0.1 - frank [t] "GET /" 200 999'],
      },
      {
        pattern: '[ip, user, username, timestamp, request, status_code = 200, bytes]',
        matches: [APACHE[0], APACHE[2]],
        misses: [APACHE[1], NOT_FOUND],
      },
      {
        pattern: '[ip, user, username, timestamp, request, status_code = 4*, bytes]',
        matches: [NOT_FOUND],
        misses: [...APACHE],
      },
      {
        pattern: '[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]',
        matches: [NOT_FOUND],
        misses: [...APACHE],
      },
      {
        pattern:
          '[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]',
        matches: [NOT_FOUND],
        misses: [...APACHE, NOT_FOUND.replace(' 404 ', ' 403 ')],
      },
      {
        pattern:
          '[ip, user, username, timestamp, request, status_code = 403 || status_code = 404, bytes]',
        matches: [NOT_FOUND, NOT_FOUND.replace(' 404 ', ' 403 ')],
        misses: [...APACHE],
      },
      {
        pattern: '[..., request=*.html*, status_code=4*,]',
        matches: [NOT_FOUND],
        misses: [...APACHE],
      },
    ]);
  });

  test('word positions with OR, as in AWS examples', () => {
    check([
      { pattern: '[w1=ERROR, w2]', matches: [THREE[1]], misses: [THREE[0], THREE[2]] },
      { pattern: '[w1=ERROR || w1=WARN, w2]', matches: [THREE[1], THREE[2]], misses: [THREE[0]] },
      { pattern: '[w1!=ERROR&&w1!=WARN, w2]', matches: ['INFO message'], misses: [...THREE] },
      { pattern: '[a, b = "x y"]', matches: ['1 "x y"'], misses: ['1 x'] },
    ]);
  });
});

describe('patterns AWS refuses', () => {
  const refusals: Array<[string, string]> = [
    ['{ $.level = "ERROR"', "If a filter pattern starts with '{' it must end with '}'"],
    ['[a, b', "If a filter pattern starts with '[' it must end with ']'"],
    ['email@example.com', "Invalid character(s) in term 'email@example.com'"],
    ['ERROR: failed', "Invalid character(s) in term 'ERROR:'"],
    ['“*-*“', "Invalid character(s) in term '“*-*“'"],
    ['?', 'Invalid filter pattern'],
    ['ERROR -', 'Invalid filter pattern'],
    ['"unterminated', 'Invalid filter pattern'],
    ['"a"b', 'Invalid filter pattern'],
    ['{ }', 'Invalid filter pattern'],
    ['{ level = 1 }', 'Invalid filter pattern'],
    ['{ $.a >= "x" }', 'Invalid filter pattern'],
    ['{ $.a < abc }', 'Invalid filter pattern'],
    ['{ $.a = }', 'Invalid filter pattern'],
    ['{ $.a = 1 && }', 'Invalid filter pattern'],
    ['{ ($.a = 1 }', 'Invalid filter pattern'],
    ['{ $.a[x] = 1 }', 'Invalid filter pattern'],
    ['{ $.a IS MAYBE }', 'Invalid filter pattern'],
    ['{ $.a = 1 } trailing }', 'Invalid filter pattern'],
    ['[a, ..., b, ...]', 'Invalid filter pattern'],
    ['[a, b = 4* && c > 1000]', 'Invalid filter pattern'],
    [
      '[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]',
      'Invalid filter pattern',
    ],
    ['[a b]', 'Invalid filter pattern'],
    [`{ ${'('.repeat(40)}$.a = 1${')'.repeat(40)} }`, 'Invalid filter pattern'],
    ['x'.repeat(MAX_FILTER_PATTERN_LENGTH + 1), 'Invalid filter pattern'],
  ];
  for (const [pattern, message] of refusals)
    test(`refuses ${pattern.slice(0, 60)}`, () => {
      assert.throws(
        () => compileFilterPattern(pattern),
        (error: unknown) => error instanceof FilterPatternError && error.message === message,
      );
    });

  test('nesting within the bound is accepted', () => {
    const pattern = `{ ${'('.repeat(30)}$.a = 1${')'.repeat(30)} }`;
    assert.equal(compileFilterPattern(pattern)('{"a":1}'), true);
  });
});

describe('hostile patterns and events cost little', () => {
  test('wildcards never backtrack', () => {
    const value = 'a'.repeat(200_000);
    const pattern = `{ $.v = "${'*a'.repeat(300)}*b" }`;
    const event = JSON.stringify({ v: value });
    // A backtracking matcher would not finish these; a linear one does at once.
    assert.equal(compileFilterPattern(pattern)(event), false);
    assert.equal(compileFilterPattern(`{ $.v = "${'*a'.repeat(300)}*" }`)(event), true);
    const fields = compileFilterPattern(`[f = ${'*a'.repeat(200)}*b]`);
    assert.equal(fields(value), false);
  });

  test('events nested too deeply match no JSON pattern', () => {
    const deep = `{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    assert.equal(compileFilterPattern('{ $.a NOT EXISTS }')(deep), false);
    assert.equal(compileFilterPattern('{ $.a NOT EXISTS }')('{"b":1}'), true);
  });

  test('a space-delimited pattern on a megabyte of spaces and quotes', () => {
    const event = `${'" '.repeat(250_000)}${'[ '.repeat(250_000)}`;
    assert.equal(compileFilterPattern('[a, b]')(event), false);
    assert.equal(compileFilterPattern('[..., last]')(event), true);
  });
});
