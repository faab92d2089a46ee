import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { watchdogScript } from '../../src/sandbox/watchdog.js';

test('refuses prefixes that could reach beyond what the server made', () => {
  for (const prefix of ['', '/', '/tmp', 'relative/x', '//'])
    assert.throws(
      () => watchdogScript({ serverPid: 1, cgroupBases: [], v2: false, prefixes: [prefix] }),
      /not a safe watchdog prefix/,
    );
});

test('disarmed, it touches nothing; orphaned, it removes what its prefixes name', () => {
  const root = mkdtempSync(join(tmpdir(), 'watchdog-test-'));
  try {
    const mine = join(root, '123.a');
    const other = join(root, '1234.b');
    mkdirSync(mine);
    writeFileSync(join(root, '123.a.img'), '');
    mkdirSync(other);
    const script = watchdogScript({
      serverPid: 123,
      cgroupBases: [],
      v2: false,
      prefixes: [join(root, '123.')],
    });
    spawnSync('/bin/sh', ['-c', script], { input: 'disarm\n' });
    assert.ok(existsSync(mine));
    // The pipe closes without a word: the server is gone.
    spawnSync('/bin/sh', ['-c', script], { input: '' });
    assert.ok(!existsSync(mine));
    assert.ok(!existsSync(join(root, '123.a.img')));
    assert.ok(existsSync(other), 'another pid whose number starts the same is left alone');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
