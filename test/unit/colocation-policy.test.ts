/** When the server and an environment share a CPU: lone invocations only, let go under load. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ColocationPolicy,
  type Colocatable,
  type ReleaseTimerFactory,
} from '../../src/environment/colocation-policy.js';
import { cpuListMembers, serverCpuOf } from '../../src/sandbox/server-cpu.js';

/** Records where it was asked to be; `movable: false` cannot be co-located. */
function place(movable = true) {
  const placed = {
    on: false,
    moves: 0,
    colocate(on: boolean): boolean {
      if (on && !movable) return false;
      if (on !== placed.on) placed.moves += 1;
      placed.on = on;
      return true;
    },
  };
  return placed;
}

/** A release timer the test expires by hand. */
function manualTimer() {
  const timer = { armed: false, expire: () => undefined as void };
  const factory: ReleaseTimerFactory = (onExpiry) => {
    timer.expire = () => {
      if (timer.armed) onExpiry();
    };
    return {
      arm: () => void (timer.armed = true),
      disarm: () => void (timer.armed = false),
    };
  };
  return { timer, factory };
}

/** A policy with a hand-expired timer, the server, and one environment. */
function setup() {
  const { timer, factory } = manualTimer();
  const server = place();
  return { timer, server, env: place(), policy: new ColocationPolicy(server, factory) };
}

/** One invocation in `env`, from begin to end. */
function invokeIn(policy: ColocationPolicy, env: Colocatable): void {
  policy.begin(env);
  policy.end(env);
}

describe('ColocationPolicy', () => {
  test('the second lone invocation in a row in one environment co-locates it with the server', () => {
    const { server, env, policy } = setup();
    invokeIn(policy, env);
    assert.equal(env.on, false, 'one lone invocation is not enough');
    policy.begin(env);
    assert.equal(env.on, true);
    assert.equal(server.on, true);
    assert.equal(policy.colocated, env);
    policy.end(env);
    for (let i = 0; i < 5; i += 1) invokeIn(policy, env);
    assert.equal(env.moves, 1, 'sequential invocations leave it in place');
    assert.equal(server.moves, 1);
  });

  test('a second invocation at once lets both go, and load does not move them back', () => {
    const { server, env: a, policy } = setup();
    const b = place();
    invokeIn(policy, a);
    invokeIn(policy, a);
    assert.equal(a.on, true);
    policy.begin(a);
    policy.begin(b);
    assert.equal(a.on, false);
    assert.equal(b.on, false);
    assert.equal(server.on, false);
    assert.equal(policy.colocated, undefined);
    // Load that drops to one invocation for a moment: each lone start follows a shared one.
    policy.end(a);
    policy.begin(a);
    policy.end(b);
    policy.end(a);
    policy.begin(b);
    policy.begin(a);
    policy.end(a);
    policy.end(b);
    assert.equal(a.moves, 2, 'placed once, let go once');
    assert.equal(b.moves, 0);
    assert.equal(server.moves, 2);
  });

  test('an init elsewhere lets the co-located environment go, and keeps invocations from being lone', () => {
    const { server, env: a, policy } = setup();
    const cold = place();
    invokeIn(policy, a);
    invokeIn(policy, a);
    assert.equal(policy.colocated, a);
    policy.beginInit(cold);
    assert.equal(a.on, false);
    assert.equal(server.on, false);
    // While the init runs, invocations in `a` share the machine with it: none co-locates.
    for (let i = 0; i < 3; i += 1) invokeIn(policy, a);
    assert.equal(policy.colocated, undefined);
    assert.equal(cold.moves, 0, 'an initialising environment is never placed');
    policy.end(cold);
    // Once it is over, two lone invocations in a row co-locate again.
    invokeIn(policy, a);
    policy.begin(a);
    assert.equal(policy.colocated, a);
    policy.end(a);
  });

  test('lone invocations that alternate between environments move nothing', () => {
    const { server, env: a, policy } = setup();
    const b = place();
    for (let i = 0; i < 4; i += 1) {
      invokeIn(policy, a);
      invokeIn(policy, b);
    }
    assert.equal(a.on || b.on || server.on, false);
  });

  test('another environment taking over the lone invocations takes the CPU from the first', () => {
    const { server, env: a, policy } = setup();
    const b = place();
    invokeIn(policy, a);
    invokeIn(policy, a);
    invokeIn(policy, b);
    assert.equal(a.on, true, 'one lone invocation elsewhere leaves it');
    policy.begin(b);
    assert.equal(a.on, false);
    assert.equal(b.on, true);
    assert.equal(server.on, true);
  });

  test('an environment that cannot move is not co-located, and the server stays put', () => {
    const { server, policy } = setup();
    const big = place(false);
    for (let i = 0; i < 3; i += 1) invokeIn(policy, big);
    assert.equal(server.on, false);
    assert.equal(policy.colocated, undefined);
  });

  test('a co-located environment that dies is forgotten and the server let go', () => {
    const { server, env, policy } = setup();
    invokeIn(policy, env);
    policy.begin(env);
    policy.forget(env);
    assert.equal(server.on, false);
    assert.equal(policy.colocated, undefined);
    assert.equal(env.on, false, 'its processes may outlive it for a while: they are let go');
    const next = place();
    invokeIn(policy, next);
    policy.begin(next);
    assert.equal(next.on, true, 'its busy slot was freed');
  });
});

describe('ColocationPolicy and long invocations', () => {
  test('a co-located invocation that runs past the timer is let go', () => {
    const { timer, server, env, policy } = setup();
    invokeIn(policy, env);
    policy.begin(env);
    assert.equal(env.on, true);
    assert.equal(timer.armed, true, 'armed while the co-located invocation runs');
    timer.expire();
    assert.equal(env.on, false);
    assert.equal(server.on, false);
    policy.end(env);
    invokeIn(policy, env);
    assert.equal(env.on, false, 'back only after two lone invocations in a row again');
    policy.begin(env);
    assert.equal(env.on, true);
  });

  test('short invocations disarm the timer: an expiry after they end changes nothing', () => {
    const { timer, server, env, policy } = setup();
    invokeIn(policy, env);
    invokeIn(policy, env);
    assert.equal(timer.armed, false);
    timer.expire();
    assert.equal(env.on, true);
    assert.equal(server.on, true);
  });
});

describe('the server CPU', () => {
  test('cpuset lists', () => {
    assert.deepEqual(cpuListMembers('0-2,6'), [0, 1, 2, 6]);
    assert.deepEqual(cpuListMembers('3\n'), [3]);
    assert.deepEqual(cpuListMembers(''), []);
  });

  test('picked by process id among several CPUs, none with one', () => {
    assert.equal(serverCpuOf('0-1', 7), '1');
    assert.equal(serverCpuOf('0-1', 8), '0');
    assert.equal(serverCpuOf('2,4-5', 5), '5');
    assert.equal(serverCpuOf('3', 1), undefined);
  });
});
