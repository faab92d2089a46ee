/** Ephemeral storage without the right to mount: the jail keeps its in-memory /tmp. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openEphemeralStorage } from '../../src/sandbox/ephemeral-storage.js';

describe('ephemeral storage without root', () => {
  test('creates nothing and says in one sentence why /tmp is in memory', async () => {
    const provider = await openEphemeralStorage({
      root: '/nonexistent/storage',
      privileged: false,
    });
    assert.match(provider.limitation ?? '', /^\/tmp is in memory: .*root.*ENOSPC/);
    assert.equal(await provider.create('abc', 512 * 1024 * 1024), undefined);
    assert.equal(await provider.sweep(), 0);
    await provider.close();
  });

  test('a relative storage folder is a limitation, not a crash', async () => {
    const provider = await openEphemeralStorage({ root: 'relative/storage', privileged: true });
    assert.match(provider.limitation ?? '', /^\/tmp is in memory: .*not an absolute path/);
    assert.equal(await provider.create('abc', 512 * 1024 * 1024), undefined);
  });
});
