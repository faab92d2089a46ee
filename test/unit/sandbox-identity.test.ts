import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { descriptorLimit } from '../../src/server/descriptor-limit.js';
import { lookupUser } from '../../src/server/sandbox-identity.js';

test('the sandbox user is read from a passwd file', () => {
  const passwd = [
    'root:x:0:0:root:/root:/bin/bash',
    'lamina-sandbox:x:999:995:Lamina function sandboxes:/nonexistent:/usr/sbin/nologin',
    '',
  ].join('\n');
  assert.deepEqual(lookupUser(passwd, 'lamina-sandbox'), { uid: 999, gid: 995 });
  assert.equal(lookupUser(passwd, 'lamina'), undefined);
  assert.equal(lookupUser('lamina-sandbox:x:abc:1::/:/bin/false', 'lamina-sandbox'), undefined);
});

test('the descriptor limit is the soft RLIMIT_NOFILE, 1,024 when unreadable', () => {
  const dir = mkdtempSync(join(tmpdir(), 'limits-'));
  try {
    const file = join(dir, 'limits');
    writeFileSync(
      file,
      'Limit                     Soft Limit           Hard Limit           Units     \n' +
        'Max open files            20000                40000                files     \n',
    );
    assert.equal(descriptorLimit(file), 20_000);
    assert.equal(descriptorLimit(join(dir, 'missing')), 1024);
    assert.ok(descriptorLimit() >= 256);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
