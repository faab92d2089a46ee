/** ExecutionEnvironment: an invoke that fails unexpectedly leaves the environment dead, not busy. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { InvocationEvent, RuntimeAnswer } from '../../src/core/runtime-protocol.js';
import { systemClock } from '../../src/core/clock.js';
import { ExecutionEnvironment } from '../../src/environment/execution-environment.js';
import { ExtensionRegistry } from '../../src/environment/extension-registry.js';
import type { RuntimeChannel } from '../../src/environment/ports.js';
import type { Sandbox, SandboxExit } from '../../src/environment/sandbox-driver.js';
import { TelemetryHub } from '../../src/environment/telemetry-hub.js';

interface Faults {
  thaw?: Error;
  invoke?: Error;
  /** Measuring memory for REPORT fails (after the runtime answered). */
  memory?: Error;
  /** The runtime answers only once this resolves. */
  answerWhen?: Promise<void>;
  /** The sandbox exits only once this resolves (a kill takes its time). */
  exitWhen?: Promise<void>;
}

/** A sandbox and channel that answer at once, failing where `faults` says. */
function environment(faults: Faults): ExecutionEnvironment {
  let exit!: (value: SandboxExit) => void;
  const exited = new Promise<SandboxExit>((resolve) => {
    exit = resolve;
  });
  const sandbox: Sandbox = {
    id: 'sandbox',
    exited,
    limitCpu: () => Promise.resolve(),
    resize: () => Promise.resolve(),
    colocate: () => false,
    freeze: () => Promise.resolve(),
    thaw: () => (faults.thaw === undefined ? Promise.resolve() : Promise.reject(faults.thaw)),
    maxMemoryUsedMiB: () =>
      faults.memory === undefined ? Promise.resolve(0) : Promise.reject(faults.memory),
    kill: () => {
      void (faults.exitWhen ?? Promise.resolve()).then(() =>
        exit({ code: null, signal: 'SIGKILL', outOfMemory: false }),
      );
      return exited;
    },
    extensions: Promise.resolve([]),
    startRuntime: () => undefined,
    onExtensionExit: () => undefined,
    translate: (variables) => ({ ...variables }),
  };
  const channel: RuntimeChannel = {
    onFirstNext: (listener) => queueMicrotask(listener),
    onInitError: () => undefined,
    expectAssignment: () => undefined,
    onAssignmentWait: () => undefined,
    assign: () => false,
    invoke: async (): Promise<RuntimeAnswer> => {
      await faults.answerWhen;
      if (faults.invoke !== undefined) throw faults.invoke;
      return { kind: 'response', body: Buffer.from('{}'), contentType: undefined };
    },
    attachExtensions: () => undefined,
    runtimeWaiting: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  const telemetry = new TelemetryHub(undefined, () => systemClock.now());
  const registry = new ExtensionRegistry(
    { functionName: 'f', functionVersion: '$LATEST', handler: 'index.handler', accountId: '1' },
    telemetry,
  );
  return new ExecutionEnvironment(
    {
      id: 'env',
      key: 'f',
      functionName: 'f',
      version: '$LATEST',
      memoryMiB: 128,
      timeoutSeconds: 3,
      logGroup: '/aws/lambda/f',
      logStream: 'stream',
    },
    sandbox,
    channel,
    { append: () => undefined, end: () => undefined },
    systemClock,
    () => undefined,
    { registry, telemetry, initializationType: 'on-demand' },
  );
}

const event: InvocationEvent = {
  requestId: 'req-1',
  payload: Buffer.from('{}'),
  deadlineMs: Date.now() + 3000,
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:1:function:f',
  traceId: 'Root=1-00000000-000000000000000000000000',
};

describe('ExecutionEnvironment error paths', () => {
  test('a ready environment serves an invoke and stays ready', async () => {
    const env = environment({});
    assert.equal((await env.init(1000)).ok, true);
    const { outcome } = await env.invoke(event, false);
    assert.equal(outcome.kind, 'success');
    assert.equal(env.state, 'ready');
    await env.destroy();
  });

  for (const [name, faults] of [
    ['thawing fails', { thaw: new Error('cgroup.freeze: EBUSY') }],
    ['the channel refuses the event', { invoke: new Error('channel closed') }],
    ['the report cannot be completed', { memory: new Error('memory.peak: EIO') }],
  ] as const) {
    for (const mode of ['buffered', 'streaming'] as const) {
      test(`${mode}: when ${name} the invoke rejects and the environment dies`, async () => {
        const env = environment(faults);
        assert.equal((await env.init(1000)).ok, true);
        const attempt =
          mode === 'buffered'
            ? env.invoke(event, true)
            : env.invokeStreaming(event, false).then((stream) => stream.done);
        await assert.rejects(attempt);
        // A busy environment is never returned to the pool nor freed: it would hold its memory.
        assert.equal(env.state, 'dead');
        await env.ended;
      });
    }
  }
  test('an environment destroyed while busy stays dead when the runtime answers afterwards', async () => {
    let answer!: () => void;
    let exit!: () => void;
    const env = environment({
      answerWhen: new Promise((resolve) => (answer = resolve)),
      exitWhen: new Promise((resolve) => (exit = resolve)),
    });
    assert.equal((await env.init(1000)).ok, true);
    const invoking = env.invoke(event, false);
    // Provisioned concurrency removed (or the server stopping) while the invocation runs.
    const destroying = env.destroy();
    answer();
    const { outcome } = await invoking;
    assert.equal(outcome.kind, 'success');
    assert.equal(env.state, 'dead', 'a destroyed environment never becomes ready again');
    exit();
    await destroying;
  });

  test('a retired environment finishes its running invocation, then stops', async () => {
    let answer!: () => void;
    const env = environment({ answerWhen: new Promise((resolve) => (answer = resolve)) });
    assert.equal((await env.init(1000)).ok, true);
    const invoking = env.invoke(event, false);
    // Provisioned concurrency removed while the invocation runs: it must not be cut short.
    await env.retire();
    assert.equal(env.state, 'busy');
    answer();
    const { outcome } = await invoking;
    assert.equal(outcome.kind, 'success');
    await env.ended;
    assert.equal(env.state, 'dead', 'a retired environment is not pooled again');
  });

  test('an idle environment retires at once', async () => {
    const env = environment({});
    assert.equal((await env.init(1000)).ok, true);
    await env.retire();
    assert.equal(env.state, 'dead');
  });
});
