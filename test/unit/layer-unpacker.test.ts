import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { describe, it, type TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ImagePullError } from '../../src/functions/image-store.js';
import { entryPath } from '../../src/images/entry-path.js';
import { finishRootfs, unpackLayer } from '../../src/images/layer-unpacker.js';
import { removeTree } from '../../src/images/tree-remover.js';
import { tarLayer, type TarEntry } from '../helpers/tar-layers.js';

const TAR = 'application/vnd.oci.image.layer.v1.tar';
const TAR_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
const DOCKER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const TEN_GIB = 10 * 1024 ** 3;

interface Fixture {
  /** The temp folder: `root` is the image, `sentinel` its sibling that no layer may touch. */
  readonly dir: string;
  readonly root: string;
  readonly sentinel: string;
  readonly budget: { remainingBytes: number };
  /** Everything in `dir` outside `root`, as it was before the layers. */
  readonly outside: () => Promise<string[]>;
}

async function fixture(t: TestContext): Promise<Fixture> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lamina-layer-'));
  // The image may hold 0555 folders, which a plain recursive rm cannot empty.
  t.after(() => removeTree(dir));
  const root = path.join(dir, 'root');
  const sentinel = path.join(dir, 'sentinel');
  await fs.mkdir(root);
  await fs.mkdir(sentinel);
  await fs.writeFile(path.join(sentinel, 'keep'), 'sentinel');
  const outside = async (): Promise<string[]> =>
    (await listTree(dir)).filter((line) => !line.startsWith('root'));
  return { dir, root, sentinel, budget: { remainingBytes: TEN_GIB }, outside };
}

/** Every path below `dir` with its kind, mode and (for files) content or (for links) target. */
async function listTree(dir: string, prefix = ''): Promise<string[]> {
  const lines: string[] = [];
  for (const name of (await fs.readdir(dir)).sort()) {
    const full = path.join(dir, name);
    const relative = prefix === '' ? name : `${prefix}/${name}`;
    const stats = await fs.lstat(full);
    const mode = (stats.mode & 0o7777).toString(8);
    if (stats.isSymbolicLink()) lines.push(`${relative} -> ${await fs.readlink(full)}`);
    else if (stats.isDirectory()) {
      lines.push(`${relative}/ ${mode}`);
      lines.push(...(await listTree(full, relative)));
    } else if (stats.isFile()) {
      const content = (stats.mode & 0o400) === 0 ? '?' : await fs.readFile(full, 'utf8');
      lines.push(`${relative} ${mode} ${JSON.stringify(content)}`);
    } else lines.push(`${relative} special`);
  }
  return lines;
}

async function apply(
  f: Fixture,
  entries: readonly TarEntry[],
  mediaType: string = TAR,
): Promise<void> {
  const gzip = mediaType !== TAR;
  await unpackLayer(
    Readable.from([await tarLayer(entries, { gzip })]),
    mediaType,
    f.root,
    f.budget,
  );
}

/** Asserts `promise` rejects with an InvalidImage ImagePullError whose message matches. */
async function assertInvalid(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ImagePullError, `not an ImagePullError: ${String(error)}`);
    assert.equal(error.reasonCode, 'InvalidImage');
    assert.match(error.message, message);
    return true;
  });
}

/** Applies a hostile layer: it must be refused and nothing outside the root may change. */
async function assertRefused(
  f: Fixture,
  entries: readonly TarEntry[],
  message: RegExp,
): Promise<void> {
  const before = await f.outside();
  await assertInvalid(apply(f, entries), message);
  assert.deepEqual(await f.outside(), before);
}

/** Applies `layers` in order: each must be accepted, and nothing outside the root may change. */
async function applyContained(
  f: Fixture,
  layers: ReadonlyArray<readonly TarEntry[]>,
): Promise<void> {
  const before = await f.outside();
  for (const entries of layers) await apply(f, entries);
  assert.deepEqual(await f.outside(), before);
}

async function mode(file: string): Promise<number> {
  return (await fs.lstat(file)).mode & 0o7777;
}

async function exists(file: string): Promise<boolean> {
  return fs.lstat(file).then(
    () => true,
    () => false,
  );
}

