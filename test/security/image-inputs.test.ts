/**
 * Container images under hostile input: whoever can push to a registry a function's ImageUri names
 * controls every byte of its layers. Entries named `../../tmp/x` or `/../../tmp/x`, a symlink to
 * `/` followed by a file under it (kept inside the image's root), hard links out of the root, device nodes and FIFOs, a layer
 * declaring a 20 GB file, a gzip bomb that is not a tar. The pull fails as InvalidImage (or, for
 * what can be skipped, succeeds without it); nothing appears outside the server's data directory,
 * nothing large is written, and the server keeps answering and running functions.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, statSync, type Stats } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import {
  CreateFunctionCommand,
  GetAccountSettingsCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  type FunctionConfiguration,
} from '@aws-sdk/client-lambda';
import { deploy, invokeJson } from '../helpers/functions.js';
import { ROLE } from '../helpers/lambda-client.js';
import {
  BOOTSTRAP,
  BOOTSTRAP_PATH,
  LambdaImages,
  NODE_PATH,
  filesLayer,
  type BootstrapReport,
} from '../helpers/lambda-images.js';
import { HOST_ARCH, OCI, pushBlob, pushLayers, pushManifest } from '../helpers/oci-images.js';
import { startRegistry, type TestRegistry } from '../helpers/oci-registry.js';
import { poll } from '../helpers/poll.js';
import { useServer } from '../helpers/server-suite.js';
import { tarLayer } from '../helpers/tar-layers.js';

const SETTLE_MS = 90_000;
const LIMIT = { timeout: 180_000 };
const MB = 1024 * 1024;
const GB = 1024 * MB;
/** A unique token in every name a hostile entry tries to write outside the root. */
const SENTINEL = `lamina-sentinel-${randomBytes(6).toString('hex')}`;
const ESCAPE = '../'.repeat(12);

/** Bytes the files under `dir` take on disk (not following symlinks). */
async function diskBytes(dir: string): Promise<number> {
  let total = 0;
  const walk = async (path: string): Promise<void> => {
    const stats = await lstat(path).catch(() => undefined);
    if (stats === undefined) return;
    total += stats.blocks * 512;
    if (stats.isDirectory())
      for (const name of await readdir(path).catch(() => [])) await walk(join(path, name));
  };
  await walk(dir);
  return total;
}

/** Every path under `dir` whose entry satisfies `match`. */
async function findUnder(
  dir: string,
  match: (stats: Stats, path: string) => boolean,
): Promise<string[]> {
  const found: string[] = [];
  const walk = async (path: string): Promise<void> => {
    const stats = await lstat(path).catch(() => undefined);
    if (stats === undefined) return;
    if (match(stats, path)) found.push(path);
    if (stats.isDirectory())
      for (const name of await readdir(path).catch(() => [])) await walk(join(path, name));
  };
  await walk(dir);
  return found;
}

/**
 * A gzip file of `prefix` followed by `copies` × 64 MiB of zeros, made of concatenated gzip
 * members (one compressed block of zeros, repeated: a few KiB each), and the sha256 of what it
 * expands to.
 */
function gzipBomb(
  prefix: Buffer,
  copies: number,
): { gz: Buffer; diffId: string; expanded: number } {
  const zeros = Buffer.alloc(64 * MB);
  const member = gzipSync(zeros, { level: 9 });
  const hash = createHash('sha256').update(prefix);
  for (let i = 0; i < copies; i += 1) hash.update(zeros);
  return {
    gz: Buffer.concat([gzipSync(prefix), ...Array.from({ length: copies }, () => member)]),
    diffId: `sha256:${hash.digest('hex')}`,
    expanded: prefix.length + copies * zeros.length,
  };
}

