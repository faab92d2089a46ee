/**
 * InvokeService creating environments, with fakes around it (a fake factory and environments with
 * the real lifecycle, the real EnvironmentPool, an injected clock): whatever happens between the
 * pool's reservation and a ready environment, the reserved room and the cold-start slot are given
 * back exactly when no environment holds them.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { EnvironmentFactory } from '../../src/environment/environment-factory.js';
import { EnvironmentLifecycle } from '../../src/environment/environment-lifecycle.js';
import type {
  ExecutionEnvironment,
  InitOutcome,
} from '../../src/environment/execution-environment.js';
import type { ResolvedFunction, RuntimeLaunch } from '../../src/environment/ports.js';
import { isReservation, type Reservation } from '../../src/environment/reservation.js';
import { EnvironmentPool } from '../../src/invoke/environment-pool.js';
import { InvokeService, type CreatedEnvironment } from '../../src/invoke/invoke-service.js';

const MEMORY = 256;
const clock = { now: () => 1_000 };
const codeDirs: string[] = [];

after(() => {
  for (const dir of codeDirs) rmSync(dir, { recursive: true, force: true });
});

/** A custom-runtime function whose code folder holds an executable `bootstrap` (or nothing). */
function resolvedFunction(withBootstrap: boolean): ResolvedFunction {
  const codeDir = mkdtempSync(join(tmpdir(), 'lamina-unit-code-'));
  codeDirs.push(codeDir);
  if (withBootstrap) {
    writeFileSync(join(codeDir, 'bootstrap'), '#!/bin/sh\n');
    chmodSync(join(codeDir, 'bootstrap'), 0o755);
  }
  return {
    record: { name: 'f' },
    version: {
      version: '$LATEST',
      lastModifiedMs: 1,
      settings: { memoryMiB: MEMORY, runtime: 'provided.al2023', handler: 'h', layers: [] },
    },
    ref: { name: 'f', qualifier: undefined },
    codeDir,
    optDir: undefined,
  } as unknown as ResolvedFunction;
}

const customRuntime: RuntimeLaunch = {
  command: ['/var/task/bootstrap'],
  runtimeDir: undefined,
  langDir: undefined,
  entrypoints: ['bootstrap'],
  env: {},
  prestart: false,
  runtimeVersion: 'provided:al2023',
};

/** An environment with the real lifecycle whose init ends as told. */
function fakeEnvironment(init: InitOutcome) {
  const lifecycle = new EnvironmentLifecycle();
  const env = {
    get state() {
      return lifecycle.state;
    },
    onMove: lifecycle.onMove.bind(lifecycle),
    lastUsedMs: 0,
    settings: { key: 'k', functionName: 'f', version: '$LATEST', memoryMiB: MEMORY },
    init: () => {
      lifecycle.move(init.ok ? 'ready' : 'dead');
      return Promise.resolve(init);
    },
    destroy: () => {
      if (lifecycle.state !== 'dead') lifecycle.move('dead');
      return Promise.resolve();
    },
  };
  return env as unknown as ExecutionEnvironment;
}

/** The service with a factory whose cold start does `coldStart`. */
function serviceWith(
  coldStart: (reservation: Reservation) => Promise<ExecutionEnvironment>,
  maxColdStarts = 1,
) {
  const pool = new EnvironmentPool(
    { capacityMiB: 1024, queueTimeoutMs: 60_000, maxColdStarts, burstTimeoutMs: 60_000 },
    clock,
  );
  const factory = {
    coldStart: (
      _resolved: unknown,
      _key: unknown,
      _launch: unknown,
      _type: unknown,
      reservation: Reservation,
    ) => coldStart(reservation),
  } as unknown as EnvironmentFactory;
  const service = new InvokeService({
    scope: { region: 'us-east-1', accountId: '000000000000' },
    resolver: { resolve: () => Promise.reject(new Error('not used')) },
    pool,
    factory,
    launcher: { launch: () => customRuntime },
    clock,
    initLimitMs: 10_000,
    concurrency: { accountLimit: 1000, reservedTotal: () => 0, provisionedOf: () => 0 },
  });
  return { pool, service };
}