describe('unpackLayer', () => {
  it('unpacks a plain tar: files, folders, implied parents, modes, mtimes', async (t) => {
    const f = await fixture(t);
    await apply(f, [
      { name: './app/', type: 'directory', mode: 0o750 },
      { name: './app/run.sh', content: '#!/bin/sh\n', mode: 0o755 },
      { name: 'app/secret', content: 'x', mode: 0o600 },
      { name: '/abs/made/relative', content: 'abs' },
      { name: 'implied/parent/file', content: 'deep' },
      { name: 'empty', content: '' },
    ]);
    assert.deepEqual(await listTree(f.root), [
      'abs/ 755',
      'abs/made/ 755',
      'abs/made/relative 644 "abs"',
      'app/ 750',
      'app/run.sh 755 "#!/bin/sh\\n"',
      'app/secret 600 "x"',
      'empty 644 ""',
      'implied/ 755',
      'implied/parent/ 755',
      'implied/parent/file 644 "deep"',
    ]);
    assert.equal((await fs.stat(path.join(f.root, 'app/run.sh'))).mtimeMs, 1_700_000_000_000);
  });

  it('drops setuid and setgid but keeps the sticky bit and unreadable modes', async (t) => {
    const f = await fixture(t);
    await apply(f, [
      { name: 'suid', content: 'a', mode: 0o4755 },
      { name: 'sgid', content: 'b', mode: 0o2711 },
      { name: 'locked', content: 'c', mode: 0o000 },
      { name: 'shared/', type: 'directory', mode: 0o3777 },
      { name: 'closed/', type: 'directory', mode: 0o000 },
    ]);
    assert.equal(await mode(path.join(f.root, 'suid')), 0o755);
    assert.equal(await mode(path.join(f.root, 'sgid')), 0o711);
    assert.equal(await mode(path.join(f.root, 'locked')), 0o000);
    assert.equal(await mode(path.join(f.root, 'shared')), 0o1777);
    assert.equal(await mode(path.join(f.root, 'closed')), 0o000);
  });

  it('unpacks gzip layers of both OCI and Docker media types', async (t) => {
    const f = await fixture(t);
    await apply(f, [{ name: 'oci', content: 'one' }], TAR_GZIP);
    await apply(f, [{ name: 'docker', content: 'two' }], DOCKER_GZIP);
    assert.equal(await fs.readFile(path.join(f.root, 'oci'), 'utf8'), 'one');
    assert.equal(await fs.readFile(path.join(f.root, 'docker'), 'utf8'), 'two');
  });

  it('supports PAX long names and long link targets', async (t) => {
    const f = await fixture(t);
    const name = `${'folder-with-a-long-name/'.repeat(10)}file-${'x'.repeat(150)}`;
    const target = `/${'t'.repeat(200)}`;
    await apply(f, [
      { name, content: 'long' },
      { name: 'link', type: 'symlink', linkname: target },
    ]);
    assert.equal(await fs.readFile(path.join(f.root, name), 'utf8'), 'long');
    assert.equal(await fs.readlink(path.join(f.root, 'link')), target);
  });

  it('applies whiteouts to lower layers and keeps the layer own entries, in any order', async (t) => {
    const f = await fixture(t);
    await apply(f, [
      { name: 'etc/', type: 'directory' },
      { name: 'etc/old.cfg', content: 'old' },
      { name: 'etc/both-before', content: 'lower' },
      { name: 'etc/both-after', content: 'lower' },
      { name: 'etc/gone.d/', type: 'directory' },
      { name: 'etc/gone.d/a', content: 'a' },
      { name: 'etc/mixed/', type: 'directory' },
      { name: 'etc/mixed/lower', content: 'lower' },
    ]);
    await apply(f, [
      { name: 'etc/.wh.old.cfg' },
      { name: 'etc/.wh.both-before' },
      { name: 'etc/both-before', content: 'upper' },
      { name: 'etc/both-after', content: 'upper' },
      { name: 'etc/.wh.both-after' },
      { name: 'etc/.wh.gone.d' },
      { name: 'etc/.wh.never-existed' },
      { name: 'missing/.wh.folder' },
      { name: 'etc/mixed/upper', content: 'upper' },
      { name: 'etc/.wh.mixed' },
    ]);
    assert.deepEqual(await listTree(f.root), [
      'etc/ 755',
      'etc/both-after 644 "upper"',
      'etc/both-before 644 "upper"',
      'etc/mixed/ 755',
      'etc/mixed/upper 644 "upper"',
    ]);
  });

  for (const position of ['before', 'after'] as const) {
    it(`applies an opaque whiteout listed ${position} the layer's own entries`, async (t) => {
      const f = await fixture(t);
      await apply(f, [
        { name: 'a/', type: 'directory' },
        { name: 'a/b/', type: 'directory' },
        { name: 'a/b/c/', type: 'directory' },
        { name: 'a/b/c/bar', content: 'lower' },
        { name: 'a/lower-file', content: 'lower' },
        { name: 'a/locked/', type: 'directory', mode: 0o000 },
        { name: 'other/keep', content: 'kept' },
      ]);
      await fs.chmod(path.join(f.root, 'a/locked'), 0o700);
      await fs.writeFile(path.join(f.root, 'a/locked/inside'), 'lower');
      await fs.chmod(path.join(f.root, 'a/locked'), 0o000);
      const own: TarEntry[] = [
        { name: 'a/b/', type: 'directory' },
        { name: 'a/b/c/', type: 'directory' },
        { name: 'a/b/c/foo', content: 'upper' },
      ];
      const marker: TarEntry = { name: 'a/.wh..wh..opq' };
      await apply(f, [
        { name: 'a/', type: 'directory' },
        ...(position === 'before' ? [marker, ...own] : [...own, marker]),
      ]);
      assert.deepEqual(await listTree(f.root), [
        'a/ 755',
        'a/b/ 755',
        'a/b/c/ 755',
        'a/b/c/foo 644 "upper"',
        'other/ 755',
        'other/keep 644 "kept"',
      ]);
    });
  }

  it('replaces an entry of a different type, removing the old one first', async (t) => {
    const f = await fixture(t);
    await apply(f, [
      { name: 'file-then-dir', content: 'file' },
      { name: 'dir-then-file/', type: 'directory' },
      { name: 'dir-then-file/inside/deep', content: 'deep' },
      { name: 'link-then-dir', type: 'symlink', linkname: '/' },
      { name: 'dir-then-link/', type: 'directory', mode: 0o555 },
      { name: 'file-then-link', content: 'file' },
      { name: 'same-type', content: 'old', mode: 0o600 },
      { name: 'dir-mode/', type: 'directory', mode: 0o700 },
      { name: 'dir-mode/kept', content: 'kept' },
    ]);
    await apply(f, [
      { name: 'file-then-dir/', type: 'directory' },
      { name: 'file-then-dir/child', content: 'child' },
      { name: 'dir-then-file', content: 'file now' },
      { name: 'link-then-dir/', type: 'directory' },
      { name: 'dir-then-link', type: 'symlink', linkname: 'file-then-dir' },
      { name: 'file-then-link', type: 'symlink', linkname: '../x' },
      { name: 'same-type', content: 'new', mode: 0o644 },
      { name: 'dir-mode/', type: 'directory', mode: 0o751 },
    ]);
    assert.deepEqual(await listTree(f.root), [
      'dir-mode/ 751',
      'dir-mode/kept 644 "kept"',
      'dir-then-file 644 "file now"',
      'dir-then-link -> file-then-dir',
      'file-then-dir/ 755',
      'file-then-dir/child 644 "child"',
      'file-then-link -> ../x',
      'link-then-dir/ 755',
      'same-type 644 "new"',
    ]);
  });

  it('replaces, whites out and empties symlinks to outside without following them', async (t) => {
    const f = await fixture(t);
    await apply(f, [
      { name: 'file-over-link', type: 'symlink', linkname: path.join(f.sentinel, 'keep') },
      { name: 'dir-over-link', type: 'symlink', linkname: f.sentinel },
      { name: 'whited-out', type: 'symlink', linkname: f.sentinel },
      { name: 'opaque/', type: 'directory' },
      { name: 'opaque/link', type: 'symlink', linkname: '../../sentinel' },
    ]);
    const before = await f.outside();
    await apply(f, [
      { name: 'file-over-link', content: 'pwned?', mode: 0o777 },
      { name: 'dir-over-link/', type: 'directory', mode: 0o700 },
      { name: '.wh.whited-out' },
      { name: 'opaque/.wh..wh..opq' },
    ]);
    assert.deepEqual(await f.outside(), before);
    assert.deepEqual(await listTree(f.root), [
      'dir-over-link/ 700',
      'file-over-link 777 "pwned?"',
      'opaque/ 755',
    ]);
  });

  it('writes into a lower layer 0555 folder and gives its mode back', async (t) => {
    const f = await fixture(t);
    await apply(f, [
      { name: 'usr/', type: 'directory' },
      { name: 'usr/bin/', type: 'directory', mode: 0o555 },
      { name: 'usr/bin/ls', content: 'ls', mode: 0o755 },
    ]);
    assert.equal(await mode(path.join(f.root, 'usr/bin')), 0o555);
    await apply(f, [
      { name: 'usr/bin/python', content: 'py', mode: 0o755 },
      { name: 'usr/bin/.wh.ls' },
    ]);
    assert.equal(await mode(path.join(f.root, 'usr/bin')), 0o555);
    assert.deepEqual(await fs.readdir(path.join(f.root, 'usr/bin')), ['python']);
  });

  it('creates hard links within a layer and to a lower layer', async (t) => {
    const f = await fixture(t);
    await apply(f, [{ name: 'lower/original', content: 'lower', mode: 0o700 }]);
    await apply(f, [
      { name: 'bin/tool', content: 'tool', mode: 0o755 },
      { name: 'bin/alias', type: 'link', linkname: 'bin/tool' },
      { name: 'bin/to-lower', type: 'link', linkname: '/lower/original' },
      { name: 'bin/replaced', content: 'before' },
      { name: 'bin/replaced', type: 'link', linkname: './bin/tool' },
      { name: 'bin/self', content: 'self' },
      { name: 'bin/self', type: 'link', linkname: 'bin/self' },
    ]);
    const ino = async (name: string): Promise<number> =>
      (await fs.lstat(path.join(f.root, name))).ino;
    assert.equal(await ino('bin/alias'), await ino('bin/tool'));
    assert.equal(await ino('bin/replaced'), await ino('bin/tool'));
    assert.equal(await ino('bin/to-lower'), await ino('lower/original'));
    assert.equal(await fs.readFile(path.join(f.root, 'bin/to-lower'), 'utf8'), 'lower');
    assert.equal(await fs.readFile(path.join(f.root, 'bin/self'), 'utf8'), 'self');
    // A later layer's file replaces the path: the other name keeps the old content.
    await apply(f, [{ name: 'bin/tool', content: 'new tool' }]);
    assert.equal(await fs.readFile(path.join(f.root, 'bin/alias'), 'utf8'), 'tool');
  });

  it('stores symlinks as they are, never resolving them', async (t) => {
    const f = await fixture(t);
    await apply(f, [
      { name: 'abs', type: 'symlink', linkname: '/etc/shadow' },
      { name: 'up', type: 'symlink', linkname: '../../../../sentinel' },
      { name: 'dangling', type: 'symlink', linkname: 'nowhere/at/all' },
      { name: 'sentinel-abs', type: 'symlink', linkname: f.sentinel },
    ]);
    assert.equal(await fs.readlink(path.join(f.root, 'abs')), '/etc/shadow');
    assert.equal(await fs.readlink(path.join(f.root, 'up')), '../../../../sentinel');
    assert.equal(await fs.readlink(path.join(f.root, 'dangling')), 'nowhere/at/all');
    assert.equal(await fs.readlink(path.join(f.root, 'sentinel-abs')), f.sentinel);
  });

  it('skips device files and FIFOs, removing what the lower layers had there', async (t) => {
    const f = await fixture(t);
    await apply(f, [{ name: 'dev/null', content: 'lower file' }]);
    await apply(f, [
      { name: 'dev/null', type: 'character-device' },
      { name: 'dev/sda', type: 'block-device' },
      { name: 'run/pipe', type: 'fifo' },
      { name: 'after', content: 'still unpacked' },
    ]);
    assert.deepEqual(await listTree(f.root), ['after 644 "still unpacked"', 'dev/ 755']);
  });

  it('ignores a ./ entry for the root and AUFS metadata, and keeps the root mode', async (t) => {
    const f = await fixture(t);
    await fs.chmod(f.root, 0o755);
    await apply(f, [
      { name: './', type: 'directory', mode: 0o700 },
      { name: '.wh..wh.plnk/', type: 'directory' },
      { name: '.wh..wh.plnk/123.456', content: 'x' },
      { name: '.wh..wh.aufs', content: '' },
    ]);
    assert.equal(await mode(f.root), 0o755);
    assert.deepEqual(await listTree(f.root), []);
  });

  it('charges files by declared size and folders and links at 512 bytes, across layers', async (t) => {
    const f = await fixture(t);
    f.budget.remainingBytes = 10_000;
    await apply(f, [
      { name: 'd/', type: 'directory' },
      { name: 'd/f', content: 'x'.repeat(1000) },
      { name: 'd/s', type: 'symlink', linkname: 'f' },
      { name: 'd/h', type: 'link', linkname: 'd/f' },
      { name: 'implied/f', content: 'y'.repeat(100) },
    ]);
    assert.equal(f.budget.remainingBytes, 10_000 - 512 - 1000 - 512 - 512 - 512 - 100);
    await apply(f, [{ name: 'fits', content: 'z'.repeat(5000) }]);
    await assertRefused(f, [{ name: 'too-much', content: 'z'.repeat(2000) }], /more than 10 GB/);
    assert.equal(await exists(path.join(f.root, 'too-much')), false);
  });

  it('refuses a 20 GB declared file at its header, before writing a byte', async (t) => {
    const f = await fixture(t);
    const started = Date.now();
    await assertInvalid(
      apply(
        f,
        [
          { name: 'small', content: 'fine' },
          { name: 'huge', content: 'abc', size: 20_000_000_000 },
        ],
        TAR_GZIP,
      ),
      /entry "huge" \(20000000000 bytes\): the image unpacks to more than 10 GB/,
    );
    assert.ok(Date.now() - started < 5000);
    assert.equal(await exists(path.join(f.root, 'huge')), false);
    assert.equal(f.budget.remainingBytes, TEN_GIB - 4);
  });

  it('charges a PAX sparse file by its real size, and refuses sparse files', async (t) => {
    const f = await fixture(t);
    await assertRefused(
      f,
      [{ name: 'sparse', content: 'abc', pax: { 'GNU.sparse.realsize': '30000000000' } }],
      /more than 10 GB/,
    );
    await assertRefused(
      f,
      [{ name: 'sparse', content: 'abc', pax: { 'GNU.sparse.size': '10' } }],
      /sparse file/,
    );
  });

  it('refuses a gzip bomb that holds no tar entries, after a few megabytes', async (t) => {
    const f = await fixture(t);
    const bomb = gzipSync(Buffer.alloc(256 * 1024 * 1024));
    let read = 0;
    const source = Readable.from(
      (function* () {
        for (let offset = 0; offset < bomb.length; offset += 4096) {
          read += 4096;
          yield bomb.subarray(offset, offset + 4096);
        }
      })(),
    );
    await assertInvalid(
      unpackLayer(source, TAR_GZIP, f.root, f.budget),
      /more data than its tar headers declare/,
    );
    assert.ok(read < bomb.length / 2, `read ${read} of ${bomb.length}`);
    assert.ok(source.destroyed);
  });

  it('refuses garbage, a truncated gzip stream and a truncated tar', async (t) => {
    const f = await fixture(t);
    const junk = randomBytes(4096);
    const layer = await tarLayer([{ name: 'f', content: 'x'.repeat(5000) }]);
    const gzipped = await tarLayer([{ name: 'f', content: randomBytes(20_000) }], { gzip: true });
    const cases: Array<[Buffer, string, RegExp]> = [
      [junk, TAR, /not a tar archive/],
      [junk, TAR_GZIP, /not a valid gzip stream/],
      [gzipSync(junk), TAR_GZIP, /not a tar archive/],
      [gzipped.subarray(0, gzipped.length >> 1), TAR_GZIP, /not a valid gzip stream/],
      [layer.subarray(0, 2048), TAR, /ends in the middle of an entry/],
    ];
    const openFiles = async (): Promise<number> => (await fs.readdir('/proc/self/fd')).length;
    const filesBefore = await openFiles();
    for (const [bytes, mediaType, message] of cases) {
      const source = Readable.from([bytes]);
      await assertInvalid(unpackLayer(source, mediaType, f.root, f.budget), message);
      assert.ok(source.destroyed);
    }
    assert.equal(await openFiles(), filesBefore);
    assert.deepEqual(await f.outside(), ['sentinel/ 755', 'sentinel/keep 644 "sentinel"']);
  });

  it('refuses unsupported media types and destroys the stream', async (t) => {
    const f = await fixture(t);
    for (const mediaType of [
      'application/vnd.oci.image.layer.v1.tar+zstd',
      'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
      'text/plain',
    ]) {
      const source = Readable.from([Buffer.from('x')]);
      await assertInvalid(
        unpackLayer(source, mediaType, f.root, f.budget),
        new RegExp(`media type "${mediaType.replaceAll('.', '\\.').replaceAll('+', '\\+')}"`),
      );
      assert.ok(source.destroyed);
    }
  });

  it('passes an error of the layer stream itself on unchanged', async (t) => {
    const f = await fixture(t);
    const failure = new Error('connection reset');
    const head = (await tarLayer([{ name: 'f', content: 'x'.repeat(100_000) }])).subarray(0, 4096);
    for (const mediaType of [TAR, TAR_GZIP]) {
      const source = new Readable({ read() {} });
      source.push(mediaType === TAR ? head : gzipSync(head).subarray(0, 100));
      setImmediate(() => source.destroy(failure));
      await assert.rejects(unpackLayer(source, mediaType, f.root, f.budget), failure);
    }
  });

  it('refuses more than 1,000,000 entries', async (t) => {
    const f = await fixture(t);
    const one = (await tarLayer([{ name: '.wh..wh.meta' }])).subarray(0, 512);
    const batch = Buffer.concat(Array.from({ length: 1000 }, () => one));
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < 1001; i += 1) yield batch;
        yield Buffer.alloc(1024);
      })(),
    );
    await assertInvalid(unpackLayer(source, TAR, f.root, f.budget), /more than 1000000 entries/);
  });
});

