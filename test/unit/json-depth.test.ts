import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nestingDepth, parseJsonWithin } from '../../src/core/json-depth.js';

test('nesting is counted outside strings only', () => {
  assert.equal(nestingDepth('{"a":[1,{"b":"[[[["}]}'), 3);
  assert.equal(nestingDepth('"\\"[["'), 0);
  assert.equal(nestingDepth('42'), 0);
});

test('JSON too deep to be written out again stays text; null stays null', () => {
  const deep = `{"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
  assert.equal(parseJsonWithin(deep), undefined);
  const fine = `${'['.repeat(500)}${']'.repeat(500)}`;
  const parsed = parseJsonWithin(fine);
  assert.ok(parsed !== undefined);
  assert.doesNotThrow(() => JSON.stringify(parsed.value));
  assert.deepEqual(parseJsonWithin('null'), { value: null });
  assert.equal(parseJsonWithin('{oops'), undefined);
});
