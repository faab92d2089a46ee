/**
 * The pool's decisions: reuse, the memory budget, eviction of idle environments, throttling, and
 * the reservations it hands out for new environments.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LambdaError } from '../../src/core/errors.js';
import { EnvironmentLifecycle } from '../../src/environment/environment-lifecycle.js';
import type { ExecutionEnvironment } from '../../src/environment/execution-environment.js';
import { isReservation, type Reservation } from '../../src/environment/reservation.js';
import { EnvironmentPool, lineageOf } from '../../src/invoke/environment-pool.js';

/**
 * A stand-in environment with the real lifecycle: the pool only reads these fields, listens to
 * its moves and calls destroy().
 */
function fakeEnv(
  key: string,
  functionName: string,
  memoryMiB: number,
  lastUsedMs = 0,
  startedMs = lastUsedMs,
) {
  const lifecycle = new EnvironmentLifecycle();
  const env = {
    lifecycle,
    get state() {
      return lifecycle.state;
    },
    onMove: lifecycle.onMove.bind(lifecycle),
    lastUsedMs,
    startedMs,
    settings: { key, functionName, version: '$LATEST', memoryMiB },
    destroyed: false,
    retired: false,
    retire: () => {
      env.retired = true;
      return Promise.resolve();
    },
    destroy: () => {
      env.destroyed = true;
      if (lifecycle.state !== 'dead') lifecycle.move('dead');
      return Promise.resolve();
    },
  };
  return env;
}
type FakeEnv = ReturnType<typeof fakeEnv>;
const asEnv = (env: FakeEnv) => env as unknown as ExecutionEnvironment;

function reservationOf(taken: ExecutionEnvironment | Reservation): Reservation {
  assert.ok(isReservation(taken), 'expected a reservation, got an environment');
  return taken;
}

/** Reserves room for `env`, commits it, initialises it and gives it back idle. */
async function startIdle(pool: EnvironmentPool, env: FakeEnv): Promise<void> {
  reservationOf(
    await pool.acquire(env.settings.key, lineageOf(env.settings), env.settings.memoryMiB),
  ).commit(asEnv(env));
  env.lifecycle.move('ready');
  pool.release(asEnv(env));
}