describe('unpackLayer refusals', () => {
  const refusals: Array<{ label: string; entries: TarEntry[]; message: RegExp }> = [
    {
      label: 'a path above the root',
      entries: [{ name: '../../etc/passwd', content: 'pwned' }],
      message: /entry "\.\.\/\.\.\/etc\/passwd" escapes the image's root/,
    },
    {
      label: 'a path that climbs above the root on the way',
      entries: [{ name: 'a/../../sentinel/keep', content: 'pwned' }],
      message: /escapes the image's root/,
    },
    {
      label: 'an absolute path that climbs',
      entries: [{ name: '/../sentinel/new', content: 'pwned' }],
      message: /escapes the image's root/,
    },
    {
      label: 'a file below a file',
      entries: [
        { name: 'plain', content: 'x' },
        { name: 'plain/child', content: 'y' },
      ],
      message: /goes through "plain", which is not a folder/,
    },
    {
      label: 'a hard link above the root',
      entries: [{ name: 'h', type: 'link', linkname: '../../x' }],
      message: /entry "h" \(a hard link to "\.\.\/\.\.\/x"\) escapes the image's root/,
    },
    {
      label: 'a hard link through a symlink to a file outside the root',
      entries: [
        { name: 'evil', type: 'symlink', linkname: '../sentinel' },
        { name: 'h', type: 'link', linkname: 'evil/keep' },
      ],
      // `evil` is `<root>/sentinel`, which has no `keep`: the sentinel's own is never linked.
      message: /\(a hard link to "evil\/keep"\) links to a file that does not exist/,
    },
    {
      label: 'a hard link to a folder through a symlink',
      entries: [
        { name: 'd/sub/', type: 'directory' },
        { name: 'l', type: 'symlink', linkname: '/d' },
        { name: 'h', type: 'link', linkname: 'l/sub' },
      ],
      message: /links to something that is not a file/,
    },
    {
      label: 'a hard link to a folder',
      entries: [
        { name: 'd/', type: 'directory' },
        { name: 'h', type: 'link', linkname: 'd' },
      ],
      message: /links to something that is not a file/,
    },
    {
      label: 'a hard link to a missing file',
      entries: [{ name: 'h', type: 'link', linkname: 'nowhere/file' }],
      message: /links to a file that does not exist/,
    },
    {
      label: 'a hard link to the root',
      entries: [{ name: 'h', type: 'link', linkname: './' }],
      message: /links to the image's root/,
    },
    {
      label: 'a file that replaces the root',
      entries: [{ name: './', content: 'x' }],
      message: /replaces the image's root/,
    },
    {
      label: 'a NUL byte in a PAX path',
      entries: [{ name: 'x', content: 'x', pax: { path: 'a\0b' } }],
      message: /not a tar archive/,
    },
    {
      label: 'a name over 4096 bytes',
      entries: [{ name: `${'a/'.repeat(2000)}${'b'.repeat(200)}`, content: 'x' }],
      message: /longer than 4096 bytes/,
    },
    {
      label: 'a path deeper than 256 folders',
      entries: [{ name: `${'d/'.repeat(300)}f`, content: 'x' }],
      message: /deeper than 256 folders/,
    },
    {
      label: 'a component over 255 bytes',
      entries: [{ name: `a/${'c'.repeat(256)}`, content: 'x' }],
      message: /component longer than 255 bytes/,
    },
    {
      label: 'a GNU sparse entry',
      entries: [{ name: 'sparse', typeflag: 'S', content: 'x' }],
      message: /entry "sparse" has an entry type that is not supported/,
    },
    {
      label: 'a contiguous file',
      entries: [{ name: 'contiguous', typeflag: '7', content: 'x' }],
      message: /has an entry type that is not supported \(contiguous-file\)/,
    },
    {
      label: 'a symlink to nothing',
      entries: [{ name: 'empty', type: 'symlink', linkname: '' }],
      message: /is a symbolic link to nothing/,
    },
    {
      label: 'a whiteout of its own folder',
      entries: [{ name: 'a/.wh..' }],
      message: /is a whiteout of no file/,
    },
    {
      label: 'an entry inside a whiteout',
      entries: [{ name: '.wh.folder/file', content: 'x' }],
      message: /lies inside the whiteout "\.wh\.folder"/,
    },
  ];

  for (const { label, entries, message } of refusals) {
    it(`refuses ${label}, writing nothing outside the root`, async (t) => {
      const f = await fixture(t);
      await assertRefused(f, entries, message);
    });
  }

  it('refuses a NUL byte by name', () => {
    assert.throws(() => entryPath('a\0b', 'entry "a"'), /has a NUL byte/);
    assert.deepEqual(entryPath('/./a//b/../c/', 'entry'), ['a', 'c']);
    assert.deepEqual(entryPath('./', 'entry'), []);
  });
});

