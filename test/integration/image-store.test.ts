/**
 * FileImageStore against a real registry (Debian's docker-registry), directly or behind a small
 * HTTP front that counts requests and can demand Bearer tokens: pulls by tag and digest, the blob
 * cache shared across images, concurrent pulls, refusals (missing tag, credentials, tampered blob,
 * foreign platform, zstd, plain HTTP off loopback) and remove().
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  ImagePullError,
  type ImageFailureCode,
  type RegistryCredential,
} from '../../src/functions/image-store.js';
import { FileImageStore } from '../../src/images/file-image-store.js';
import { unpackLayer } from '../../src/images/layer-unpacker.js';
import {
  HOST_ARCH,
  imageFromDirectory,
  OCI,
  pushBlob,
  pushLayers,
  pushManifest,
  tarOf,
} from '../helpers/oci-images.js';
import { startRegistry, type TestRegistry } from '../helpers/oci-registry.js';
import { startRegistryFront, type RegistryFront } from '../helpers/registry-front.js';

const OTHER_ARCH = HOST_ARCH === 'amd64' ? 'arm64' : 'amd64';
const cleanups: (() => Promise<void>)[] = [];

async function storeFor(
  options: {
    credential?: RegistryCredential;
    insecure?: string[];
    timeouts?: { connectMs: number; stallMs: number };
  } = {},
): Promise<{ store: FileImageStore; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'lamina-images-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const store = new FileImageStore({
    dir,
    credentials: { lookup: () => Promise.resolve(options.credential) },
    insecureRegistries: options.insecure ?? [],
    unpackLayer,
    timeouts: options.timeouts ?? { connectMs: 5_000, stallMs: 10_000 },
  });
  return { store, dir };
}

async function failure(promise: Promise<unknown>, code: ImageFailureCode): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ImagePullError, `expected ImagePullError, got ${String(error)}`);
    assert.equal(error.reasonCode, code, error.message);
    return error.message;
  }
  throw new Error('expected the pull to fail');
}

const blobGets = (front: RegistryFront) =>
  front.forwarded.filter((line) => line.startsWith('GET') && line.includes('/blobs/'));

async function blobFiles(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'blobs', 'sha256'))).filter((name) => !name.startsWith('.'));
}

describe('FileImageStore with a real registry', () => {
  let registry: TestRegistry;
  let front: RegistryFront;
  let base: Buffer;

  before(async () => {
    registry = await startRegistry();
    front = await startRegistryFront(registry.host);
    base = await tarOf({ 'base.txt': 'base layer\n' });
  });
  after(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
    await front?.stop();
    await registry?.stop();
  });

  test('pulls by tag, then by digest, with the image configuration', async () => {
    const digest = await pushLayers(registry.host, 'app/one:v1', {
      layers: [base, await tarOf({ 'var/task/app.sh': 'echo hi\n' })],
      config: {
        Entrypoint: ['/bin/sh'],
        Cmd: ['app.sh'],
        Env: ['A=1', 'PATH=/bin'],
        WorkingDir: '/var/task',
      },
    });
    const { store } = await storeFor();
    const image = await store.pull(`${registry.host}/app/one:v1`);
    assert.equal(image.digest, digest);
    assert.deepEqual(image.config, {
      entrypoint: ['/bin/sh'],
      cmd: ['app.sh'],
      env: ['A=1', 'PATH=/bin'],
      workingDir: '/var/task',
    });
    assert.equal(await readFile(join(image.rootDir, 'var/task/app.sh'), 'utf8'), 'echo hi\n');
    assert.equal(await readFile(join(image.rootDir, 'base.txt'), 'utf8'), 'base layer\n');
    assert.ok(image.sizeBytes > 0 && image.unpackedBytes > 0);
    assert.deepEqual(await store.pull(`${registry.host}/app/one@${digest}`), image);
    assert.deepEqual(await store.pull(`${registry.host}/app/one:v1@${digest}`), image);
    assert.deepEqual(await store.open(digest), image);
  });

  test('a digest is used from the disk only under a repository that served it', async () => {
    await pushLayers(registry.host, 'private/secret:v1', {
      layers: [await tarOf({ 'secret.txt': 'only for private/secret' })],
    });
    const { store } = await storeFor();
    const secret = await store.pull(`${front.host}/private/secret:v1`);
    // Named under another repository, the registry is asked, and it has no such manifest there.
    front.forwarded.length = 0;
    await assert.rejects(store.pull(`${front.host}/public/app@${secret.digest}`), (error) => {
      assert.ok(error instanceof ImagePullError);
      assert.equal(error.reasonCode, 'ImageDeleted');
      return true;
    });
    assert.deepEqual(front.forwarded, [`GET /v2/public/app/manifests/${secret.digest}`]);
    // Under the repository that served it, no request at all.
    front.forwarded.length = 0;
    assert.deepEqual(await store.pull(`${front.host}/private/secret@${secret.digest}`), secret);
    assert.deepEqual(front.forwarded, []);
  });

  test('pulls uncompressed tar layers', async () => {
    const digest = await pushLayers(registry.host, 'app/plain:v1', {
      layers: [await tarOf({ 'plain.txt': 'not gzipped' })],
      gzip: false,
    });
    const { store } = await storeFor();
    const image = await store.pull(`${registry.host}/app/plain:v1`);
    assert.equal(image.digest, digest);
    assert.equal(await readFile(join(image.rootDir, 'plain.txt'), 'utf8'), 'not gzipped');
  });

  test('a second pull downloads no blob', async () => {
    await pushLayers(registry.host, 'app/again:v1', {
      layers: [base, await tarOf({ 'again.txt': 'x' })],
    });
    const { store } = await storeFor();
    const uri = `${front.host}/app/again:v1`;
    front.forwarded.length = 0;
    const first = await store.pull(uri);
    assert.equal(blobGets(front).length, 3, 'config and two layers');
    front.forwarded.length = 0;
    assert.deepEqual(await store.pull(uri), first);
    assert.deepEqual(blobGets(front), []);
    assert.deepEqual(front.forwarded, [`GET /v2/app/again/manifests/v1`]);
  });

  test('images sharing a base layer store and download it once; remove() keeps it', async () => {
    const onlyA = await tarOf({ 'a.txt': 'a' });
    const onlyB = await tarOf({ 'b.txt': 'b' });
    const a = await pushLayers(registry.host, 'app/a:v1', { layers: [base, onlyA] });
    const b = await pushLayers(registry.host, 'app/b:v1', { layers: [base, onlyB] });
    const { store, dir } = await storeFor();
    front.forwarded.length = 0;
    await store.pull(`${front.host}/app/a:v1`);
    await store.pull(`${front.host}/app/b:v1`);
    const baseDigest = `sha256:${sha256hex(gzipSync(base))}`;
    const layerGets = blobGets(front).filter((line) => line.endsWith(baseDigest));
    assert.equal(layerGets.length, 1, 'the base layer is downloaded once');
    assert.equal((await blobFiles(dir)).length, 3);

    await store.remove(a);
    assert.equal(await store.open(a), undefined);
    assert.ok((await store.open(b)) !== undefined);
    const left = await blobFiles(dir);
    assert.equal(left.length, 2);
    assert.ok(left.includes(baseDigest.slice(7)), 'the shared base layer stays');
    await store.remove(b);
    assert.deepEqual(await blobFiles(dir), []);
    assert.deepEqual(
      (await readdir(join(dir, 'images'))).filter((name) => !name.startsWith('.')),
      [],
    );
  });

  test('concurrent pulls of one image share the work', async () => {
    const digest = await pushLayers(registry.host, 'app/busy:v1', {
      layers: [base, await tarOf({ 'busy.txt': 'busy' })],
    });
    const { store } = await storeFor();
    front.forwarded.length = 0;
    const images = await Promise.all(
      [1, 2, 3, 4].map(() => store.pull(`${front.host}/app/busy:v1`)),
    );
    for (const image of images) assert.equal(image.digest, digest);
    assert.equal(new Set(images.map((image) => image.rootDir)).size, 1);
    assert.equal(blobGets(front).length, 3, 'config and layers fetched once each');
  });

  test('a missing tag or repository is ImageDeleted', async () => {
    const { store } = await storeFor();
    await pushLayers(registry.host, 'app/tags:v1', { layers: [base] });
    const message = await failure(store.pull(`${registry.host}/app/tags:nope`), 'ImageDeleted');
    assert.match(message, /^Lamina could not pull 127\.0\.0\.1:\d+\/app\/tags:nope: /);
    assert.match(message, /404 for the manifest/);
    await failure(store.pull(`${registry.host}/never/pushed:v1`), 'ImageDeleted');
  });

  test('a tampered blob is InvalidImage and leaves nothing behind', async () => {
    const layer = await tarOf({ 'tampered.txt': 'original content' });
    await pushLayers(registry.host, 'app/tampered:v1', { layers: [layer] });
    const hex = sha256hex(gzipSync(layer));
    const file = join(
      registry.storageDir,
      'docker/registry/v2/blobs/sha256',
      hex.slice(0, 2),
      hex,
      'data',
    );
    const bytes = await readFile(file);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
    await writeFile(file, bytes);
    const { store, dir } = await storeFor();
    const message = await failure(store.pull(`${registry.host}/app/tampered:v1`), 'InvalidImage');
    assert.match(message, new RegExp(`layer sha256:${hex} does not match its digest`));
    assert.deepEqual(await readdir(join(dir, 'blobs', 'sha256')), []);
    assert.deepEqual(await readdir(join(dir, 'images')), []);
  });

  test('an index picks this machine’s platform and refuses one without it', async () => {
    const native = await pushLayers(registry.host, 'app/multi:native', {
      layers: [await tarOf({ 'arch.txt': HOST_ARCH })],
    });
    const foreign = await pushLayers(registry.host, 'app/multi:foreign', {
      layers: [await tarOf({ 'arch.txt': OTHER_ARCH })],
      architecture: OTHER_ARCH,
    });
    const entry = async (tag: string, digest: string, architecture: string) => ({
      mediaType: OCI.manifest,
      digest,
      size: (await manifestBytes(registry.host, 'app/multi', tag)).length,
      platform: { os: 'linux', architecture },
    });
    const both = {
      schemaVersion: 2,
      mediaType: OCI.index,
      manifests: [
        await entry('foreign', foreign, OTHER_ARCH),
        await entry('native', native, HOST_ARCH),
      ],
    };
    const onlyForeign = { ...both, manifests: [await entry('foreign', foreign, OTHER_ARCH)] };
    await pushManifest(registry.host, 'app/multi:both', both, OCI.index);
    await pushManifest(registry.host, 'app/multi:foreign-only', onlyForeign, OCI.index);
    const { store } = await storeFor();
    const image = await store.pull(`${registry.host}/app/multi:both`);
    assert.equal(image.digest, native);
    assert.equal(await readFile(join(image.rootDir, 'arch.txt'), 'utf8'), HOST_ARCH);
    const message = await failure(
      store.pull(`${registry.host}/app/multi:foreign-only`),
      'InvalidImage',
    );
    assert.match(
      message,
      new RegExp(`no manifest for linux/${HOST_ARCH} \\(it offers linux/${OTHER_ARCH}\\)`),
    );
    const direct = await failure(store.pull(`${registry.host}/app/multi:foreign`), 'InvalidImage');
    assert.match(direct, new RegExp(`the image is for linux/${OTHER_ARCH}`));
  });

  test('a zstd layer is InvalidImage naming the media type', async () => {
    const zstd = 'application/vnd.oci.image.layer.v1.tar+zstd';
    const layer = await pushBlob(registry.host, 'app/zstd', Buffer.from('not really zstd'), zstd);
    const config = await pushBlob(
      registry.host,
      'app/zstd',
      Buffer.from(JSON.stringify({ architecture: HOST_ARCH, os: 'linux', config: {} })),
      OCI.config,
    );
    const manifest = { schemaVersion: 2, mediaType: OCI.manifest, config, layers: [layer] };
    await pushManifest(registry.host, 'app/zstd:v1', manifest, OCI.manifest);
    const { store } = await storeFor();
    const message = await failure(store.pull(`${registry.host}/app/zstd:v1`), 'InvalidImage');
    assert.ok(message.includes(zstd), message);
  });

  test('an image built from a folder with umoci', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'lamina-umoci-src-'));
    cleanups.push(() => rm(folder, { recursive: true, force: true }));
    await mkdir(join(folder, 'var', 'task'), { recursive: true });
    await writeFile(join(folder, 'var', 'task', 'index.mjs'), 'export const handler = 1;\n');
    const digest = await imageFromDirectory(registry.host, 'app/umoci:v1', folder, {
      Entrypoint: ['/usr/bin/node'],
      Cmd: ['index.handler'],
      Env: ['X=y'],
      WorkingDir: '/var/task',
    });
    const { store } = await storeFor();
    const image = await store.pull(`${registry.host}/app/umoci:v1`);
    assert.equal(image.digest, digest);
    assert.deepEqual(image.config.entrypoint, ['/usr/bin/node']);
    assert.deepEqual(image.config.cmd, ['index.handler']);
    assert.ok(image.config.env.includes('X=y'));
    assert.equal(image.config.workingDir, '/var/task');
    assert.equal(
      await readFile(join(image.rootDir, 'var/task/index.mjs'), 'utf8'),
      'export const handler = 1;\n',
    );
  });

  test('a refused connection is InternalError', async () => {
    const { store } = await storeFor();
    const message = await failure(store.pull('127.0.0.1:1/app/x:v1'), 'InternalError');
    assert.match(message, /refused the connection/);
  });

  test('a registry that accepts connections and never answers times out', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const { store } = await storeFor({ timeouts: { connectMs: 300, stallMs: 300 } });
      const message = await failure(store.pull(`127.0.0.1:${port}/app/x:v1`), 'InternalError');
      assert.match(message, /no connection to 127\.0\.0\.1:\d+ within 300 ms|sent nothing/);
    } finally {
      silent.close();
    }
  });

  test('a reference without a host is refused', async () => {
    const { store } = await storeFor();
    const message = await failure(store.pull('app:v1'), 'InvalidImage');
    assert.match(message, /names no registry host/);
  });
});

describe('registry authentication', () => {
  const alice = { username: 'alice', password: 'correct horse' };

  after(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  test('Basic (htpasswd): the stored credentials pull, wrong or none are ImageAccessDenied', async () => {
    const registry = await startRegistry({ htpasswd: alice });
    try {
      await pushLayers(registry.host, 'private/app:v1', {
        layers: [await tarOf({ 'secret.txt': 's' })],
        credentials: alice,
      });
      const uri = `${registry.host}/private/app:v1`;
      const none = await failure((await storeFor()).store.pull(uri), 'ImageAccessDenied');
      assert.ok(none.includes(`npx lamina registries login ${registry.host}`), none);
      const wrong = { username: 'alice', password: 'wrong' };
      const refused = await failure(
        (await storeFor({ credential: wrong })).store.pull(uri),
        'ImageAccessDenied',
      );
      assert.match(refused, /refused access with the credentials stored/);
      const image = await (await storeFor({ credential: alice })).store.pull(uri);
      assert.equal(await readFile(join(image.rootDir, 'secret.txt'), 'utf8'), 's');
    } finally {
      await registry.stop();
    }
  });

  test('Bearer tokens: fetched with the stored credentials, refused without', async () => {
    const registry = await startRegistry();
    const front = await startRegistryFront(registry.host, { bearer: alice });
    try {
      await pushLayers(registry.host, 'tokens/app:v1', { layers: [await tarOf({ 't.txt': 't' })] });
      const uri = `${front.host}/tokens/app:v1`;
      const image = await (await storeFor({ credential: alice })).store.pull(uri);
      assert.equal(await readFile(join(image.rootDir, 't.txt'), 'utf8'), 't');
      assert.ok(front.tokenRequests.some((request) => request.accepted));
      assert.ok(
        front.tokenRequests.every((request) => request.scope === 'repository:tokens/app:pull'),
      );
      const wrong = { username: 'alice', password: 'nope' };
      await failure((await storeFor({ credential: wrong })).store.pull(uri), 'ImageAccessDenied');
      await failure((await storeFor()).store.pull(uri), 'ImageAccessDenied');
    } finally {
      await front.stop();
      await registry.stop();
    }
  });
});

describe('plain HTTP off loopback', () => {
  test('is refused unless the host is an insecure registry', async () => {
    const address = nonLoopbackIPv4();
    const registry = await startRegistry({ address });
    try {
      await pushLayers(registry.host, 'far/app:v1', { layers: [await tarOf({ 'f.txt': 'f' })] });
      const uri = `${registry.host}/far/app:v1`;
      const refused = await failure((await storeFor()).store.pull(uri), 'InternalError');
      assert.ok(refused.includes(`--insecure-registry ${registry.host}`), refused);
      const image = await (await storeFor({ insecure: [registry.host] })).store.pull(uri);
      assert.equal(await readFile(join(image.rootDir, 'f.txt'), 'utf8'), 'f');
      const byName = await (await storeFor({ insecure: [address] })).store.pull(uri);
      assert.equal(byName.digest, image.digest);
    } finally {
      await registry.stop();
      for (const cleanup of cleanups.splice(0)) await cleanup();
    }
  });
});

function nonLoopbackIPv4(): string {
  const out = execFileSync('ip', ['-4', '-o', 'addr', 'show', 'scope', 'global'], {
    encoding: 'utf8',
  });
  const address = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(out)?.[1];
  if (address === undefined) throw new Error(`no non-loopback IPv4 address: ${out}`);
  return address;
}

async function manifestBytes(host: string, repository: string, tag: string): Promise<Buffer> {
  const response = await fetch(`http://${host}/v2/${repository}/manifests/${tag}`, {
    headers: { accept: OCI.manifest },
  });
  return Buffer.from(await response.arrayBuffer());
}

function sha256hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
