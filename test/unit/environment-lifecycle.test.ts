/** The environment's lifecycle table: the moves it allows, the ones it refuses, its listeners. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  EnvironmentLifecycle,
  type EnvironmentState,
} from '../../src/environment/environment-lifecycle.js';

/** A lifecycle walked through `path` from `starting`. */
function after(...path: EnvironmentState[]): EnvironmentLifecycle {
  const lifecycle = new EnvironmentLifecycle();
  for (const state of path) lifecycle.move(state);
  return lifecycle;
}

describe('EnvironmentLifecycle', () => {
  test('an environment starts, serves invocations in turn, and dies from any state', () => {
    const lifecycle = after('ready', 'busy', 'ready', 'busy', 'ready');
    assert.equal(lifecycle.state, 'ready');
    for (const path of [[], ['ready'], ['ready', 'busy']] as EnvironmentState[][]) {
      const dying = after(...path);
      dying.move('dead');
      assert.equal(dying.state, 'dead');
    }
  });

  test('moves the table does not list throw and leave the state as it was', () => {
    const refused: Array<[EnvironmentState[], EnvironmentState]> = [
      [[], 'busy'], // invoked before its init ended
      [[], 'starting'],
      [['ready'], 'starting'],
      [['ready'], 'ready'],
      [['ready', 'busy'], 'busy'], // two invocations at once
      [['dead'], 'ready'], // a dead environment brought back
      [['dead'], 'dead'],
      [['ready', 'dead'], 'busy'],
    ];
    for (const [path, to] of refused) {
      const lifecycle = after(...path);
      const before = lifecycle.state;
      assert.equal(lifecycle.allows(to), false, `${before} -> ${to}`);
      assert.throws(() => lifecycle.move(to), new RegExp(`cannot go from ${before} to ${to}`));
      assert.equal(lifecycle.state, before);
    }
  });

  test('listeners hear every move with where it came from', () => {
    const lifecycle = new EnvironmentLifecycle();
    const heard: string[] = [];
    lifecycle.onMove((from, to) => heard.push(`${from}>${to}`));
    lifecycle.move('ready');
    lifecycle.move('busy');
    lifecycle.move('dead');
    assert.deepEqual(heard, ['starting>ready', 'ready>busy', 'busy>dead']);
  });
});
