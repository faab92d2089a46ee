/** The pool's decisions: reuse, the memory budget, eviction of idle environments, throttling. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LambdaError } from '../../src/core/errors.js';
import { EnvironmentPool, lineageOf } from '../../src/invoke/environment-pool.js';
import type { ExecutionEnvironment } from '../../src/invoke/execution-environment.js';

/** A stand-in environment: the pool only reads these fields and calls destroy(). */
function fakeEnv(key: string, functionName: string, memoryMiB: number, lastUsedMs = 0) {
  const env = {
    state: 'ready' as string,
    lastUsedMs,
    settings: { key, functionName, version: '$LATEST', memoryMiB },
    destroyed: false,
    destroy: () => {
      env.destroyed = true;
      env.state = 'dead';
      return Promise.resolve();
    },
  };
  return env;
}
const asEnv = (env: ReturnType<typeof fakeEnv>) => env as unknown as ExecutionEnvironment;

describe('EnvironmentPool', () => {
  test('an idle environment of the same key is reused before room is reserved', async () => {
    const pool = new EnvironmentPool({ capacityMiB: 1024, queueTimeoutMs: 0 }, { now: () => 0 });
    assert.equal(await pool.acquire('k', 'f\u0000$LATEST', 512), undefined);
    const env = fakeEnv('k', 'f', 512);
    pool.add(asEnv(env));
    pool.release(asEnv(env));
    assert.equal(await pool.acquire('k', 'f\u0000$LATEST', 512), asEnv(env));
    assert.equal(pool.usedMiB, 512);
  });

  test('idle environments of other functions are evicted, oldest first, to make room', async () => {
    const pool = new EnvironmentPool({ capacityMiB: 1024, queueTimeoutMs: 0 }, { now: () => 100 });
    const old = fakeEnv('a', 'fa', 512, 1);
    const recent = fakeEnv('b', 'fb', 512, 50);
    for (const env of [old, recent]) {
      await pool.acquire(env.settings.key, lineageOf(env.settings), 512);
      pool.add(asEnv(env));
      pool.release(asEnv(env));
    }
    assert.equal(await pool.acquire('c', 'fc\u0000$LATEST', 512), undefined);
    assert.equal(old.destroyed, true);
    assert.equal(recent.destroyed, false);
  });

  test('a changed configuration retires idle environments of the same version', async () => {
    const pool = new EnvironmentPool({ capacityMiB: 4096, queueTimeoutMs: 0 }, { now: () => 0 });
    const v1 = fakeEnv('f-config1', 'f', 512);
    await pool.acquire('f-config1', 'f\u0000$LATEST', 512);
    pool.add(asEnv(v1));
    pool.release(asEnv(v1));
    assert.equal(await pool.acquire('f-config2', 'f\u0000$LATEST', 512), undefined);
    assert.equal(v1.destroyed, true);
    assert.equal(pool.usedMiB, 512);
  });

  test('another version of the same function keeps its idle environments', async () => {
    const pool = new EnvironmentPool({ capacityMiB: 4096, queueTimeoutMs: 0 }, { now: () => 0 });
    const published = fakeEnv('f-1', 'f', 512);
    published.settings.version = '1';
    await pool.acquire('f-1', lineageOf(published.settings), 512);
    pool.add(asEnv(published));
    pool.release(asEnv(published));
    assert.equal(await pool.acquire('f-latest', 'f\u0000$LATEST', 512), undefined);
    assert.equal(published.destroyed, false);
    assert.equal(await pool.acquire('f-1', lineageOf(published.settings), 512), asEnv(published));
  });

  test('with every environment busy and the queue time spent, an invoke is throttled', async () => {
    const pool = new EnvironmentPool({ capacityMiB: 512, queueTimeoutMs: 0 }, { now: () => 0 });
    const busy = fakeEnv('a', 'fa', 512);
    await pool.acquire('a', 'fa\u0000$LATEST', 512);
    pool.add(asEnv(busy));
    await assert.rejects(pool.acquire('b', 'fb\u0000$LATEST', 512), (error: unknown) => {
      assert.ok(error instanceof LambdaError);
      assert.equal(error.code, 'TooManyRequestsException');
      assert.equal(error.extras.reason, 'ConcurrentInvocationLimitExceeded');
      return true;
    });
  });

  test('a waiting invoke proceeds as soon as room is freed', async () => {
    const pool = new EnvironmentPool(
      { capacityMiB: 512, queueTimeoutMs: 60_000 },
      { now: () => 0 },
    );
    const busy = fakeEnv('a', 'fa', 512);
    await pool.acquire('a', 'fa\u0000$LATEST', 512);
    pool.add(asEnv(busy));
    const waiting = pool.acquire('b', 'fb\u0000$LATEST', 512);
    busy.state = 'dead';
    pool.forget(asEnv(busy));
    assert.equal(await waiting, undefined);
    assert.equal(pool.usedMiB, 512);
  });

  test('idle environments past the idle time are stopped; recent ones stay', async () => {
    let now = 0;
    const pool = new EnvironmentPool({ capacityMiB: 4096, queueTimeoutMs: 0 }, { now: () => now });
    const old = fakeEnv('a', 'fa', 128, 0);
    const recent = fakeEnv('b', 'fb', 128, 9_000);
    for (const env of [old, recent]) {
      await pool.acquire(env.settings.key, env.settings.functionName, 128);
      pool.add(asEnv(env));
      pool.release(asEnv(env));
    }
    now = 10_000;
    assert.equal(await pool.reapIdle(5_000), 1);
    assert.equal(old.destroyed, true);
    assert.equal(recent.destroyed, false);
  });
});
