import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { runtimeClientsDir } from '../../src/runtimes/runtime-clients.js';

/** A temp folder holding a small runtime-clients source, a cache root and a fallback path. */
function fixture(t: TestContext) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lamina-clients-test-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const source = path.join(dir, 'runtimes');
  fs.mkdirSync(path.join(source, 'nodejs'), { recursive: true });
  fs.mkdirSync(path.join(source, 'python', '__pycache__'), { recursive: true });
  fs.writeFileSync(path.join(source, 'nodejs', 'index.mjs'), 'export {};\n');
  fs.writeFileSync(path.join(source, 'python', 'bootstrap.py'), 'pass\n');
  fs.writeFileSync(path.join(source, 'python', '__pycache__', 'bootstrap.pyc'), 'x');
  const cache = path.join(dir, 'cache');
  fs.mkdirSync(cache);
  return { source, cache, fallback: path.join(dir, 'private') };
}

const sdkManifest = (dir: string) =>
  path.join(dir, 'nodejs', 'node_modules', '@aws-sdk', 'client-lambda', 'package.json');

describe('runtime clients folder', () => {
  it('is built once under the cache root, with the SDK, and reused by the next server', (t) => {
    const { source, cache, fallback } = fixture(t);
    const first = runtimeClientsDir(source, cache, fallback);
    assert.equal(path.dirname(first), cache);
    assert.match(path.basename(first), /^lamina-runtimes-[0-9a-f]{16}$/);
    assert.ok(fs.existsSync(sdkManifest(first)));
    assert.ok(fs.existsSync(path.join(first, 'python', 'bootstrap.py')));
    assert.equal(fs.existsSync(path.join(first, 'python', '__pycache__')), false);
    assert.equal(fs.statSync(first).mode & 0o777, 0o755);
    // Building would create (and rename or remove) a folder in the cache root, changing its mtime.
    const cacheChanged = fs.statSync(cache).mtimeMs;

    assert.equal(runtimeClientsDir(source, cache, fallback), first);
    assert.equal(fs.statSync(cache).mtimeMs, cacheChanged);
    assert.equal(fs.existsSync(fallback), false);
    assert.deepEqual(
      fs.readdirSync(cache).filter((name) => name.includes('building')),
      [],
    );
  });

  it('a change to a client file gives a new folder; Python bytecode caches do not', (t) => {
    const { source, cache, fallback } = fixture(t);
    const first = runtimeClientsDir(source, cache, fallback);
    fs.writeFileSync(path.join(source, 'python', '__pycache__', 'other.pyc'), 'y');
    assert.equal(runtimeClientsDir(source, cache, fallback), first);
    fs.writeFileSync(path.join(source, 'nodejs', 'index.mjs'), 'export const changed = 1;\n');
    const second = runtimeClientsDir(source, cache, fallback);
    assert.notEqual(second, first);
    assert.equal(
      fs.readFileSync(path.join(second, 'nodejs', 'index.mjs'), 'utf8'),
      'export const changed = 1;\n',
    );
  });

  it('a shared folder others may write to, or an unfinished one, is not used: a private copy is', (t) => {
    const { source, cache, fallback } = fixture(t);
    const shared = runtimeClientsDir(source, cache, fallback);
    fs.chmodSync(shared, 0o777);
    assert.equal(runtimeClientsDir(source, cache, fallback), fallback);
    assert.ok(fs.existsSync(sdkManifest(fallback)));

    fs.chmodSync(shared, 0o755);
    fs.rmSync(path.join(shared, '.lamina-complete'));
    const other = path.join(path.dirname(fallback), 'private-2');
    assert.equal(runtimeClientsDir(source, cache, other), other);
  });
});
