/** IAM's wildcards: actions, ARNs and `…Like` values, matched without regular expressions. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { actionMatcher, arnMatcher, wildcardMatcher } from '../../src/core/policy-pattern.js';

test('* matches any run, ? one character, case as asked', () => {
  const cases: Array<[string, string, boolean]> = [
    ['a*c', 'ac', true],
    ['a*c', 'abbbc', true],
    ['a*c', 'abbb', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['*', '', true],
    ['a**', 'a', true],
    ['*b*b', 'abab', true],
    ['*b*b', 'abba', false],
    ['x', 'X', false],
  ];
  for (const [pattern, value, expected] of cases)
    assert.equal(wildcardMatcher(pattern)(value), expected, `${pattern} ~ ${value}`);
  assert.equal(actionMatcher('Lambda:Get*')('lambda:GETFUNCTION'), true);
});

test('a pattern built to make a backtracking matcher explode answers, and correctly', () => {
  const pattern = `${'*a'.repeat(2000)}b`;
  assert.equal(wildcardMatcher(pattern)('a'.repeat(4000)), false);
  assert.equal(wildcardMatcher(pattern)(`${'a'.repeat(2000)}b`), true);
});

test('ARN segments before the resource part do not cross colons; the resource part does', () => {
  const fn = 'arn:aws:lambda:us-east-1:111122223333:function:f:prod';
  assert.equal(arnMatcher('arn:aws:lambda:*:*:function:*')(fn), true);
  assert.equal(arnMatcher('arn:aws:lambda:*:function:*')(fn), false);
  assert.equal(arnMatcher('arn:aws:lambda:us-east-?:111122223333:function:f')(fn), false);
  assert.equal(arnMatcher('arn:aws:lambda:us-east-?:111122223333:function:f:*')(fn), true);
  assert.equal(arnMatcher('*')('anything at all'), true);
});