describe('unpackLayer symlinks on the way, resolved inside the root', () => {
  it('writes through a link made by a lower layer (mylib -> usr/lib)', async (t) => {
    const f = await fixture(t);
    await applyContained(f, [
      [
        { name: 'usr/lib/', type: 'directory' },
        { name: 'mylib', type: 'symlink', linkname: 'usr/lib' },
      ],
      [{ name: 'mylib/extra.txt', content: 'extra' }],
    ]);
    assert.deepEqual(await listTree(f.root), [
      'mylib -> usr/lib',
      'usr/ 755',
      'usr/lib/ 755',
      'usr/lib/extra.txt 644 "extra"',
    ]);
  });

  it('unpacks onto a merged-/usr base, creating missing folders below the link', async (t) => {
    const f = await fixture(t);
    await applyContained(f, [
      [
        { name: 'usr/lib/x86_64-linux-gnu/', type: 'directory' },
        { name: 'usr/lib/x86_64-linux-gnu/libc.so.6', content: 'libc' },
        { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
        { name: 'lib64', type: 'symlink', linkname: '/usr/lib' },
      ],
      [
        { name: 'lib/x86_64-linux-gnu/libfoo.so', content: 'foo' },
        { name: 'lib64/new/deep/file', content: 'deep' },
        { name: 'lib/folder/', type: 'directory', mode: 0o750 },
      ],
    ]);
    assert.deepEqual(await listTree(f.root), [
      'lib -> usr/lib',
      'lib64 -> /usr/lib',
      'usr/ 755',
      'usr/lib/ 755',
      'usr/lib/folder/ 750',
      'usr/lib/new/ 755',
      'usr/lib/new/deep/ 755',
      'usr/lib/new/deep/file 644 "deep"',
      'usr/lib/x86_64-linux-gnu/ 755',
      'usr/lib/x86_64-linux-gnu/libc.so.6 644 "libc"',
      'usr/lib/x86_64-linux-gnu/libfoo.so 644 "foo"',
    ]);
  });

  it('keeps a link to / inside the root: evil -> / then evil/etc/pwned', async (t) => {
    const f = await fixture(t);
    await applyContained(f, [
      [{ name: 'evil', type: 'symlink', linkname: '/' }],
      [
        { name: 'evil/etc/', type: 'directory' },
        { name: 'evil/etc/pwned', content: 'pwned' },
        { name: 'evil/tmp/x', content: 'x' },
      ],
    ]);
    assert.deepEqual(await listTree(f.root), [
      'etc/ 755',
      'etc/pwned 644 "pwned"',
      'evil -> /',
      'tmp/ 755',
      'tmp/x 644 "x"',
    ]);
  });

  it('stops .. at the root: up -> ../../.. then up/tmp/x, side -> ../sentinel', async (t) => {
    const f = await fixture(t);
    await applyContained(f, [
      [
        { name: 'up', type: 'symlink', linkname: '../../..' },
        { name: 'far', type: 'symlink', linkname: '../'.repeat(12) },
        { name: 'a/b/side', type: 'symlink', linkname: '../../../../sentinel' },
      ],
      [
        { name: 'up/tmp/x', content: 'x' },
        { name: 'far/y', content: 'y' },
        { name: 'a/b/side/keep', content: 'pwned' },
      ],
    ]);
    assert.deepEqual(await listTree(f.root), [
      'a/ 755',
      'a/b/ 755',
      'a/b/side -> ../../../../sentinel',
      `far -> ${'../'.repeat(12)}`,
      'sentinel/ 755',
      'sentinel/keep 644 "pwned"',
      'tmp/ 755',
      'tmp/x 644 "x"',
      'up -> ../../..',
      'y 644 "y"',
    ]);
  });

  it('keeps absolute links to host paths inside the root, over two layers', async (t) => {
    const f = await fixture(t);
    const outside = path.join(f.dir, 'outside');
    await applyContained(f, [
      [
        { name: 'evil', type: 'symlink', linkname: outside },
        { name: 'evil-dir', type: 'symlink', linkname: f.sentinel },
      ],
      [
        { name: 'evil/pwned', content: 'pwned' },
        { name: 'evil-dir/keep', content: 'pwned' },
        { name: 'evil-dir/other', content: 'pwned' },
      ],
      [{ name: 'evil-dir/.wh.other' }, { name: 'h', type: 'link', linkname: 'evil-dir/keep' }],
    ]);
    const inRoot = (host: string): string => path.join(f.root, host);
    assert.equal(await fs.readFile(inRoot(path.join(outside, 'pwned')), 'utf8'), 'pwned');
    assert.equal(await fs.readFile(inRoot(path.join(f.sentinel, 'keep')), 'utf8'), 'pwned');
    assert.equal(await exists(inRoot(path.join(f.sentinel, 'other'))), false);
    const linked = await fs.lstat(path.join(f.root, 'h'));
    assert.equal(linked.ino, (await fs.lstat(inRoot(path.join(f.sentinel, 'keep')))).ino);
    assert.notEqual(linked.ino, (await fs.lstat(path.join(f.sentinel, 'keep'))).ino);
    assert.equal(await exists(outside), false);
    assert.equal(await fs.readFile(path.join(f.sentinel, 'keep'), 'utf8'), 'sentinel');
  });

  it('follows chains of links, absolute and relative, and .. from the folder reached', async (t) => {
    const f = await fixture(t);
    await applyContained(f, [
      [
        { name: 'real/deep/', type: 'directory' },
        { name: 'one', type: 'symlink', linkname: 'two' },
        { name: 'two', type: 'symlink', linkname: '/links/three' },
        { name: 'links/three', type: 'symlink', linkname: '../real/./deep/' },
        // `up` is `real/deep/..`, `real` (not the root, as `..` by name would give).
        { name: 'deep-link', type: 'symlink', linkname: 'real/deep' },
        { name: 'up', type: 'symlink', linkname: 'deep-link/..' },
      ],
      [
        { name: 'one/through-chain', content: 'chain' },
        { name: 'up/through-dotdot', content: 'dotdot' },
      ],
    ]);
    assert.deepEqual(await listTree(f.root), [
      'deep-link -> real/deep',
      'links/ 755',
      'links/three -> ../real/./deep/',
      'one -> two',
      'real/ 755',
      'real/deep/ 755',
      'real/deep/through-chain 644 "chain"',
      'real/through-dotdot 644 "dotdot"',
      'two -> /links/three',
      'up -> deep-link/..',
    ]);
  });

  it('follows 255 links on one path and refuses the 256th', async (t) => {
    const f = await fixture(t);
    const chain = (count: number, prefix: string): TarEntry[] => [
      { name: `${prefix}-end/`, type: 'directory' },
      ...Array.from({ length: count }, (_, i): TarEntry => ({
        name: `${prefix}-${i}`,
        type: 'symlink',
        linkname: i === count - 1 ? `${prefix}-end` : `${prefix}-${i + 1}`,
      })),
    ];
    await applyContained(f, [[...chain(255, 'ok'), { name: 'ok-0/file', content: 'ok' }]]);
    assert.equal(await fs.readFile(path.join(f.root, 'ok-end/file'), 'utf8'), 'ok');
    await assertRefused(
      f,
      [...chain(256, 'long'), { name: 'long-0/file', content: 'x' }],
      /entry "long-0\/file" goes through too many levels of symbolic links \(more than 255\)/,
    );
  });

  it('refuses a loop of links as too many levels of symbolic links', async (t) => {
    const f = await fixture(t);
    await assertRefused(
      f,
      [
        { name: 'a', type: 'symlink', linkname: 'b' },
        { name: 'b', type: 'symlink', linkname: 'a' },
        { name: 'a/x', content: 'x' },
      ],
      /entry "a\/x" goes through too many levels of symbolic links/,
    );
    await assertRefused(
      f,
      [{ name: 'self', type: 'symlink', linkname: '/./self/' }, { name: 'self/.wh.x' }],
      /too many levels of symbolic links/,
    );
  });

  it('bounds the components a chain of long link targets makes it walk', async (t) => {
    const f = await fixture(t);
    const padding = './'.repeat(2000);
    await assertRefused(
      f,
      [
        { name: 'end/', type: 'directory' },
        ...[1, 2, 3, 4, 5].map((i): TarEntry => ({
          name: `l${i}`,
          type: 'symlink',
          linkname: `${padding}${i === 5 ? 'end' : `l${i + 1}`}`,
        })),
        { name: 'l1/x', content: 'x' },
      ],
      /goes through symbolic links whose targets add up to more than 8192 path components/,
    );
    // Four of them are fine.
    await applyContained(f, [[{ name: 'l2/x', content: 'x' }]]);
    assert.equal(await fs.readFile(path.join(f.root, 'end/x'), 'utf8'), 'x');
  });

  it('refuses a link to a file used as a folder', async (t) => {
    const f = await fixture(t);
    await apply(f, [
      { name: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
      { name: 'f', type: 'symlink', linkname: 'etc/passwd' },
      { name: 'g', type: 'symlink', linkname: '/etc/passwd/' },
    ]);
    await assertRefused(
      f,
      [{ name: 'f/x', content: 'x' }],
      /entry "f\/x" goes through "etc\/passwd", which is not a folder/,
    );
    await assertRefused(f, [{ name: 'g/x/', type: 'directory' }], /which is not a folder/);
    await assertRefused(f, [{ name: 'g/.wh.x' }], /which is not a folder/);
    assert.equal(
      await fs.readFile(path.join(f.root, 'etc/passwd'), 'utf8'),
      'root:x:0:0::/root:/bin/sh\n',
    );
  });

  it('applies whiteouts and opaque markers to the folder a symlink resolves to', async (t) => {
    const f = await fixture(t);
    await applyContained(f, [
      [
        { name: 'usr/lib/a', content: 'a' },
        { name: 'usr/lib/b', content: 'b' },
        { name: 'usr/lib/sub/c', content: 'c' },
        { name: 'usr/share/d', content: 'd' },
        { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
        { name: 'share', type: 'symlink', linkname: '/usr/share' },
      ],
      [{ name: 'lib/.wh.a' }, { name: 'lib/.wh.never-existed' }, { name: 'gone/.wh.x' }],
    ]);
    assert.deepEqual(await listTree(path.join(f.root, 'usr')), [
      'lib/ 755',
      'lib/b 644 "b"',
      'lib/sub/ 755',
      'lib/sub/c 644 "c"',
      'share/ 755',
      'share/d 644 "d"',
    ]);
    // Opaque through a link, keeping what this layer adds by either name, in any order.
    await applyContained(f, [
      [
        { name: 'lib/new-by-link', content: 'new' },
        { name: 'lib/.wh..wh..opq' },
        { name: 'usr/lib/new-by-name', content: 'new' },
        { name: 'share/.wh..wh..opq' },
      ],
    ]);
    assert.deepEqual(await listTree(f.root), [
      'lib -> usr/lib',
      'share -> /usr/share',
      'usr/ 755',
      'usr/lib/ 755',
      'usr/lib/new-by-link 644 "new"',
      'usr/lib/new-by-name 644 "new"',
      'usr/share/ 755',
    ]);
    // A whiteout of the link itself removes the link, not what it points to.
    await applyContained(f, [[{ name: '.wh.lib' }]]);
    assert.equal(await exists(path.join(f.root, 'lib')), false);
    assert.equal(await exists(path.join(f.root, 'usr/lib/new-by-link')), true);
  });

  it('keeps whiteouts through a link to a host path inside the root', async (t) => {
    const f = await fixture(t);
    await applyContained(f, [
      [
        { name: 'evil', type: 'symlink', linkname: '../sentinel' },
        { name: 'abs', type: 'symlink', linkname: f.sentinel },
      ],
      [{ name: 'evil/.wh.keep' }, { name: 'abs/.wh.keep' }],
      [{ name: 'evil/.wh..wh..opq' }, { name: 'abs/.wh..wh..opq' }],
    ]);
    assert.deepEqual(await listTree(f.root), [`abs -> ${f.sentinel}`, 'evil -> ../sentinel']);
  });

  it('resolves a hard link and its target through symlinked folders', async (t) => {
    const f = await fixture(t);
    await applyContained(f, [
      [
        { name: 'usr/lib/libfoo.so.1', content: 'foo' },
        { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
        { name: 'lib64', type: 'symlink', linkname: '/usr/lib/' },
      ],
      [
        { name: 'lib/libfoo.so', type: 'link', linkname: 'lib64/libfoo.so.1' },
        { name: 'bin/foo', type: 'link', linkname: '/lib/libfoo.so.1' },
        // Itself, by another name: nothing to do.
        { name: 'lib64/libfoo.so.1', type: 'link', linkname: 'usr/lib/libfoo.so.1' },
      ],
    ]);
    const original = await fs.lstat(path.join(f.root, 'usr/lib/libfoo.so.1'));
    assert.equal(original.nlink, 3);
    for (const name of ['usr/lib/libfoo.so', 'bin/foo']) {
      assert.equal((await fs.lstat(path.join(f.root, name))).ino, original.ino, name);
    }
    assert.equal(await fs.readFile(path.join(f.root, 'usr/lib/libfoo.so.1'), 'utf8'), 'foo');
  });

  it('makes a hard link to a symlink a second name of the symlink itself', async (t) => {
    const f = await fixture(t);
    await applyContained(f, [
      [
        { name: 'evil', type: 'symlink', linkname: '../sentinel/keep' },
        { name: 'h', type: 'link', linkname: 'evil' },
        { name: 'etc/', type: 'directory' },
        { name: 'etc-link', type: 'symlink', linkname: 'etc' },
        { name: 'h-dir', type: 'link', linkname: 'etc-link' },
      ],
    ]);
    const link = await fs.lstat(path.join(f.root, 'h'));
    assert.ok(link.isSymbolicLink());
    assert.equal(link.ino, (await fs.lstat(path.join(f.root, 'evil'))).ino);
    assert.equal(await fs.readlink(path.join(f.root, 'h')), '../sentinel/keep');
    assert.ok((await fs.lstat(path.join(f.root, 'h-dir'))).isSymbolicLink());
    assert.equal((await fs.lstat(path.join(f.sentinel, 'keep'))).nlink, 1);
  });

  it('never follows the last component: an entry replaces the symlink at its path', async (t) => {
    const f = await fixture(t);
    await applyContained(f, [
      [
        { name: 'usr/lib/f', content: 'lower' },
        { name: 'lib', type: 'symlink', linkname: 'usr/lib' },
        { name: 'file', type: 'symlink', linkname: 'usr/lib/f' },
        { name: 'out', type: 'symlink', linkname: '../sentinel/keep' },
        { name: 'gone', type: 'symlink', linkname: 'usr/lib/f' },
      ],
      [
        { name: 'lib/', type: 'directory', mode: 0o700 },
        { name: 'file', content: 'upper' },
        { name: 'out', content: 'replaced' },
        { name: 'gone', type: 'fifo' },
      ],
    ]);
    assert.deepEqual(await listTree(f.root), [
      'file 644 "upper"',
      'lib/ 700',
      'out 644 "replaced"',
      'usr/ 755',
      'usr/lib/ 755',
      'usr/lib/f 644 "lower"',
    ]);
  });

  it('still limits the entry name, not the resolved path, to 4096 bytes and 256 folders', async (t) => {
    const f = await fixture(t);
    await apply(f, [{ name: 'deep', type: 'symlink', linkname: 'd/'.repeat(200) }]);
    await assertRefused(
      f,
      [{ name: `deep/${'a/'.repeat(256)}f`, content: 'x' }],
      /deeper than 256 folders/,
    );
    await assertRefused(
      f,
      [{ name: `deep/${'abcdefghij/'.repeat(380)}f`, content: 'x' }],
      /longer than 4096 bytes/,
    );
    await assertRefused(
      f,
      [{ name: 'deep/../../x', content: 'x' }],
      /entry "deep\/\.\.\/\.\.\/x" escapes the image's root/,
    );
    // 200 folders of the link plus 100 of the name: deeper than 256 once resolved, and fine.
    await applyContained(f, [[{ name: `deep/${'e/'.repeat(100)}f`, content: 'deep' }]]);
    const resolved = path.join(f.root, 'd/'.repeat(200), 'e/'.repeat(100), 'f');
    assert.equal(await fs.readFile(resolved, 'utf8'), 'deep');
  });
});

describe('finishRootfs', () => {
  it('makes real mount points, replacing symlinks without following them', async (t) => {
    const f = await fixture(t);
    await apply(f, [
      { name: 'tmp', type: 'symlink', linkname: '/' },
      { name: 'etc/', type: 'directory', mode: 0o700 },
      { name: 'etc/hosts', type: 'symlink', linkname: '/etc/shadow' },
      { name: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n', mode: 0o600 },
      { name: 'etc/group/', type: 'directory' },
      { name: 'etc/group/inside', content: 'x' },
      { name: 'var', content: 'a file where a folder belongs' },
      { name: 'run', type: 'symlink', linkname: f.sentinel },
      { name: 'opt', type: 'symlink', linkname: '../sentinel' },
      { name: 'proc/', type: 'directory', mode: 0o555 },
      { name: 'proc/leftover', content: 'x' },
      { name: 'usr/bin/', type: 'directory', mode: 0o555 },
      { name: 'usr/bin/tool', content: 'secret', mode: 0o000 },
    ]);
    const before = await f.outside();
    await finishRootfs(f.root);
    assert.deepEqual(await f.outside(), before);
    assert.deepEqual(await listTree(f.root), [
      'dev/ 755',
      'etc/ 755',
      'etc/group 644 ""',
      'etc/hosts 644 ""',
      'etc/passwd 600 "root:x:0:0::/root:/bin/sh\\n"',
      'etc/resolv.conf 644 ""',
      'opt/ 755',
      'proc/ 755',
      'proc/leftover 644 "x"',
      'run/ 755',
      'run/lamina/ 755',
      'tmp/ 755',
      'usr/ 755',
      'usr/bin/ 555',
      'usr/bin/tool 0 "?"',
      'var/ 755',
      'var/runtime/ 755',
      'var/task/ 755',
    ]);
    // Running it again changes nothing.
    await finishRootfs(f.root);
    assert.equal((await listTree(f.root)).length, 18);
  });

  it('keeps an existing parent folder mode while adding a mount point below it', async (t) => {
    const f = await fixture(t);
    await apply(f, [{ name: 'var/', type: 'directory', mode: 0o500 }]);
    await finishRootfs(f.root);
    assert.equal(await mode(path.join(f.root, 'var')), 0o500);
    await fs.chmod(path.join(f.root, 'var'), 0o700);
    assert.equal(await mode(path.join(f.root, 'var/task')), 0o755);
  });
});