/** A reservation from the pool, as an on-demand invoke would get one. */
async function reserve(pool: EnvironmentPool): Promise<Reservation> {
  const taken = await pool.acquire('k', 'f\u0000$LATEST', MEMORY);
  assert.ok(isReservation(taken));
  return taken;
}

/** The error type of a failed creation. */
function errorTypeOf(created: CreatedEnvironment): string | undefined {
  if (created.ok || created.outcome.kind !== 'function-error') return undefined;
  return created.outcome.errorType;
}

/** Another function's cold start: its reservation once the pool's only slot is free. */
function otherColdStart(pool: EnvironmentPool): Promise<Reservation> {
  return pool.acquire('other', 'g\u0000$LATEST', MEMORY).then((taken) => {
    assert.ok(isReservation(taken));
    return taken;
  });
}

/** Whether the pool's only cold-start slot is free (another cold start gets it at once). */
async function coldStartSlotFree(pool: EnvironmentPool): Promise<boolean> {
  let got = false;
  const other = otherColdStart(pool).then((reservation) => {
    got = true;
    reservation.cancel();
  });
  await new Promise((resolve) => setImmediate(resolve));
  if (got) await other;
  return got;
}

describe('InvokeService.create', () => {
  test('a missing bootstrap is Runtime.InvalidEntrypoint and gives the reservation back', async () => {
    const { pool, service } = serviceWith(() => Promise.reject(new Error('must not start')));
    const reservation = await reserve(pool);
    const created = await service.create(resolvedFunction(false), 'on-demand', 'r1', reservation);
    assert.equal(created.ok, false);
    assert.equal(errorTypeOf(created), 'Runtime.InvalidEntrypoint');
    assert.equal(pool.usedMiB, 0);
    assert.equal(await coldStartSlotFree(pool), true);
  });

  test('a sandbox that cannot start gives the reservation back and reports the error', async () => {
    const { pool, service } = serviceWith(() => Promise.reject(new Error('bwrap failed')));
    const reservation = await reserve(pool);
    await assert.rejects(
      service.create(resolvedFunction(true), 'on-demand', 'r2', reservation),
      /bwrap failed/,
    );
    assert.equal(pool.usedMiB, 0);
    assert.equal(await coldStartSlotFree(pool), true);
  });

  test('a failed init frees the room through the environment dying, not through the caller', async () => {
    const failing = fakeEnvironment({
      ok: false,
      durationMs: 5,
      errorType: 'Runtime.ExitError',
      payload: undefined,
      message: 'exit status 1',
    });
    const { pool, service } = serviceWith((reservation) => {
      reservation.commit(failing);
      return Promise.resolve(failing);
    });
    const reservation = await reserve(pool);
    const created = await service.create(resolvedFunction(true), 'on-demand', 'r3', reservation);
    assert.equal(errorTypeOf(created), 'Runtime.ExitError');
    assert.equal(pool.usedMiB, 0);
    assert.equal(await coldStartSlotFree(pool), true);
  });

  test('a ready environment keeps its room; its cold start ends with its init', async () => {
    const ready = fakeEnvironment({ ok: true, durationMs: 5 });
    let waiting: Promise<Reservation> | undefined;
    let served = false;
    const { pool, service } = serviceWith(async (reservation) => {
      reservation.commit(ready);
      waiting = otherColdStart(pool).then((other) => {
        served = true;
        return other;
      });
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(served, false, 'the cold start holds its slot until init ends');
      return ready;
    });
    const reservation = await reserve(pool);
    const created = await service.create(resolvedFunction(true), 'on-demand', 'r4', reservation);
    assert.equal(created.ok, true);
    assert.ok(waiting !== undefined);
    (await waiting).cancel();
    assert.equal(served, true);
    assert.equal(pool.usedMiB, MEMORY);
  });
});
