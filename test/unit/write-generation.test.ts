/** WriteGeneration: write methods move the generation on; reads pass through untouched. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WriteGeneration } from '../../src/server/write-generation.js';

class Store {
  readonly #rows = new Map<string, string>();
  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.#rows.get(key));
  }
  async put(key: string, value: string): Promise<void> {
    await Promise.resolve();
    this.#rows.set(key, value);
  }
  fail(): Promise<void> {
    return Promise.reject(new Error('refused'));
  }
}

test('writes move the generation on (also when they fail), reads do not', async () => {
  const writes = new WriteGeneration();
  const store = writes.watch(new Store(), ['put', 'fail']);
  const start = writes.value;
  assert.equal(await store.get('a'), undefined);
  assert.equal(writes.value, start);
  const during = store.put('a', '1');
  const inFlight = writes.value;
  assert.ok(inFlight > start, 'a write in flight already outdates what was read before it');
  await during;
  assert.ok(writes.value > inFlight, 'the finished write outdates reads made while it ran');
  assert.equal(await store.get('a'), '1');
  const beforeFailure = writes.value;
  await assert.rejects(store.fail(), /refused/);
  assert.ok(writes.value > beforeFailure);
});
