/**
 * PrestartedPool with fakes: boots the test ends by hand, sandboxes whose exit the test decides.
 * Each step waits for the next boot or the pool's change event, never for time.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BootedSandbox } from '../../src/environment/environment-factory.js';
import type { RuntimeLaunch } from '../../src/environment/ports.js';
import { PrestartedPool } from '../../src/environment/prestarted-pool.js';
import type { Sandbox, SandboxExit } from '../../src/environment/sandbox-driver.js';

const LAUNCH = {
  command: ['/var/lang/bin/node', '/var/runtime/index.mjs'],
} as unknown as RuntimeLaunch;

/** A booted sandbox of the fake kind: `exit()` ends its process. */
function booted(id: string): BootedSandbox & { exit: () => void } {
  let exit!: (value: SandboxExit) => void;
  const exited = new Promise<SandboxExit>((resolve) => (exit = resolve));
  return {
    id,
    family: 'node',
    sandbox: { id, exited } as unknown as Sandbox,
    endpoints: undefined as unknown as BootedSandbox['endpoints'],
    slotDir: `/slots/${id}`,
    output: { early: [] },
    exit: () => exit({ code: 0, signal: null, outOfMemory: false }),
  };
}

function setUp(size: number) {
  const boots: Array<{ resolve: (value: BootedSandbox) => void; reject: (e: Error) => void }> = [];
  const discarded: string[] = [];
  const failures: string[] = [];
  const bootListeners: Array<() => void> = [];
  const pool = new PrestartedPool(size, {
    boot: () =>
      new Promise<BootedSandbox>((resolve, reject) => {
        boots.push({ resolve, reject });
        for (const listener of bootListeners) listener();
      }),
    discard: (sandbox) => {
      discarded.push(sandbox.id);
      return Promise.resolve();
    },
    onBootFailure: (_family, error) => failures.push((error as Error).message),
    retryDelayMs: 0,
  });
  /** Resolves once `count` boots have been asked for in all. */
  const booting = (count: number) =>
    new Promise<void>((resolve) => {
      // The pool's retry timer never holds the process open: this handle does, while we wait.
      const keepAlive = setInterval(() => undefined, 60_000);
      const check = () => boots.length >= count && (clearInterval(keepAlive), resolve(), true);
      if (!check()) bootListeners.push(() => void check());
    });
  /** Resolves at the pool's next change. */
  const changed = () =>
    new Promise<void>((resolve) => {
      const off = pool.onChange(() => {
        off();
        resolve();
      });
    });
  /** Ends boot `index` (once asked for) with a sandbox or an error; waits for the pool to see it. */
  const finishBoot = async (index: number, outcome: BootedSandbox | Error) => {
    await booting(index + 1);
    const change = changed();
    if (outcome instanceof Error) boots[index]?.reject(outcome);
    else boots[index]?.resolve(outcome);
    await change;
  };
  /** The pool with the node family registered and started. */
  const started = () => {
    pool.register('node', LAUNCH);
    pool.start();
    return pool;
  };
  return { pool, boots, discarded, failures, booting, changed, finishBoot, started };
}

describe('PrestartedPool', () => {
  test('boots nothing until started, then one at a time up to its size', async () => {
    const { pool, boots, booting, finishBoot } = setUp(2);
    pool.register('node', LAUNCH);
    assert.equal(boots.length, 0);
    assert.deepEqual(pool.status()[0]?.ready, 0);
    pool.start();
    await booting(1);
    assert.equal(boots.length, 1, 'a second boot started before the first ended');
    await finishBoot(0, booted('s1'));
    await finishBoot(1, booted('s2'));
    assert.equal(pool.status()[0]?.ready, 2);
    assert.equal(boots.length, 2, 'booted beyond its size');
    await pool.stop();
  });

  test('take hands out the oldest booted sandbox and refills behind it', async () => {
    const { started, boots, booting, finishBoot } = setUp(1);
    const pool = started();
    await finishBoot(0, booted('s1'));
    assert.equal(pool.take('node')?.id, 's1');
    assert.equal(pool.take('node'), undefined);
    await booting(2);
    assert.equal(pool.status()[0]?.taken, 1);
    assert.equal(pool.take('python'), undefined);
    // A stop waits for boots under way.
    boots[1]?.resolve(booted('s2'));
    await pool.stop();
  });

  test('a failed boot is reported and tried again', async () => {
    const { started, failures, finishBoot } = setUp(1);
    const pool = started();
    await finishBoot(0, new Error('no runtime'));
    assert.deepEqual(failures, ['no runtime']);
    assert.equal(pool.status()[0]?.lastError, 'no runtime');
    await finishBoot(1, booted('s2'));
    assert.equal(pool.status()[0]?.lastError, undefined);
    await pool.stop();
  });

  test('a booted sandbox that exits while waiting leaves the pool, which boots another', async () => {
    const { started, boots, discarded, booting, changed, finishBoot } = setUp(1);
    const pool = started();
    const sandbox = booted('s1');
    await finishBoot(0, sandbox);
    const change = changed();
    sandbox.exit();
    await change;
    assert.deepEqual(discarded, ['s1']);
    assert.equal(pool.take('node'), undefined);
    await booting(2);
    boots[1]?.resolve(booted('s2'));
    await pool.stop();
  });

  test('stop discards the ready ones and waits for a boot under way, then discards it too', async () => {
    const { started, boots, discarded, booting, finishBoot } = setUp(2);
    const pool = started();
    await finishBoot(0, booted('s1'));
    await booting(2);
    const stopped = pool.stop();
    boots[1]?.resolve(booted('s2'));
    await stopped;
    assert.deepEqual(discarded.sort(), ['s1', 's2']);
    assert.equal(boots.length, 2);
  });

  test('a size of 0 registers nothing and boots nothing', () => {
    const { started, boots } = setUp(0);
    const pool = started();
    assert.equal(boots.length, 0);
    assert.deepEqual(pool.status(), []);
  });
});
