/**
 * The authorizer's memory of decisions: a request alike in everything a decision reads is
 * answered from it; any difference (action, resource, resource policy, source address, second,
 * condition keys, caller) is a miss; a clear forgets all, and a decision made across a clear is
 * not kept.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DecisionCache } from '../../src/iam/decision-cache.js';

const BASE = {
  action: 'lambda:InvokeFunction',
  resource: 'arn:aws:lambda:us-east-1:000000000000:function:f',
  resourcePolicy: undefined as object | undefined,
  sourceIp: '127.0.0.1',
  second: 1_000,
  context: { 'lambda:FunctionArn': 'arn:aws:lambda:us-east-1:000000000000:function:f' } as
    Record<string, string> | undefined,
};

describe('DecisionCache', () => {
  test('the same request of the same caller is remembered; any difference is another key', () => {
    const cache = new DecisionCache<string>();
    const caller = {};
    const key = cache.keyOf(BASE);
    cache.set(caller, key, 'allow', cache.generation);
    assert.equal(cache.get(caller, cache.keyOf({ ...BASE })), 'allow');
    assert.equal(cache.get({}, key), undefined, 'another caller');
    const policy = {};
    for (const change of [
      { action: 'lambda:DeleteFunction' },
      { resource: `${BASE.resource}:alias` },
      { resourcePolicy: policy },
      { sourceIp: '10.0.0.1' },
      { second: 1_001 },
      { context: undefined },
      { context: { 'lambda:FunctionArn': 'other' } },
    ])
      assert.notEqual(cache.keyOf({ ...BASE, ...change }), key, JSON.stringify(change));
    // The same policy object is the same key; another object (a changed policy) is not.
    assert.equal(
      cache.keyOf({ ...BASE, resourcePolicy: policy }),
      cache.keyOf({ ...BASE, resourcePolicy: policy }),
    );
    assert.notEqual(
      cache.keyOf({ ...BASE, resourcePolicy: policy }),
      cache.keyOf({ ...BASE, resourcePolicy: {} }),
    );
  });

  test('clear forgets everything, and a decision made across a clear is not kept', () => {
    const cache = new DecisionCache<string>();
    const caller = {};
    const key = cache.keyOf(BASE);
    cache.set(caller, key, 'allow', cache.generation);
    const before = cache.generation;
    cache.clear();
    assert.equal(cache.get(caller, key), undefined);
    cache.set(caller, key, 'stale', before);
    assert.equal(cache.get(caller, key), undefined);
    cache.set(caller, key, 'fresh', cache.generation);
    assert.equal(cache.get(caller, key), 'fresh');
  });

  test('a caller keeps at most 256 decisions, the oldest dropped first', () => {
    const cache = new DecisionCache<number>();
    const caller = {};
    for (let i = 0; i < 300; i += 1)
      cache.set(caller, cache.keyOf({ ...BASE, second: i }), i, cache.generation);
    assert.equal(cache.get(caller, cache.keyOf({ ...BASE, second: 0 })), undefined);
    assert.equal(cache.get(caller, cache.keyOf({ ...BASE, second: 43 })), undefined);
    assert.equal(cache.get(caller, cache.keyOf({ ...BASE, second: 44 })), 44);
    assert.equal(cache.get(caller, cache.keyOf({ ...BASE, second: 299 })), 299);
  });
});
