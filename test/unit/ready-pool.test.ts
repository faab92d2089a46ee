/** Ready-made items handed out at once and replaced one at a time in the background. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReadyPool } from '../../src/sandbox/ready-pool.js';

/** A maker whose every `make` waits until the test settles it. */
function manualMaker() {
  const pending: { resolve: (item: string) => void; reject: (error: Error) => void }[] = [];
  const maker = {
    made: 0,
    discarded: [] as string[],
    errors: [] as unknown[],
    make: () =>
      new Promise<string>((resolve, reject) => {
        maker.made += 1;
        pending.push({ resolve, reject });
      }),
    discard: (item: string) => {
      maker.discarded.push(item);
      return Promise.resolve();
    },
    onError: (error: unknown) => void maker.errors.push(error),
  };
  /** Settles the oldest pending `make` and lets the pool react. */
  const settle = async (outcome: string | Error) => {
    const next = pending.shift();
    assert.ok(next !== undefined, 'no make is pending');
    if (outcome instanceof Error) next.reject(outcome);
    else next.resolve(outcome);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { maker, settle, pending };
}

describe('ReadyPool', () => {
  test('refills to the target, one make at a time, and hands items out in order', async () => {
    const { maker, settle, pending } = manualMaker();
    const pool = new ReadyPool(2, maker, 'first');
    pool.refill();
    assert.equal(pending.length, 1);
    await settle('a');
    assert.equal(pool.size, 2);
    assert.equal(pending.length, 0);
    assert.equal(pool.take(), 'first');
    assert.equal(pending.length, 1);
    assert.equal(pool.take(), 'a');
    assert.equal(pool.take(), undefined);
    assert.equal(pending.length, 1, 'still one make at a time');
    await settle('b');
    await settle('c');
    await pool.settled();
    assert.equal(pool.size, 2);
    assert.equal(maker.made, 3);
  });

  test('a failed make stops refilling until the next take', async () => {
    const { maker, settle, pending } = manualMaker();
    const pool = new ReadyPool(2, maker);
    pool.refill();
    await settle(new Error('disk full'));
    await pool.settled();
    assert.equal(pending.length, 0);
    assert.equal(maker.errors.length, 1);
    assert.equal(pool.take(), undefined);
    assert.equal(pending.length, 1);
    await settle('a');
    await settle('b');
    assert.equal(pool.size, 2);
  });

  test('close discards the ready items and the one still being made', async () => {
    const { maker, settle } = manualMaker();
    const pool = new ReadyPool(3, maker, 'first');
    pool.refill();
    await settle('a');
    const closed = pool.close();
    await settle('b');
    await closed;
    assert.deepEqual(maker.discarded.sort(), ['a', 'b', 'first']);
    assert.equal(pool.take(), undefined);
    assert.equal(maker.made, 2);
  });
});
