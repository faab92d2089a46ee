/**
 * Provisioner with fakes: a resolver, a pool that grants room or refuses it, and environments
 * whose creation, death and removal the test decides. Each step waits for the provisioner's
 * change event, never for time.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ExecutionEnvironment } from '../../src/environment/execution-environment.js';
import type { ResolvedFunction } from '../../src/environment/ports.js';
import type { Reservation } from '../../src/environment/reservation.js';
import { environmentKey, type CreatedEnvironment } from '../../src/invoke/invoke-service.js';
import { Provisioner } from '../../src/invoke/provisioner.js';

/** A function at a version (the key of its environments changes with the version). */
function resolvedAt(version: string): ResolvedFunction {
  return {
    record: { name: 'fn' },
    version: { version, lastModifiedMs: 1, settings: { memoryMiB: 128 } },
    codeDir: `/code/${version}`,
  } as unknown as ResolvedFunction;
}

/** An environment of the fake kind: `die()` ends it as a crash would. */
interface FakeEnvironment {
  readonly env: ExecutionEnvironment;
  readonly version: string;
  state: 'ready' | 'busy' | 'dead';
  destroyed: boolean;
  retired: boolean;
  die(): void;
}

function setUp(options: { room?: number } = {}) {
  let version = '1';
  let room = options.room ?? Infinity;
  const made: FakeEnvironment[] = [];
  const released: ExecutionEnvironment[] = [];
  let failNextInit = false;
  const listeners: Array<() => void> = [];
  const provisioner = new Provisioner({
    resolver: { resolve: () => Promise.resolve(resolvedAt(version)) },
    pool: {
      reserve: () => {
        if (room <= 0) return undefined;
        room -= 1;
        return {} as Reservation;
      },
      release: (env) => void released.push(env),
    },
    create: (resolved): Promise<CreatedEnvironment> => {
      if (failNextInit) {
        failNextInit = false;
        return Promise.resolve({
          ok: false,
          outcome: {
            kind: 'function-error',
            payload: Buffer.from('{"errorType":"Runtime.ExitError","errorMessage":"exit 1"}'),
          },
        } as unknown as CreatedEnvironment);
      }
      let end!: () => void;
      const ended = new Promise<void>((resolve) => (end = resolve));
      const fake: FakeEnvironment = {
        version: resolved.version.version,
        state: 'ready',
        destroyed: false,
        retired: false,
        die: () => {
          fake.state = 'dead';
          end();
        },
        env: undefined as unknown as ExecutionEnvironment,
      };
      (fake as { env: unknown }).env = {
        get state() {
          return fake.state;
        },
        settings: { key: environmentKey(resolved) },
        ended,
        destroy: () => {
          fake.destroyed = true;
          fake.die();
          return Promise.resolve();
        },
        retire: () => {
          fake.retired = true;
          fake.die();
          return Promise.resolve();
        },
      };
      made.push(fake);
      return Promise.resolve({ ok: true, env: fake.env });
    },
    onChange: () => {
      for (const listener of listeners.splice(0)) listener();
    },
  });
  /** Resolves once the target's state satisfies `check` (checked at every change). */
  const until = (qualifier: string, check: (s: ReturnType<Provisioner['state']>) => boolean) =>
    new Promise<void>((resolve) => {
      const test = () => {
        if (check(provisioner.state('fn', qualifier))) resolve();
        else listeners.push(test);
      };
      test();
    });
  return {
    provisioner,
    made,
    released,
    until,
    moveTo: (next: string) => (version = next),
    failNextInit: () => (failNextInit = true),
  };
}

const live = (made: readonly FakeEnvironment[]) => made.filter((fake) => fake.state !== 'dead');

describe('Provisioner', () => {
  test('creates the requested environments, puts them in the warm pool, and reports READY', async () => {
    const { provisioner, made, released, until } = setUp();
    provisioner.apply('fn', '1', 3);
    assert.equal(provisioner.state('fn', '1')?.status, 'IN_PROGRESS');
    await until('1', (s) => s?.status === 'READY');
    assert.equal(made.length, 3);
    assert.equal(released.length, 3);
    assert.deepEqual(provisioner.state('fn', '1'), {
      allocated: 3,
      available: 3,
      status: 'READY',
      reason: undefined,
    });
    await provisioner.stop();
    assert.ok(made.every((fake) => fake.destroyed));
  });

  test('an environment that dies is made again', async () => {
    const { provisioner, made, until } = setUp();
    provisioner.apply('fn', '1', 2);
    await until('1', (s) => s?.status === 'READY');
    made[0]?.die();
    await until('1', () => made.length === 3 && live(made).length === 2);
    assert.equal(provisioner.state('fn', '1')?.allocated, 2);
    await provisioner.stop();
  });

  test('fewer requested: the idle extras end', async () => {
    const { provisioner, made, until } = setUp();
    provisioner.apply('fn', '1', 3);
    await until('1', (s) => s?.status === 'READY' && s.allocated === 3);
    provisioner.apply('fn', '1', 1);
    await until('1', (s) => s?.status === 'READY' && s.allocated === 1);
    assert.equal(live(made).length, 1);
    assert.equal(made.filter((fake) => fake.destroyed).length, 2);
    await provisioner.stop();
  });

  test('an alias that moves to another version gets environments of that version', async () => {
    const { provisioner, made, until, moveTo } = setUp();
    provisioner.apply('fn', 'live', 2);
    await until('live', (s) => s?.status === 'READY');
    moveTo('2');
    provisioner.refresh('fn');
    await until(
      'live',
      () => live(made).length === 2 && live(made).every((f) => f.version === '2'),
    );
    assert.ok(made.filter((fake) => fake.version === '1').every((fake) => fake.destroyed));
    await until('live', (s) => s?.status === 'READY');
    await provisioner.stop();
  });

  test('no room left on the host: FAILED with the reason', async () => {
    const { provisioner, until } = setUp({ room: 1 });
    provisioner.apply('fn', '1', 2);
    await until('1', (s) => s?.status === 'FAILED');
    assert.match(
      provisioner.state('fn', '1')?.reason ?? '',
      /no memory left for another 128 MB execution environment/,
    );
    await provisioner.stop();
  });

  test('an init that fails: FAILED with the function error', async () => {
    const { provisioner, until, failNextInit } = setUp();
    failNextInit();
    provisioner.apply('fn', '1', 1);
    await until('1', (s) => s?.status === 'FAILED');
    assert.equal(
      provisioner.state('fn', '1')?.reason,
      'Function initialization failed: Runtime.ExitError: exit 1',
    );
    await provisioner.stop();
  });

  test('remove retires the environments and forgets the target', async () => {
    const { provisioner, made, until } = setUp();
    provisioner.apply('fn', '1', 2);
    await until('1', (s) => s?.status === 'READY');
    await provisioner.remove('fn', '1');
    assert.ok(made.every((fake) => fake.retired));
    assert.equal(provisioner.state('fn', '1'), undefined);
  });
});