describe('EnvironmentPool', () => {
  test('an idle environment of the same key is reused before room is reserved', async () => {
    const pool = new EnvironmentPool({ capacityMiB: 1024, queueTimeoutMs: 0 }, { now: () => 0 });
    const env = fakeEnv('k', 'f', 512);
    await startIdle(pool, env);
    assert.equal(await pool.acquire('k', 'f\u0000$LATEST', 512), asEnv(env));
    assert.equal(pool.usedMiB, 512);
  });

  test('idle environments of other functions are evicted, oldest first, to make room', async () => {
    const pool = new EnvironmentPool({ capacityMiB: 1024, queueTimeoutMs: 0 }, { now: () => 100 });
    const old = fakeEnv('a', 'fa', 512, 1);
    const recent = fakeEnv('b', 'fb', 512, 50);
    await startIdle(pool, old);
    await startIdle(pool, recent);
    reservationOf(await pool.acquire('c', 'fc\u0000$LATEST', 512));
    assert.equal(old.destroyed, true);
    assert.equal(recent.destroyed, false);
    assert.equal(pool.usedMiB, 1024);
  });

  test('a changed configuration retires idle environments of the same version', async () => {
    const pool = new EnvironmentPool({ capacityMiB: 4096, queueTimeoutMs: 0 }, { now: () => 0 });
    const v1 = fakeEnv('f-config1', 'f', 512);
    await startIdle(pool, v1);
    reservationOf(await pool.acquire('f-config2', 'f\u0000$LATEST', 512));
    assert.equal(v1.destroyed, true);
    assert.equal(pool.usedMiB, 512);
  });

  test('another version of the same function keeps its idle environments', async () => {
    const pool = new EnvironmentPool({ capacityMiB: 4096, queueTimeoutMs: 0 }, { now: () => 0 });
    const published = fakeEnv('f-1', 'f', 512);
    published.settings.version = '1';
    await startIdle(pool, published);
    reservationOf(await pool.acquire('f-latest', 'f\u0000$LATEST', 512));
    assert.equal(published.destroyed, false);
    assert.equal(await pool.acquire('f-1', lineageOf(published.settings), 512), asEnv(published));
  });

  test('no room and nothing idle to evict is a 429 with the concurrency reason', async () => {
    const pool = new EnvironmentPool({ capacityMiB: 512, queueTimeoutMs: 0 }, { now: () => 0 });
    const busy = fakeEnv('a', 'fa', 512);
    reservationOf(await pool.acquire('a', 'fa\u0000$LATEST', 512)).commit(asEnv(busy));
    await assert.rejects(pool.acquire('b', 'fb\u0000$LATEST', 512), (error: unknown) => {
      assert.ok(error instanceof LambdaError);
      assert.equal(error.code, 'TooManyRequestsException');
      assert.equal(error.extras.reason, 'ConcurrentInvocationLimitExceeded');
      return true;
    });
  });

  test('a waiting invoke proceeds as soon as an environment dies and frees its room', async () => {
    const pool = new EnvironmentPool(
      { capacityMiB: 512, queueTimeoutMs: 60_000 },
      { now: () => 0 },
    );
    const busy = fakeEnv('a', 'fa', 512);
    reservationOf(await pool.acquire('a', 'fa\u0000$LATEST', 512)).commit(asEnv(busy));
    busy.lifecycle.move('ready');
    busy.lifecycle.move('busy');
    const waiting = pool.acquire('b', 'fb\u0000$LATEST', 512);
    // Nobody tells the pool: it hears the death from the environment's lifecycle.
    busy.lifecycle.move('dead');
    reservationOf(await waiting);
    assert.equal(pool.usedMiB, 512);
  });

  test('a cancelled reservation gives its room and its cold-start slot back; once only', async () => {
    const pool = new EnvironmentPool(
      { capacityMiB: 1024, queueTimeoutMs: 60_000, maxColdStarts: 1, burstTimeoutMs: 60_000 },
      { now: () => 0 },
    );
    const first = reservationOf(await pool.acquire('a', 'fa\u0000$LATEST', 512));
    assert.equal(pool.usedMiB, 512);
    let second: Reservation | undefined;
    const waiting = pool.acquire('b', 'fb\u0000$LATEST', 512).then((taken) => {
      second = reservationOf(taken);
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(second, undefined, 'one cold start at a time');
    first.cancel();
    first.cancel();
    await waiting;
    assert.equal(pool.usedMiB, 512);
    assert.throws(() => first.commit(asEnv(fakeEnv('a', 'fa', 512))), /settled once/);
  });

  test('a committed cold start ends when its environment leaves starting, not before', async () => {
    const pool = new EnvironmentPool(
      { capacityMiB: 4096, queueTimeoutMs: 60_000, maxColdStarts: 1, burstTimeoutMs: 60_000 },
      { now: () => 0 },
    );
    const env = fakeEnv('a', 'fa', 512);
    const first = reservationOf(await pool.acquire('a', 'fa\u0000$LATEST', 512));
    first.commit(asEnv(env));
    first.cancel(); // settled already: keeps the room
    assert.equal(pool.usedMiB, 512);
    let second: Reservation | undefined;
    const waiting = pool.acquire('b', 'fb\u0000$LATEST', 512).then((taken) => {
      second = reservationOf(taken);
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(second, undefined, 'the first environment is still initialising');
    env.lifecycle.move('ready');
    await waiting;
    assert.equal(pool.usedMiB, 1024);
  });

  test('provisioned reservations evict idle environments and hold no cold-start slot', async () => {
    const pool = new EnvironmentPool(
      { capacityMiB: 512, queueTimeoutMs: 0, maxColdStarts: 1 },
      { now: () => 0 },
    );
    await startIdle(pool, fakeEnv('a', 'fa', 512));
    const reservation = pool.reserve(512);
    assert.ok(reservation !== undefined);
    assert.equal(pool.reserve(512), undefined, 'no room left');
    reservation.cancel();
    assert.equal(pool.usedMiB, 0);
  });

  test('an environment committed after it died frees its room at once', async () => {
    const pool = new EnvironmentPool({ capacityMiB: 512, queueTimeoutMs: 0 }, { now: () => 0 });
    const env = fakeEnv('a', 'fa', 512);
    env.lifecycle.move('dead');
    reservationOf(await pool.acquire('a', 'fa\u0000$LATEST', 512)).commit(asEnv(env));
    assert.equal(pool.usedMiB, 0);
  });

  test('an environment being made when its function is deleted is retired as it is committed', async () => {
    const pool = new EnvironmentPool({ capacityMiB: 4096, queueTimeoutMs: 0 }, { now: () => 0 });
    const doomed = fakeEnv('a', 'fa', 512);
    const other = fakeEnv('b', 'fb', 512);
    const doomedRoom = reservationOf(await pool.acquire('a', 'fa\u0000$LATEST', 512));
    const otherRoom = reservationOf(await pool.acquire('b', 'fb\u0000$LATEST', 512));
    assert.equal(await pool.retire('fa'), 0, 'nothing of it is live yet');
    doomedRoom.commit(asEnv(doomed));
    otherRoom.commit(asEnv(other));
    assert.equal(doomed.retired, true);
    assert.equal(other.retired, false);
    // A function of the same name made after the deletion is not affected.
    const again = fakeEnv('a2', 'fa', 512);
    reservationOf(await pool.acquire('a2', 'fa\u0000$LATEST', 512)).commit(asEnv(again));
    assert.equal(again.retired, false);
  });

  test('idle environments past the idle time are stopped; recent ones stay', async () => {
    let now = 0;
    const pool = new EnvironmentPool({ capacityMiB: 4096, queueTimeoutMs: 0 }, { now: () => now });
    const old = fakeEnv('a', 'fa', 128, 0);
    const recent = fakeEnv('b', 'fb', 128, 9_000);
    await startIdle(pool, old);
    await startIdle(pool, recent);
    now = 10_000;
    assert.equal(await pool.reapIdle(5_000), 1);
    assert.equal(old.destroyed, true);
    assert.equal(recent.destroyed, false);
    assert.equal(pool.usedMiB, 128);
  });

  test('environments at their maximum age are retired, busy and idle, however recently used', async () => {
    let now = 0;
    const pool = new EnvironmentPool({ capacityMiB: 4096, queueTimeoutMs: 0 }, { now: () => now });
    const agedIdle = fakeEnv('a', 'fa', 128, 9_500, 0);
    const agedBusy = fakeEnv('b', 'fb', 128, 9_500, 1_000);
    const young = fakeEnv('c', 'fc', 128, 9_500, 6_000);
    await startIdle(pool, agedIdle);
    await startIdle(pool, agedBusy);
    await startIdle(pool, young);
    assert.equal(pool.takeIdle('b'), asEnv(agedBusy));
    agedBusy.lifecycle.move('busy');
    now = 10_000;
    assert.equal(await pool.retireAged(9_000), 2);
    assert.deepEqual([agedIdle.retired, agedBusy.retired, young.retired], [true, true, false]);
  });
});
