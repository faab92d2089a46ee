/**
 * CodeCollector with fakes: a collection that has passed its checks finishes its removal before
 * a request pinning the same hash writes, and a hash pinned while the collection reads its
 * references is not removed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodeCollector } from '../../src/functions/code-collector.js';
import type { CodeStore } from '../../src/functions/code-store.js';
import type { FunctionRepository } from '../../src/functions/function-repository.js';

function setUp() {
  const log: string[] = [];
  const removals: Array<() => void> = [];
  const lookups: Array<(referenced: boolean) => void> = [];
  /** While `held`, each lookup waits for the test; then it answers `referenced`. */
  const answers = { held: true, referenced: true };
  const repository = {
    isCodeReferenced: () =>
      answers.held
        ? new Promise<boolean>((resolve) => lookups.push(resolve))
        : Promise.resolve(answers.referenced),
  } as unknown as FunctionRepository;
  const code = {
    remove: (hash: string) =>
      new Promise<void>((resolve) => {
        log.push(`removing ${hash}`);
        removals.push(() => {
          log.push(`removed ${hash}`);
          resolve();
        });
      }),
  } as unknown as CodeStore;
  return { collector: new CodeCollector(repository, code), log, removals, lookups, answers };
}

/** Lets pending promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

test('a request pinning a hash waits for its removal under way, then writes', async () => {
  const { collector, log, removals, lookups, answers } = setUp();
  const collecting = collector.collect('h');
  await settle();
  lookups.shift()?.(false);
  await settle();
  assert.deepEqual(log, ['removing h']);
  // From here the hash is referenced: the new record uses it.
  answers.held = false;
  const writing = collector.withPinned('h', () => {
    log.push('writing h');
    return Promise.resolve();
  });
  await settle();
  assert.deepEqual(log, ['removing h'], 'the write waits for the removal');
  removals.shift()?.();
  await Promise.all([collecting, writing]);
  assert.deepEqual(log, ['removing h', 'removed h', 'writing h']);
});

test('a hash pinned while its references are read is not removed', async () => {
  const { collector, log, lookups, answers } = setUp();
  const collecting = collector.collect('h');
  await settle();
  let finish: () => void = () => assert.fail('the work has not started');
  const writing = collector.withPinned(
    'h',
    () => new Promise<void>((resolve) => (finish = resolve)),
  );
  answers.held = false;
  lookups.shift()?.(false);
  await collecting;
  assert.deepEqual(log, []);
  await settle();
  finish();
  // Releasing the pin collects again; by then the new record refers to the hash.
  await writing;
  assert.deepEqual(log, []);
});