describe('hostile container images', () => {
  const suite = useServer();
  let registry: TestRegistry | undefined;
  let images: LambdaImages | undefined;
  let shadowBefore: Stats | undefined;

  const host = (): string => {
    assert.ok(registry !== undefined, 'the registry did not start');
    return registry.host;
  };
  /** The node layer and the bootstrap, for images whose function should still run. */
  const runnable = async (): Promise<Buffer[]> => {
    assert.ok(images !== undefined, 'the base image was not built');
    return [await images.nodeLayer(), await filesLayer({ [BOOTSTRAP_PATH]: BOOTSTRAP })];
  };
  const push = (tag: string, layers: Buffer[], gzip = false) =>
    pushLayers(host(), `hostile:${tag}`, {
      layers,
      gzip,
      config: { Entrypoint: [NODE_PATH, BOOTSTRAP_PATH] },
    });
  const configuration = (name: string) =>
    suite.client.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
  /** Creates a function of `digest` and waits until its pull ended (Active or Failed). */
  const pulled = async (name: string, digest: string): Promise<FunctionConfiguration> => {
    await suite.client.send(
      new CreateFunctionCommand({
        FunctionName: name,
        PackageType: 'Image',
        Code: { ImageUri: `${host()}/hostile@${digest}` },
        Role: ROLE,
      }),
    );
    return poll(
      () => configuration(name),
      (c) => c.State !== 'Pending',
      SETTLE_MS,
      `${name} pulled`,
    );
  };
  const invalid = (config: FunctionConfiguration, reason: RegExp) => {
    assert.equal(config.State, 'Failed', JSON.stringify(config));
    assert.equal(config.StateReasonCode, 'InvalidImage', config.StateReason);
    assert.match(config.StateReason ?? '', reason);
  };
  const report = async (name: string, event: unknown): Promise<BootstrapReport> => {
    const output = await suite.client.send(
      new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(event)) }),
    );
    const text = Buffer.from(output.Payload ?? new Uint8Array()).toString();
    assert.equal(output.FunctionError, undefined, text);
    return JSON.parse(text) as BootstrapReport;
  };

  /** Where a hostile name could land outside an image: every ancestor of an image's root. */
  const escapes = (): string[] => {
    const places: string[] = [];
    for (let dir = join(suite.dataDir, 'images', 'images', 'x', 'rootfs'); ; dir = dirname(dir)) {
      places.push(join(dir, SENTINEL), join(dir, 'tmp', SENTINEL), join(dir, 'etc', SENTINEL));
      if (dir === dirname(dir)) return places;
    }
  };
  /** Nothing escaped, /etc/shadow is untouched, and the platform still runs functions. */
  const unharmed = async () => {
    const escaped = escapes().filter((path) => existsSync(path));
    await Promise.all(escaped.map((path) => rm(path, { force: true })));
    assert.deepEqual(escaped, [], 'a hostile entry was written outside the data directory');
    const shadow = statSync('/etc/shadow');
    assert.equal(shadow.nlink, shadowBefore?.nlink);
    assert.equal(shadow.mtimeMs, shadowBefore?.mtimeMs);
    const settings = await suite.client.send(new GetAccountSettingsCommand({}));
    assert.ok(settings.AccountLimit !== undefined);
    const healthy = await invokeJson(suite.client, 'healthy', { ping: 1 });
    assert.deepEqual(healthy.body, { pong: { ping: 1 } });
  };

  before(async () => {
    shadowBefore = statSync('/etc/shadow');
    [registry, images] = await Promise.all([startRegistry(), LambdaImages.create()]);
    await deploy(suite.client, 'healthy', {
      'index.mjs': 'export const handler = async (event) => ({ pong: event });',
    });
  });
  after(async () => {
    await Promise.all([registry?.stop(), images?.dispose()]);
  });

  test('entries whose names climb out of the root are refused', LIMIT, async () => {
    const names = [
      `${ESCAPE}tmp/${SENTINEL}`,
      `../${SENTINEL}`,
      `/${ESCAPE}tmp/${SENTINEL}`,
      `/etc/../../tmp/${SENTINEL}`,
      `usr/../../../${SENTINEL}`,
    ];
    const digests = await Promise.all(
      names.map(async (name, i) =>
        push(`climb-${i}`, [
          await tarLayer([
            { name: 'fine.txt', content: 'fine' },
            { name, content: 'escaped' },
          ]),
        ]),
      ),
    );
    const results = await Promise.all(digests.map((digest, i) => pulled(`climb-${i}`, digest)));
    for (const result of results) invalid(result, /escapes the image's root/);
    // Also as a symlink's or hard link's target name (a hard link is a name in the tar).
    const linked = await push('climb-link', [
      await tarLayer([{ name: 'out', type: 'link', linkname: `${ESCAPE}tmp/${SENTINEL}` }]),
    ]);
    invalid(await pulled('climb-link', linked), /a hard link to .* escapes the image's root/);
    await unharmed();
  });

  test(
    'a symlink to / (or above the root) followed by a file under it stays inside the root',
    LIMIT,
    async () => {
      const absolute = await push('symlink-abs', [
        await tarLayer([{ name: 'evil', type: 'symlink', linkname: '/' }]),
        await tarLayer([
          { name: 'evil/etc/', type: 'directory' },
          { name: `evil/etc/${SENTINEL}`, content: 'pwned' },
          { name: `evil/tmp/${SENTINEL}`, content: 'pwned' },
        ]),
      ]);
      const relative = await push('symlink-rel', [
        await tarLayer([{ name: 'up', type: 'symlink', linkname: ESCAPE }]),
        await tarLayer([{ name: `up/tmp/${SENTINEL}`, content: 'pwned' }]),
      ]);
      // The same name in one layer: a symlink, then a file through it.
      const sameLayer = await push('symlink-same', [
        await tarLayer([
          { name: 'hop', type: 'symlink', linkname: '/etc' },
          { name: `hop/${SENTINEL}`, content: 'pwned' },
        ]),
      ]);
      const results = await Promise.all([
        pulled('symlink-abs', absolute),
        pulled('symlink-rel', relative),
        pulled('symlink-same', sameLayer),
      ]);
      // Resolved inside the image, as Docker does: `/` and `..` above the root are the image's root.
      for (const result of results) assert.equal(result.State, 'Active', result.StateReason);
      const placed = await findUnder(
        join(suite.dataDir, 'images'),
        (_stats, path) => basename(path) === SENTINEL,
      );
      assert.equal(placed.length, 4, placed.join('\n'));
      for (const path of placed)
        assert.match(path, /\/images\/images\/[0-9a-f]{64}\/rootfs\/(etc|tmp)\/lamina-sentinel-/);
      await unharmed();
    },
  );

  test(
    'hard links to files outside the root are refused, and no file of the data dir is /etc/shadow',
    LIMIT,
    async () => {
      const relative = await push('hardlink-rel', [
        await tarLayer([{ name: 'shadow', type: 'link', linkname: '../../etc/shadow' }]),
      ]);
      invalid(await pulled('hardlink-rel', relative), /escapes the image's root/);
      // An absolute target is the image's own /etc/shadow, which the image does not have.
      const absolute = await push('hardlink-abs', [
        await tarLayer([
          { name: 'etc/', type: 'directory' },
          { name: 'shadow', type: 'link', linkname: '/etc/shadow' },
        ]),
      ]);
      invalid(await pulled('hardlink-abs', absolute), /links to a file that does not exist/);
      // Through a symlink of the same layer pointing out.
      const viaSymlink = await push('hardlink-via-symlink', [
        await tarLayer([
          { name: 'hostetc', type: 'symlink', linkname: '/etc' },
          { name: 'shadow', type: 'link', linkname: 'hostetc/shadow' },
        ]),
      ]);
      // `hostetc` is the image's own /etc, which has no shadow file.
      invalid(
        await pulled('hardlink-via-symlink', viaSymlink),
        /links to a file that does not exist/,
      );
      const shadow = statSync('/etc/shadow');
      const sameInode = await findUnder(
        suite.dataDir,
        (stats) => stats.ino === shadow.ino && stats.dev === shadow.dev,
      );
      assert.deepEqual(sameInode, []);
      await unharmed();
    },
  );

  test(
    'device nodes and FIFOs are skipped: the function is Active and they are absent inside',
    LIMIT,
    async () => {
      const digest = await push('devices', [
        ...(await runnable()),
        await tarLayer([
          { name: 'devices/', type: 'directory' },
          { name: 'devices/null', type: 'character-device' },
          { name: 'devices/disk', type: 'block-device' },
          { name: 'devices/pipe', type: 'fifo' },
          { name: 'devices/plain.txt', content: 'plain' },
          { name: 'var/task/fifo', type: 'fifo' },
        ]),
      ]);
      const result = await pulled('devices', digest);
      assert.equal(result.State, 'Active', result.StateReason);
      const seen = await report('devices', {
        lstat: [
          '/devices/null',
          '/devices/disk',
          '/devices/pipe',
          '/devices/plain.txt',
          '/var/task/fifo',
        ],
      });
      assert.deepEqual(seen.lstat, {
        '/devices/null': 'ENOENT',
        '/devices/disk': 'ENOENT',
        '/devices/pipe': 'ENOENT',
        '/devices/plain.txt': 'file',
        '/var/task/fifo': 'ENOENT',
      });
      const special = await findUnder(
        join(suite.dataDir, 'images'),
        (stats) => stats.isCharacterDevice() || stats.isBlockDevice() || stats.isFIFO(),
      );
      assert.deepEqual(special, []);
      await unharmed();
    },
  );

  test(
    'a layer declaring a 20 GB file fails fast as InvalidImage and writes nothing large',
    LIMIT,
    async () => {
      const imagesDir = join(suite.dataDir, 'images');
      const sizeBefore = await diskBytes(imagesDir);
      const digest = await push(
        'huge',
        [
          await tarLayer([
            { name: 'fine.txt', content: 'fine' },
            { name: 'huge.bin', size: 20 * 1000 * 1000 * 1000, content: 'abc' },
          ]),
        ],
        true,
      );
      const started = Date.now();
      const result = await pulled('huge', digest);
      const elapsed = Date.now() - started;
      invalid(result, /huge\.bin.*more than 10 GB/);
      assert.ok(elapsed < 30_000, `the refusal took ${elapsed} ms`);
      const grown = (await diskBytes(imagesDir)) - sizeBefore;
      assert.ok(grown < 50 * MB, `the images folder grew by ${grown} bytes`);
      await unharmed();
    },
  );

  test(
    'a gzip bomb that is not a tar fails as InvalidImage without filling the disk',
    LIMIT,
    async () => {
      const imagesDir = join(suite.dataDir, 'images');
      const sizeBefore = await diskBytes(imagesDir);
      const bomb = gzipBomb(Buffer.from('this is not a tar archive\n'), 32);
      assert.ok(
        bomb.expanded > 2 * GB && bomb.gz.length < 4 * MB,
        `the bomb is ${bomb.gz.length} bytes`,
      );
      const layer = await pushBlob(host(), 'hostile', bomb.gz, OCI.tarGzip);
      const config = await pushBlob(
        host(),
        'hostile',
        Buffer.from(
          JSON.stringify({
            architecture: HOST_ARCH,
            os: 'linux',
            config: {},
            rootfs: { type: 'layers', diff_ids: [bomb.diffId] },
          }),
        ),
        OCI.config,
      );
      const digest = await pushManifest(
        host(),
        'hostile:bomb',
        { schemaVersion: 2, mediaType: OCI.manifest, config, layers: [layer] },
        OCI.manifest,
      );
      const started = Date.now();
      const result = await pulled('bomb', digest);
      const elapsed = Date.now() - started;
      invalid(result, /not a tar archive/);
      assert.ok(elapsed < 30_000, `the refusal took ${elapsed} ms`);
      const grown = (await diskBytes(imagesDir)) - sizeBefore;
      assert.ok(grown < 50 * MB, `the images folder grew by ${grown} bytes`);
      // Nothing half-built is left behind.
      const partial = (await readdir(imagesDir)).filter((name) => name.startsWith('.partial-'));
      assert.deepEqual(partial, []);
      await unharmed();
    },
  );

  test('every escape target stays absent after all of the above', () => {
    assert.deepEqual(
      escapes().filter((path) => existsSync(path) || isLink(path)),
      [],
    );
  });
});

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
