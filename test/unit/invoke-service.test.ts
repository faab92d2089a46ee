/**
 * InvokeService with fakes around it (a fake factory and environments with the real lifecycle, the
 * real EnvironmentPool, an injected clock). Creating environments: whatever happens between the
 * pool's reservation and a ready environment, the reserved room and the cold-start slot are given
 * back exactly when no environment holds them. Invoking: warm environments are reused, reserved
 * concurrency is enforced with Lambda's 429, and an invocation holds its concurrency until the
 * environment is done with it.
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
  InvocationOutcome,
} from '../../src/environment/execution-environment.js';
import type { ResolvedFunction, RuntimeLaunch } from '../../src/environment/ports.js';
import { isReservation, type Reservation } from '../../src/environment/reservation.js';
import { EnvironmentPool } from '../../src/invoke/environment-pool.js';
import {
  environmentKey,
  InvokeService,
  type CreatedEnvironment,
} from '../../src/invoke/invoke-service.js';
import { LambdaError } from '../../src/core/errors.js';
import type { InvocationEvent } from '../../src/core/runtime-protocol.js';

const MEMORY = 256;
const clock = { now: () => 1_000 };
const codeDirs: string[] = [];

after(() => {
  for (const dir of codeDirs) rmSync(dir, { recursive: true, force: true });
});

/** A custom-runtime function whose code folder holds an executable `bootstrap` (or nothing). */
function resolvedFunction(withBootstrap: boolean, reservedConcurrency?: number): ResolvedFunction {
  const codeDir = mkdtempSync(join(tmpdir(), 'lamina-unit-code-'));
  codeDirs.push(codeDir);
  if (withBootstrap) {
    writeFileSync(join(codeDir, 'bootstrap'), '#!/bin/sh\n');
    chmodSync(join(codeDir, 'bootstrap'), 0o755);
  }
  return {
    record: { name: 'f', reservedConcurrency },
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
  runtimeVersionArn: '',
};

/** Called at each invocation a fake environment receives. */
const invoked: Array<() => void> = [];

/** Resolves at the next invocation a fake environment receives. */
function nextInvocation(): Promise<void> {
  return new Promise((resolve) => invoked.push(resolve));
}

/** An environment with the real lifecycle whose init ends as told. */
function fakeEnvironment(init: InitOutcome, key = 'k') {
  const lifecycle = new EnvironmentLifecycle();
  const env = {
    get state() {
      return lifecycle.state;
    },
    onMove: lifecycle.onMove.bind(lifecycle),
    lastUsedMs: 0,
    settings: { key, functionName: 'f', version: '$LATEST', memoryMiB: MEMORY },
    init: () => {
      lifecycle.move(init.ok ? 'ready' : 'dead');
      return Promise.resolve(init);
    },
    destroy: () => {
      if (lifecycle.state !== 'dead') lifecycle.move('dead');
      return Promise.resolve();
    },
    /** Invocations in progress: the test answers each, and says when it is complete. */
    running: [] as Array<{
      readonly payload: string;
      readonly answer: (outcome: InvocationOutcome) => void;
      readonly complete: () => void;
    }>,
    invoke: (event: InvocationEvent) => {
      lifecycle.move('busy');
      return new Promise((resolve) => {
        let complete!: () => void;
        const completed = new Promise<void>((done) => (complete = done));
        env.running.push({
          payload: event.payload.toString(),
          answer: (outcome) => resolve({ outcome, logTail: undefined, completed }),
          complete: () => {
            lifecycle.move('ready');
            complete();
          },
        });
        for (const listener of invoked.splice(0)) listener();
      });
    },
  };
  return env;
}

type FakeEnvironment = ReturnType<typeof fakeEnvironment>;

/** A fake environment where the service expects a real one. */
function asEnvironment(fake: FakeEnvironment): ExecutionEnvironment {
  return fake as unknown as ExecutionEnvironment;
}

/** The service with a factory whose cold start does `coldStart`. */
function serviceWith(
  coldStart: (reservation: Reservation) => Promise<ExecutionEnvironment>,
  maxColdStarts = 1,
  resolved?: ResolvedFunction,
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
    resolver: {
      resolve: () =>
        resolved === undefined ? Promise.reject(new Error('not used')) : Promise.resolve(resolved),
    },
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
      reservation.commit(asEnvironment(failing));
      return Promise.resolve(asEnvironment(failing));
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
      reservation.commit(asEnvironment(ready));
      waiting = otherColdStart(pool).then((other) => {
        served = true;
        return other;
      });
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(served, false, 'the cold start holds its slot until init ends');
      return asEnvironment(ready);
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

describe('InvokeService.invoke', () => {
  const success = (text: string): InvocationOutcome => ({
    kind: 'success',
    payload: Buffer.from(text),
    contentType: 'application/json',
  });

  /** The service for function `f` (reserved concurrency as given), counting its cold starts. */
  function invoking(reservedConcurrency?: number) {
    const made: FakeEnvironment[] = [];
    const resolved = resolvedFunction(true, reservedConcurrency);
    const { pool, service } = serviceWith(
      (reservation) => {
        const env = fakeEnvironment({ ok: true, durationMs: 5 }, environmentKey(resolved));
        made.push(env);
        reservation.commit(asEnvironment(env));
        return Promise.resolve(asEnvironment(env));
      },
      4,
      resolved,
    );
    let count = 0;
    const request = (payload: string) => {
      count += 1;
      return {
        requestId: `r${count}`,
        functionName: 'f',
        qualifier: undefined,
        payload: Buffer.from(payload),
        clientContext: undefined,
        logTail: false,
      };
    };
    const invoke = (payload = '{}') => service.invoke(request(payload));
    /** Resolves only once the invocation is complete and has given its concurrency back. */
    const invokeToEnd = (payload = '{}') => service.invokeToEnd(request(payload));
    return { pool, service, made, invoke, invokeToEnd };
  }

  test('the next invoke reuses the warm environment: one cold start for two invokes', async () => {
    const { made, invoke, invokeToEnd } = invoking();
    const started = nextInvocation();
    // To its end: the environment is back in the pool when it resolves.
    const first = invokeToEnd('{"n":1}');
    await started;
    const run = made[0]?.running[0];
    assert.equal(run?.payload, '{"n":1}');
    run?.answer(success('1'));
    run?.complete();
    assert.equal(String((await first).outcome.payload), '1');
    const again = nextInvocation();
    const second = invoke('{"n":2}');
    await again;
    made[0]?.running[1]?.answer(success('2'));
    made[0]?.running[1]?.complete();
    assert.equal(String((await second).outcome.payload), '2');
    assert.equal(made.length, 1);
  });

  test('reserved concurrency 1: a second invoke while one runs is throttled with Lambda’s reason', async () => {
    const { made, invoke, invokeToEnd } = invoking(1);
    const started = nextInvocation();
    const first = invokeToEnd();
    await started;
    await assert.rejects(invoke(), (error: unknown) => {
      assert.ok(error instanceof LambdaError);
      assert.equal(error.code, 'TooManyRequestsException');
      assert.equal(error.extras.reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
      return true;
    });
    made[0]?.running[0]?.answer(success('"ok"'));
    made[0]?.running[0]?.complete();
    await first;
    const again = nextInvocation();
    const third = invoke();
    await again;
    made[0]?.running[1]?.answer(success('"ok"'));
    made[0]?.running[1]?.complete();
    assert.equal((await third).outcome.kind, 'success');
  });

  test('an answered invocation holds its concurrency until the environment is done with it', async () => {
    const { made, invoke, invokeToEnd } = invoking(1);
    let ended = false;
    const started = nextInvocation();
    const toEnd = invokeToEnd().then((result) => {
      ended = true;
      return result;
    });
    await started;
    // Answered, while extensions still work on the invocation: the slot is still taken...
    made[0]?.running[0]?.answer(success('"answered"'));
    await assert.rejects(invoke(), /Rate Exceeded/);
    assert.equal(ended, false, 'invokeToEnd resolved before the invocation was complete');
    // ...until it is complete: invokeToEnd resolves then, and the slot is free again.
    made[0]?.running[0]?.complete();
    assert.equal(String((await toEnd).outcome.payload), '"answered"');
    const again = nextInvocation();
    const next = invoke();
    await again;
    made[0]?.running[1]?.answer(success('"next"'));
    made[0]?.running[1]?.complete();
    assert.equal(String((await next).outcome.payload), '"next"');
  });

  test('a function error is the invocation’s outcome, not an exception', async () => {
    const { made, invoke } = invoking();
    const started = nextInvocation();
    const first = invoke();
    await started;
    made[0]?.running[0]?.answer({
      kind: 'function-error',
      errorType: 'Boom',
      payload: Buffer.from('{"errorType":"Boom"}'),
    });
    made[0]?.running[0]?.complete();
    const { outcome } = await first;
    assert.equal(outcome.kind, 'function-error');
  });
});
