/**
 * CachedFunctionLookup with a fake FunctionService: a lookup reads once until the write
 * generation moves, errors are not cached, and a write during a read outdates what it read.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CachedFunctionLookup } from '../../src/functions/cached-function-lookup.js';
import type { FunctionService } from '../../src/functions/function-service.js';

function setUp() {
  const writes = { value: 0 };
  const reads: string[] = [];
  let missing = false;
  let duringRead: (() => void) | undefined;
  const functions = {
    get: async (name: string, qualifier: string | undefined) => {
      reads.push(`${name}:${qualifier ?? ''}`);
      duringRead?.();
      await Promise.resolve();
      if (missing) throw new Error(`Function not found: ${name}`);
      return { record: { name }, version: { version: qualifier ?? '$LATEST' }, ref: {} };
    },
    versionOf: (_record: unknown, version: string) => {
      reads.push(`version ${version}`);
      return Promise.resolve({ version });
    },
  } as unknown as FunctionService;
  const lookup = new CachedFunctionLookup(functions, writes);
  return {
    lookup,
    writes,
    reads,
    setMissing: (value: boolean) => (missing = value),
    onRead: (hook: (() => void) | undefined) => (duringRead = hook),
  };
}

test('a name and qualifier are read once until something is written', async () => {
  const { lookup, writes, reads } = setUp();
  const first = await lookup.get('f', undefined);
  assert.equal(await lookup.get('f', undefined), first);
  await lookup.get('f', '1');
  assert.deepEqual(reads, ['f:', 'f:1']);
  writes.value += 1;
  const again = await lookup.get('f', undefined);
  assert.notEqual(again, first);
  assert.deepEqual(reads, ['f:', 'f:1', 'f:']);
});

test('a failed read is not cached: the next lookup reads again', async () => {
  const { lookup, reads, setMissing } = setUp();
  setMissing(true);
  await assert.rejects(lookup.get('gone', undefined), /Function not found/);
  setMissing(false);
  await lookup.get('gone', undefined);
  assert.deepEqual(reads, ['gone:', 'gone:']);
});

test('a write during the read leaves an entry the next lookup reads again', async () => {
  const { lookup, writes, reads, onRead } = setUp();
  onRead(() => (writes.value += 1));
  await lookup.get('f', undefined);
  onRead(undefined);
  await lookup.get('f', undefined);
  await lookup.get('f', undefined);
  assert.deepEqual(reads, ['f:', 'f:']);
});

test("an alias's routed version is read once per entry", async () => {
  const { lookup, reads } = setUp();
  const cached = await lookup.get('f', 'live');
  assert.deepEqual(await lookup.routedVersion(cached, '2'), { version: '2' });
  assert.deepEqual(await lookup.routedVersion(cached, '2'), { version: '2' });
  assert.deepEqual(reads, ['f:live', 'version 2']);
});
