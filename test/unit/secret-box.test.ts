/** Secrets sealed under a key kept apart from the database. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SecretBox } from '../../src/store/secret-box.js';

test('a sealed secret opens with its key only, and not once changed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lamina-secret-box-'));
  try {
    const box = SecretBox.open(join(dir, 'key'));
    assert.equal(statSync(join(dir, 'key')).mode & 0o777, 0o600);
    const sealed = box.seal('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
    assert.doesNotMatch(sealed, /wJalrXUtnFEMI/);
    assert.notEqual(box.seal('same'), box.seal('same'));
    assert.equal(
      SecretBox.open(join(dir, 'key')).open(sealed),
      'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    );
    const other = SecretBox.open(join(dir, 'other'));
    assert.throws(() => other.open(sealed));
    const tampered = `${sealed.slice(0, -2)}${sealed.at(-2) === 'A' ? 'B' : 'A'}${sealed.slice(-1)}`;
    assert.notEqual(tampered, sealed);
    assert.throws(() => box.open(tampered));
    const fromVariable = SecretBox.open(
      join(dir, 'unused'),
      Buffer.alloc(32, 7).toString('base64'),
    );
    assert.equal(fromVariable.open(fromVariable.seal('x')), 'x');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
