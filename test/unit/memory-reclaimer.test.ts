/** Unit tests of when a full collection runs after large request bodies or floods of output are let go. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LARGE_BODY_BYTES } from '../../src/core/body-budget.js';
import { CONNECTION_BYTES, MemoryReclaimer } from '../../src/server/memory-reclaimer.js';

const MiB = 1024 * 1024;

/** Timers run by hand: `fire()` runs the pending one. */
function manualTimers() {
  let pending: { callback: () => void; ms: number } | undefined;
  return {
    timers: {
      set: (callback: () => void, ms: number) => (pending = { callback, ms }),
      clear: (timer: unknown) => {
        if (timer === pending) pending = undefined;
      },
    },
    pending: () => pending,
    fire: () => {
      const timer = pending;
      pending = undefined;
      timer?.callback();
    },
  };
}

describe('MemoryReclaimer', () => {
  test('invoke-sized bodies never lead to a collection', () => {
    const clock = manualTimers();
    let collections = 0;
    const reclaimer = new MemoryReclaimer({ collect: () => collections++, timers: clock.timers });
    for (let i = 0; i < 100; i += 1) reclaimer.released(LARGE_BODY_BYTES);
    assert.equal(clock.pending(), undefined);
    assert.equal(collections, 0);
  });

  test('once enough large bodies were let go, one collection runs after a quiet period', () => {
    const clock = manualTimers();
    let collections = 0;
    const reclaimer = new MemoryReclaimer({ collect: () => collections++, timers: clock.timers });
    reclaimer.released(20 * MiB);
    assert.equal(clock.pending(), undefined, 'not yet 32 MiB');
    reclaimer.released(20 * MiB);
    assert.equal(clock.pending()?.ms, 1000);
    const first = clock.pending();
    reclaimer.released(69 * MiB);
    assert.notEqual(
      clock.pending(),
      first,
      'a release while waiting starts the quiet period again',
    );
    clock.fire();
    assert.equal(collections, 1);
    reclaimer.released(20 * MiB);
    assert.equal(clock.pending(), undefined, 'counting starts again after a collection');
  });

  test('output written in small slices adds up to a collection, as a large body does', () => {
    const clock = manualTimers();
    let collections = 0;
    const reclaimer = new MemoryReclaimer({ collect: () => collections++, timers: clock.timers });
    for (let i = 0; i < 31; i += 1) reclaimer.passedThrough(MiB);
    assert.equal(clock.pending(), undefined, '31 MiB of output is not enough');
    reclaimer.passedThrough(MiB);
    assert.equal(clock.pending()?.ms, 1000);
    clock.fire();
    assert.equal(collections, 1);
  });

  test('a flood of ended connections leads to a collection; a few hundred do not', () => {
    const clock = manualTimers();
    let collections = 0;
    const reclaimer = new MemoryReclaimer({ collect: () => collections++, timers: clock.timers });
    for (let i = 0; i < 500; i += 1) reclaimer.connectionEnded();
    assert.equal(clock.pending(), undefined, '500 connections are not a flood');
    for (let i = 0; i < (32 * MiB) / CONNECTION_BYTES; i += 1) reclaimer.connectionEnded();
    assert.equal(clock.pending()?.ms, 1000);
    clock.fire();
    assert.equal(collections, 1);
  });

  test('what was read from ended connections counts too (bodies dropped over their limit)', () => {
    const clock = manualTimers();
    let collections = 0;
    const reclaimer = new MemoryReclaimer({ collect: () => collections++, timers: clock.timers });
    for (let i = 0; i < 4; i += 1) reclaimer.connectionEnded(7 * MiB);
    assert.equal(clock.pending(), undefined, '28 MiB');
    reclaimer.connectionEnded(7 * MiB);
    assert.equal(clock.pending()?.ms, 1000);
    clock.fire();
    assert.equal(collections, 1);
  });

  test('stop drops a pending collection', () => {
    const clock = manualTimers();
    let collections = 0;
    const reclaimer = new MemoryReclaimer({ collect: () => collections++, timers: clock.timers });
    reclaimer.released(69 * MiB);
    reclaimer.stop();
    assert.equal(clock.pending(), undefined);
    assert.equal(collections, 0);
  });
});
