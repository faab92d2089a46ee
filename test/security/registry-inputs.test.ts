/**
 * Registries under hostile control: a function author names the registry its image is pulled from,
 * so that registry decides every byte and every pause of its answers. FileImageStore (the real
 * layer unpacker, short time-outs) pulls from a small node:http registry that misbehaves one way
 * per test: manifests, configuration blobs and layers far larger than they may be (streamed
 * endlessly, with and without Content-Length), 10,000 layers, JSON nested 100,000 deep, bodies
 * and headers dripped or never sent, headers that never end, redirect loops and redirects to
 * file: or ftp:, token services that are files, floods or not JSON, a 401 that never ends, index
 * cycles and nesting, digests and Content-Types that lie. Each pull fails with ImagePullError,
 * the expected reason code and a message saying what went wrong, within a few seconds, without
 * buffering what the registry streams (the process's memory stays within 100 MB of where it was,
 * and the registry sees its answer closed), leaving no partial file and nothing unverified in the
 * store or outside it; and the same store then pulls a good image from the same registry.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { inspect } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ImagePullError, type ImageFailureCode } from '../../src/functions/image-store.js';
import { FileImageStore } from '../../src/images/file-image-store.js';
import { unpackLayer } from '../../src/images/layer-unpacker.js';
import { HOST_ARCH, OCI, sha256, tarOf } from '../helpers/oci-images.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
/** The manifest and configuration limit (PULL_LIMITS.documentBytes). */
const DOCUMENT_LIMIT = 4 * MiB;
const TIMEOUTS = { connectMs: 1_000, stallMs: 500 };
/** How long a refused pull may take (the slowest, the stalls, take about a second). */
const PULL_BOUND_MS = 8_000;
/** How far the process's resident memory may rise during one attack. */
const MEMORY_BOUND = 100 * MiB;
/** At most this much of a flood may be sent before the client stops reading (socket buffers). */
const FLOOD_READ_BOUND = 64 * MiB;
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

// ---------------------------------------------------------------------------------------------
// The registry: good images by default; each test installs a handler that intercepts what it
// attacks.

/** Answers a request itself (true) or leaves it to the good registry (false). */
type Handler = (request: IncomingMessage, response: ServerResponse, url: URL) => boolean;

interface Registry {
  /** `127.0.0.1:PORT`. */
  readonly host: string;
  /** `path?query` of every request, in order (cleared by each test). */
  readonly requests: string[];
  handler: Handler | undefined;
  stop(): Promise<void>;
}

/** What the registry serves when no handler intercepts: manifests by `repo:ref`, blobs by digest. */
const manifests = new Map<string, { body: Buffer; type: string }>();
const blobs = new Map<string, Buffer>();

async function startRegistry(): Promise<Registry> {
  const requests: string[] = [];
  const registry: Registry = {
    host: '',
    requests,
    handler: undefined,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://registry');
    requests.push(`${url.pathname}${url.search}`);
    if (registry.handler?.(request, response, url) === true) return;
    const manifest = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    const served = manifest === null ? undefined : manifests.get(`${manifest[1]}:${manifest[2]}`);
    if (served !== undefined) {
      response.writeHead(200, {
        'content-type': served.type,
        'content-length': served.body.length,
      });
      response.end(served.body);
      return;
    }
    const blob = blobs.get(/^\/v2\/.+\/blobs\/([^/]+)$/.exec(url.pathname)?.[1] ?? '');
    if (blob !== undefined) {
      response.writeHead(200, { 'content-length': blob.length });
      response.end(blob);
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(registry, {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
  });
}

/** A blob the registry serves; its descriptor. */
function addBlob(bytes: Buffer, mediaType: string) {
  const digest = sha256(bytes);
  blobs.set(digest, bytes);
  return { mediaType, digest, size: bytes.length };
}

/** A manifest the registry serves as `repo:tag` and `repo:digest`; its digest and bytes. */
function addManifest(
  repo: string,
  tag: string,
  document: unknown,
  type: string = OCI.manifest,
): { digest: string; body: Buffer } {
  const body = Buffer.from(JSON.stringify(document));
  const digest = sha256(body);
  manifests.set(`${repo}:${tag}`, { body, type });
  manifests.set(`${repo}:${digest}`, { body, type });
  return { digest, body };
}

/** A valid configuration blob for this machine. */
function configBlob() {
  return addBlob(
    Buffer.from(JSON.stringify({ architecture: HOST_ARCH, os: 'linux', config: { Cmd: ['/x'] } })),
    OCI.config,
  );
}

/** A good image as `good/app:<tag>` (one gzip layer with good.txt = tag); its digest. */
async function goodImage(tag: string): Promise<string> {
  const layer = addBlob(gzipSync(await tarOf({ 'good.txt': tag })), OCI.tarGzip);
  return addManifest('good/app', tag, {
    schemaVersion: 2,
    mediaType: OCI.manifest,
    config: configBlob(),
    layers: [layer],
  }).digest;
}

/** What the registry sent of a flood, and when the client closed it. */
interface Flood {
  sent: number;
  readonly closed: Promise<unknown>;
}

/**
 * Streams `total` bytes (by default a gibibyte: endless for a client that must stop early) as
 * fast as the client reads them, honouring back-pressure so the registry itself buffers nothing.
 */
function flood(response: ServerResponse, total = GiB, fill = 0x61): Flood {
  const chunk = Buffer.alloc(64 * KiB, fill);
  const state: Flood = { sent: 0, closed: once(response, 'close') };
  const pump = (): void => {
    while (state.sent < total && !response.destroyed) {
      const size = Math.min(chunk.length, total - state.sent);
      state.sent += size;
      if (!response.write(size === chunk.length ? chunk : chunk.subarray(0, size))) {
        response.once('drain', pump);
        return;
      }
    }
    if (state.sent >= total) response.end();
  };
  pump();
  return state;
}

/** Sends one byte every `intervalMs` until `total` are sent or the client goes away. */
function drip(response: ServerResponse, intervalMs: number, total: number): Flood {
  const state: Flood = { sent: 0, closed: once(response, 'close') };
  const timer = setInterval(() => {
    if (response.destroyed || state.sent >= total) {
      clearInterval(timer);
      return;
    }
    state.sent += 1;
    response.write('a');
  }, intervalMs);
  void state.closed.then(() => clearInterval(timer));
  return state;
}

/** A raw TCP server whose every connection is handed to `onSocket`. */
async function startTcp(
  onSocket: (socket: Socket) => void,
): Promise<{ host: string; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Measuring one attack.

/** The resident memory's highest point while `run` runs, above where it started. */
async function peakGrowth<T>(run: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const sample = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  try {
    const result = await run();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, growth: peak - start };
  } finally {
    clearInterval(sample);
  }
}

/** `promise`, or a failure once `ms` have passed (a hang fails the test instead of holding it). */
async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} still running after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Every path under `dir`, relative to it. */
async function walk(dir: string, prefix = ''): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const path = join(prefix, entry.name);
    found.push(path);
    if (entry.isDirectory()) found.push(...(await walk(dir, path)));
  }
  return found;
}

/** Names in the shared temporary folder and the working directory that look like leftovers. */
async function strayPartials(): Promise<string[]> {
  const names = [...(await readdir(tmpdir())), ...(await readdir(process.cwd()))];
  return names.filter((name) => name.startsWith('.partial-') || name.startsWith('.removing-'));
}

describe('pulling from a hostile registry', () => {
  let registry: Registry;
  let root: string;
  let cases = 0;
  let partialsBefore: string[] = [];
  /** The requests the registry saw during the last attack (before the good pull). */
  let attackRequests: string[] = [];

  before(async () => {
    registry = await startRegistry();
    root = await mkdtemp(join(tmpdir(), 'lamina-registry-inputs-'));
    partialsBefore = await strayPartials();
  });
  after(async () => {
    await registry?.stop();
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  /**
   * Pulls `uri` (a repository of the hostile registry unless it names a host) with a fresh store
   * and asserts the failure, its bound in time and memory, what is left on disk, and that a good
   * image pulls afterwards with the same store. Answers the failure's message.
   */
  async function refused(
    uri: string,
    code: ImageFailureCode,
    message: RegExp,
    options: { boundMs?: number; maxPullMs?: number } = {},
  ): Promise<string> {
    cases += 1;
    const caseDir = join(root, `case-${cases}`);
    const dir = join(caseDir, 'store');
    const store = new FileImageStore({
      dir,
      credentials: { lookup: () => Promise.resolve(undefined) },
      insecureRegistries: [],
      unpackLayer,
      timeouts: TIMEOUTS,
      ...(options.maxPullMs === undefined ? {} : { maxPullMs: options.maxPullMs }),
    });
    const full = uri.startsWith('127.0.0.1:') ? uri : `${registry.host}/${uri}`;
    registry.requests.length = 0;
    const started = performance.now();
    const { result: error, growth } = await peakGrowth(() =>
      within(
        options.boundMs ?? PULL_BOUND_MS,
        store.pull(full).then(
          () => undefined,
          (caught: unknown) => caught,
        ),
        `the pull of ${full}`,
      ),
    );
    const elapsed = performance.now() - started;
    assert.ok(error !== undefined, `the pull of ${full} succeeded`);
    assert.ok(error instanceof ImagePullError, `expected ImagePullError, got ${inspect(error)}`);
    assert.equal(error.reasonCode, code, error.message);
    assert.ok(
      error.message.startsWith(`Lamina could not pull ${full}: `),
      `the message names the image: ${error.message}`,
    );
    assert.match(error.message, message);
    assert.ok(elapsed < (options.boundMs ?? PULL_BOUND_MS), `took ${elapsed} ms`);
    assert.ok(growth < MEMORY_BOUND, `memory grew by ${Math.round(growth / MiB)} MiB`);
    await assertClean(caseDir, dir, false);
    attackRequests = [...registry.requests];

    // The same store, same registry: a good image still pulls (a fresh tag: a real download).
    const handler = registry.handler;
    registry.handler = undefined;
    const tag = `after-${cases}`;
    const digest = await goodImage(tag);
    const image = await within(5_000, store.pull(`${registry.host}/good/app:${tag}`), 'good pull');
    assert.equal(image.digest, digest);
    assert.equal(await readFile(join(image.rootDir, 'good.txt'), 'utf8'), tag);
    await assertClean(caseDir, dir, true);
    registry.handler = handler;
    return error.message;
  }

  /**
   * Nothing outside the store (its parent holds only it; no partial leftovers in the temporary
   * folder or working directory), no partial or doomed folder inside it, no unverified blob, and
   * no image unless `goodImage` (then exactly one, complete).
   */
  async function assertClean(caseDir: string, dir: string, goodImage: boolean): Promise<void> {
    assert.deepEqual(await readdir(caseDir), ['store'], 'nothing beside the store');
    assert.deepEqual(await strayPartials(), partialsBefore, 'no partial files elsewhere');
    const paths = await walk(dir);
    const leftovers = paths.filter((path) => /(^|\/)\.(partial|removing)-/.test(path));
    assert.deepEqual(leftovers, [], 'no partial downloads or images');
    const blobsDir = join(dir, 'blobs', 'sha256');
    for (const name of await readdir(blobsDir)) {
      const bytes = await readFile(join(blobsDir, name));
      assert.equal(createHash('sha256').update(bytes).digest('hex'), name, `blob ${name} verified`);
    }
    const images = await readdir(join(dir, 'images'));
    assert.equal(images.length, goodImage ? 1 : 0, `images: ${images.join(', ')}`);
  }

  /** Installs the handler for one test (the requests list starts empty). */
  function serve(handler: Handler): void {
    registry.requests.length = 0;
    registry.handler = handler;
  }

  /** A handler for `/v2/<repo>/manifests/*` only. */
  function onManifest(repo: string, answer: (response: ServerResponse, url: URL) => void): Handler {
    return (_request, response, url) => {
      if (!url.pathname.startsWith(`/v2/${repo}/manifests/`)) return false;
      answer(response, url);
      return true;
    };
  }

  /** Registers an image manifest for `repo:v1` with these config and layer descriptors. */
  function imageManifest(
    repo: string,
    config: unknown,
    layers: unknown[],
  ): { digest: string; body: Buffer } {
    return addManifest(repo, 'v1', { schemaVersion: 2, mediaType: OCI.manifest, config, layers });
  }

  /** A descriptor of a blob the registry does not hold as such (the handler answers it). */
  function descriptor(seed: string, size: number, mediaType: string = OCI.tarGzip) {
    return { mediaType, digest: sha256(Buffer.from(seed)), size };
  }

  // ------------------------------------------------------------------------- manifests

  test('a manifest streamed endlessly without Content-Length stops at 4 MiB', async () => {
    let stream: Flood | undefined;
    serve(
      onManifest('big/chunked', (response) => {
        response.writeHead(200, { 'content-type': OCI.manifest });
        stream = flood(response);
      }),
    );
    await refused(
      'big/chunked:v1',
      'InvalidImage',
      new RegExp(`the manifest is larger than ${DOCUMENT_LIMIT} bytes`),
    );
    assert.ok(stream !== undefined);
    await within(2_000, stream.closed, 'the client closing the flood');
    assert.ok(stream.sent < FLOOD_READ_BOUND, `the registry sent ${stream.sent} bytes`);
  });

  test('a manifest declaring a gibibyte in Content-Length is refused unread', async () => {
    let stream: Flood | undefined;
    serve(
      onManifest('big/declared', (response) => {
        response.writeHead(200, { 'content-type': OCI.manifest, 'content-length': GiB });
        stream = flood(response);
      }),
    );
    await refused(
      'big/declared:v1',
      'InvalidImage',
      new RegExp(`the manifest is larger than ${DOCUMENT_LIMIT} bytes`),
    );
    assert.ok(stream !== undefined);
    await within(2_000, stream.closed, 'the client closing the flood');
    assert.ok(stream.sent < FLOOD_READ_BOUND, `the registry sent ${stream.sent} bytes`);
  });

  test('a manifest with 10,000 layers is refused', async () => {
    const layers = Array.from({ length: 10_000 }, (_, i) => descriptor(`layer ${i}`, 10));
    imageManifest('many/layers', configBlob(), layers);
    serve(() => false);
    await refused(
      'many/layers:v1',
      'InvalidImage',
      /the image has 10000 layers; at most 128 are supported/,
    );
    assert.equal(
      attackRequests.filter((path) => path.includes('/blobs/')).length,
      0,
      'no blob is fetched',
    );
  });

  test('a manifest nesting JSON 100,000 levels deep is refused', async () => {
    const deep = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    serve(
      onManifest('deep/nest', (response, url) => {
        response.writeHead(200, { 'content-type': OCI.manifest });
        response.end(
          url.pathname.endsWith('/whole')
            ? deep(100_000)
            : `{"schemaVersion":2,"mediaType":"${OCI.manifest}","config":{"mediaType":"${OCI.config}","annotations":${deep(100_000)}},"layers":[]}`,
        );
      }),
    );
    await refused('deep/nest:whole', 'InvalidImage', /the manifest is not a JSON object/);
    await refused('deep/nest:inner', 'InvalidImage', /the config has digest undefined/);
  });

  test('a manifest that is not JSON at all is refused', async () => {
    serve(
      onManifest('junk/manifest', (response) => {
        response.writeHead(200, { 'content-type': OCI.manifest });
        response.end(Buffer.from([0xff, 0xfe, 0x00, 0x7b]));
      }),
    );
    await refused('junk/manifest:v1', 'InvalidImage', /the manifest is not valid JSON/);
  });

  // ------------------------------------------------------------------------- config and layers

  test('a configuration declared as a gibibyte is refused before it is fetched', async () => {
    imageManifest('config/huge', descriptor('config', GiB, OCI.config), [descriptor('layer', 10)]);
    serve(() => false);
    await refused(
      'config/huge:v1',
      'InvalidImage',
      new RegExp(`the image configuration is ${GiB} bytes; at most ${DOCUMENT_LIMIT}`),
    );
    assert.ok(!attackRequests.some((path) => path.includes('/blobs/')), 'nothing fetched');
  });

  test('a small configuration the registry streams a gibibyte of stops at its declared size', async () => {
    const config = descriptor('config flood', 300, OCI.config);
    imageManifest('config/flood', config, [descriptor('layer', 10)]);
    const streams: Flood[] = [];
    serve((_request, response, url) => {
      if (!url.pathname.endsWith(`/blobs/${config.digest}`)) return false;
      const declared = streams.length === 1;
      response.writeHead(200, declared ? { 'content-length': GiB } : {});
      streams.push(flood(response, GiB, 0x7b));
      return true;
    });
    // The first pull's configuration comes without Content-Length, the second's with one.
    for (let i = 0; i < 2; i += 1)
      await refused(
        'config/flood:v1',
        'InvalidImage',
        new RegExp(`the image configuration ${config.digest} is larger than 300 bytes`),
      );
    assert.equal(streams.length, 2);
    for (const stream of streams) {
      await within(2_000, stream.closed, 'the client closing the flood');
      assert.ok(stream.sent < FLOOD_READ_BOUND, `the registry sent ${stream.sent} bytes`);
    }
  });

  test('a layer of 10 bytes the registry streams a gibibyte of stops at 10 bytes', async () => {
    const layer = descriptor('ten bytes', 10);
    imageManifest('layer/flood', configBlob(), [layer]);
    const streams: Flood[] = [];
    serve((_request, response, url) => {
      if (!url.pathname.endsWith(`/blobs/${layer.digest}`)) return false;
      response.writeHead(200, {});
      streams.push(flood(response));
      return true;
    });
    await refused(
      'layer/flood:v1',
      'InvalidImage',
      new RegExp(
        `the registry sent more bytes for layer ${layer.digest} than its manifest size 10`,
      ),
    );
    assert.equal(streams.length, 1);
    await within(2_000, streams[0]?.closed ?? Promise.resolve(), 'the client closing the flood');
    assert.ok((streams[0]?.sent ?? 0) < FLOOD_READ_BOUND);
  });

  test('a layer of 10 bytes with a Content-Length of a gibibyte is refused unread', async () => {
    const layer = descriptor('ten bytes declared', 10);
    imageManifest('layer/declared', configBlob(), [layer]);
    let stream: Flood | undefined;
    serve((_request, response, url) => {
      if (!url.pathname.endsWith(`/blobs/${layer.digest}`)) return false;
      response.writeHead(200, { 'content-length': GiB });
      stream = flood(response);
      return true;
    });
    await refused(
      'layer/declared:v1',
      'InvalidImage',
      new RegExp(
        `the registry sends ${GiB} bytes for layer ${layer.digest}, whose manifest size is 10`,
      ),
    );
    assert.ok(stream !== undefined);
    await within(2_000, stream.closed, 'the client closing the flood');
    assert.ok(stream.sent < FLOOD_READ_BOUND);
  });

  test('a layer of the declared size but other bytes fails its digest check', async () => {
    const layer = descriptor('not these bytes', 10);
    imageManifest('layer/wrong', configBlob(), [layer]);
    serve((_request, response, url) => {
      if (!url.pathname.endsWith(`/blobs/${layer.digest}`)) return false;
      response.writeHead(200, { 'content-length': 10 });
      response.end('0123456789');
      return true;
    });
    await refused(
      'layer/wrong:v1',
      'InvalidImage',
      new RegExp(`layer ${layer.digest} does not match its digest: the registry sent 10 bytes`),
    );
  });

  test('a layer whose body ends short fails its digest check', async () => {
    const layer = descriptor('short', 1_000);
    imageManifest('layer/short', configBlob(), [layer]);
    serve((_request, response, url) => {
      if (!url.pathname.endsWith(`/blobs/${layer.digest}`)) return false;
      response.writeHead(200, {});
      response.end('only this');
      return true;
    });
    await refused(
      'layer/short:v1',
      'InvalidImage',
      /does not match its digest: the registry sent 9 bytes .*\(the manifest says 1000 bytes\)/,
    );
  });

  // ------------------------------------------------------------------------- time

  test('a layer dripped one byte per second ends at the stall time-out', async () => {
    const layer = descriptor('drip', MiB);
    imageManifest('slow/drip', configBlob(), [layer]);
    let stream: Flood | undefined;
    serve((_request, response, url) => {
      if (!url.pathname.endsWith(`/blobs/${layer.digest}`)) return false;
      response.writeHead(200, { 'content-length': MiB });
      response.write('a');
      stream = drip(response, 1_000, MiB);
      return true;
    });
    await refused(
      'slow/drip:v1',
      'InternalError',
      new RegExp(
        `the download of layer ${layer.digest} from 127\\.0\\.0\\.1:\\d+ failed: .*(sent nothing for 500 ms|sent only \\d+ bytes in 500 ms)`,
      ),
    );
    assert.ok(stream !== undefined);
    await within(2_000, stream.closed, 'the client closing the drip');
  });

  test('a layer dripped faster than the stall time-out, but barely, ends too', async () => {
    // One byte every 50 ms is never 500 ms of silence, yet a mebibyte would take 14 hours.
    const layer = descriptor('fast drip', MiB);
    imageManifest('slow/fastdrip', configBlob(), [layer]);
    let stream: Flood | undefined;
    serve((_request, response, url) => {
      if (!url.pathname.endsWith(`/blobs/${layer.digest}`)) return false;
      response.writeHead(200, { 'content-length': MiB });
      stream = drip(response, 50, MiB);
      return true;
    });
    await refused(
      'slow/fastdrip:v1',
      'InternalError',
      new RegExp(
        `the download of layer ${layer.digest} .* failed: .*sent only \\d+ bytes in 500 ms`,
      ),
    );
    assert.ok(stream !== undefined);
    await within(2_000, stream.closed, 'the client closing the drip');
  });

  test('a layer sent steadily above the minimum rate, but endlessly, ends at the pull deadline', async () => {
    // 4 KiB every 100 ms passes the stall rule; a gigabyte would still take about seven hours.
    const layer = descriptor('steady', 1024 * MiB);
    imageManifest('slow/steady', configBlob(), [layer]);
    let closed: Promise<unknown> | undefined;
    serve((_request, response, url) => {
      if (!url.pathname.endsWith(`/blobs/${layer.digest}`)) return false;
      response.writeHead(200, { 'content-length': 1024 * MiB });
      const timer = setInterval(() => {
        if (response.destroyed) return clearInterval(timer);
        response.write(Buffer.alloc(4096, 1));
      }, 100);
      closed = once(response, 'close').then(() => clearInterval(timer));
      return true;
    });
    await refused('slow/steady:v1', 'InternalError', /the pull did not finish within 2 s/, {
      maxPullMs: 2_000,
    });
    assert.ok(closed !== undefined);
    await within(2_000, closed, 'the client closing the steady stream');
  });

  test('a manifest dripped faster than the stall time-out ends too', async () => {
    let stream: Flood | undefined;
    serve(
      onManifest('slow/manifest', (response) => {
        response.writeHead(200, { 'content-type': OCI.manifest });
        stream = drip(response, 50, MiB);
      }),
    );
    await refused(
      'slow/manifest:v1',
      'InternalError',
      /reading the manifest from 127\.0\.0\.1:\d+ failed: .*sent only \d+ bytes in 500 ms/,
    );
    assert.ok(stream !== undefined);
    await within(2_000, stream.closed, 'the client closing the drip');
  });

  test('a registry route that accepts the request and never answers times out', async () => {
    serve(onManifest('silent/route', () => undefined));
    await refused(
      'silent/route:v1',
      'InternalError',
      /could not fetch the manifest: 127\.0\.0\.1:\d+ sent nothing for 500 ms/,
    );
  });

  test('a server that accepts connections and never says a word times out', async () => {
    const silent = await startTcp(() => undefined);
    try {
      await refused(
        `${silent.host}/any/app:v1`,
        'InternalError',
        /could not fetch the manifest: (no connection to 127\.0\.0\.1:\d+ within 1000 ms|127\.0\.0\.1:\d+ sent nothing for 500 ms)/,
      );
    } finally {
      await silent.stop();
    }
  });

  /**
   * A server answering every connection with a status line, `start`, then `unit` over and over
   * (a gibibyte: endless), as fast as it is read; what each connection was sent is recorded.
   */
  function headerFlood(start: string, unit: Buffer, sentBytes: number[]) {
    return startTcp((socket) => {
      let sent = 0;
      socket.write(`HTTP/1.1 200 OK\r\n${start}`);
      const pump = (): void => {
        while (!socket.destroyed && sent < GiB) {
          sent += unit.length;
          if (!socket.write(unit)) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      socket.on('close', () => sentBytes.push(sent));
      pump();
    });
  }

  test('response headers that never end hit the client’s header size limit', async () => {
    // One header line that never ends, then (another server) ever more short header lines.
    const lines = Buffer.from(
      Array.from({ length: 4096 }, (_, i) => `X-H${i}: v\r\n`)
        .join('')
        .slice(0, 64 * KiB),
    );
    for (const [start, unit] of [
      ['X-Never-Ends: ', Buffer.alloc(64 * KiB, 0x61)],
      ['', lines],
    ] as const) {
      const sentBytes: number[] = [];
      const endless = await headerFlood(start, unit, sentBytes);
      try {
        await refused(
          `${endless.host}/any/app:v1`,
          'InternalError',
          /could not fetch the manifest: 127\.0\.0\.1:\d+ sent response headers larger than 16384 bytes/,
        );
      } finally {
        await endless.stop();
      }
      for (const sent of sentBytes) assert.ok(sent < FLOOD_READ_BOUND, `sent ${sent} bytes`);
    }
  });

  test('response headers dripped byte by byte end at the stall time-out', async () => {
    const dripping = await startTcp((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nX-Slow: ');
      const timer = setInterval(() => socket.write('a'), 50);
      socket.on('close', () => clearInterval(timer));
    });
    try {
      await refused(
        `${dripping.host}/any/app:v1`,
        'InternalError',
        /could not fetch the manifest: 127\.0\.0\.1:\d+ sent only \d+ bytes in 500 ms/,
      );
    } finally {
      await dripping.stop();
    }
  });

  // ------------------------------------------------------------------------- redirects

  test('a redirect loop ends after 5 hops', async () => {
    serve(
      onManifest('redirect/loop', (response, url) => {
        const hop = Number(url.searchParams.get('hop') ?? 0);
        response.writeHead(hop % 2 === 0 ? 302 : 307, { location: `?hop=${hop + 1}` });
        response.end();
      }),
    );
    await refused(
      'redirect/loop:v1',
      'InternalError',
      /the registry redirected the manifest more than 5 times/,
    );
    const hops = attackRequests.filter((path) => path.startsWith('/v2/redirect/loop/'));
    assert.ok(hops.length <= 6 + 1, `${hops.length} requests`);
  });

  for (const [target, scheme] of [
    ['file:///etc/passwd', 'file:'],
    ['ftp://127.0.0.1/pub/manifest', 'ftp:'],
    ['gopher://127.0.0.1:70/x', 'gopher:'],
    ['data:application/json,{"schemaVersion":2}', 'data:'],
  ] as const)
    test(`a redirect to ${scheme} is refused`, async () => {
      serve(
        onManifest('redirect/scheme', (response) => {
          response.writeHead(302, { location: target });
          response.end();
        }),
      );
      await refused(
        'redirect/scheme:v1',
        'InternalError',
        new RegExp(`could not fetch the manifest: unsupported URL scheme ${scheme}`),
      );
    });

  test('a redirect to something that is not a URL is refused', async () => {
    serve(
      onManifest('redirect/junk', (response) => {
        response.writeHead(302, { location: 'http://[::1' });
        response.end();
      }),
    );
    await refused(
      'redirect/junk:v1',
      'InternalError',
      /the registry redirected the manifest to "http:\/\/\[::1", which is not a URL/,
    );
  });

  test('a redirect to plain HTTP on another host is refused', async () => {
    serve(
      onManifest('redirect/far', (response) => {
        response.writeHead(302, { location: 'http://192.0.2.1/v2/x/manifests/v1' });
        response.end();
      }),
    );
    await refused(
      'redirect/far:v1',
      'InternalError',
      /refusing plain HTTP to 192\.0\.2\.1: it is not an insecure registry/,
    );
  });

  test('a redirect whose body never ends is not read to its end', async () => {
    let stream: Flood | undefined;
    serve(
      onManifest('redirect/body', (response, url) => {
        if (url.search === '') {
          response.writeHead(302, { location: '?next=1' });
          stream = flood(response);
          return;
        }
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
      }),
    );
    await refused('redirect/body:v1', 'ImageDeleted', /404 for the manifest/);
    assert.ok(stream !== undefined);
    await within(2_000, stream.closed, 'the client closing the redirect’s body');
    assert.ok(stream.sent < FLOOD_READ_BOUND, `the registry sent ${stream.sent} bytes`);
  });

  test('an error answer with an endless body is read no further than needed', async () => {
    let stream: Flood | undefined;
    serve(
      onManifest('error/endless', (response) => {
        response.writeHead(500, { 'content-type': 'application/json' });
        stream = flood(response);
      }),
    );
    await refused(
      'error/endless:v1',
      'InternalError',
      /the registry answered 500 for the manifest/,
    );
    assert.ok(stream !== undefined);
    await within(2_000, stream.closed, 'the client closing the error body');
    assert.ok(stream.sent < FLOOD_READ_BOUND);
  });

  // ------------------------------------------------------------------------- authentication

  /** A handler demanding a Bearer token (any) for `repo`, with `challenge` as WWW-Authenticate. */
  function demandToken(
    repo: string,
    challenge: string,
    token: (response: ServerResponse, url: URL) => void,
    options: { neverSatisfied?: boolean } = {},
  ): Handler {
    return (request, response, url) => {
      if (url.pathname.startsWith('/token')) {
        token(response, url);
        return true;
      }
      if (!url.pathname.startsWith(`/v2/${repo}/`)) return false;
      if (request.headers.authorization === undefined || options.neverSatisfied === true) {
        response.writeHead(401, {
          'content-type': 'application/json',
          'www-authenticate': challenge,
        });
        response.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return true;
      }
      return false;
    };
  }

  const noToken = (response: ServerResponse): void => {
    response.writeHead(500);
    response.end();
  };

  /** `demandToken` whose realm is this registry's /token. */
  function demandOwnToken(
    repo: string,
    token: (response: ServerResponse, url: URL) => void,
    options: { neverSatisfied?: boolean } = {},
  ): Handler {
    return (request, response, url) =>
      demandToken(
        repo,
        `Bearer realm="http://${registry.host}/token",service="hostile"`,
        token,
        options,
      )(request, response, url);
  }

  for (const realm of [
    'file:///etc/passwd',
    'ftp://127.0.0.1/token',
    'javascript:alert(1)',
    'gopher://127.0.0.1:70/token',
  ])
    test(`a Bearer realm of ${realm.split(':')[0] ?? ''}: is refused`, async () => {
      serve(demandToken('auth/realm', `Bearer realm="${realm}",service="x"`, noToken));
      const message = await refused(
        'auth/realm:v1',
        'InternalError',
        /the registry's token service ".*" is not an http\(s\) URL/,
      );
      assert.ok(message.includes(realm), message);
      assert.ok(!attackRequests.some((path) => path.startsWith('/token')));
    });

  test('a Bearer realm that is not a URL is refused', async () => {
    serve(demandToken('auth/junk', 'Bearer realm="not a url"', noToken));
    await refused(
      'auth/junk:v1',
      'InternalError',
      /the registry's token service "not a url" is not a URL/,
    );
  });

  test('a token service answering 100 MB stops at 1 MiB (with and without Content-Length)', async () => {
    const streams: Flood[] = [];
    for (const declared of [false, true]) {
      serve(
        demandOwnToken('auth/flood', (response) => {
          response.writeHead(200, {
            'content-type': 'application/json',
            ...(declared ? { 'content-length': 100 * MiB } : {}),
          });
          streams.push(flood(response, 100 * MiB));
        }),
      );
      await refused(
        'auth/flood:v1',
        'InternalError',
        /the token service http:\/\/127\.0\.0\.1:\d+\/token answered more than 1048576 bytes/,
      );
    }
    assert.equal(streams.length, 2);
    for (const stream of streams) {
      await within(2_000, stream.closed, 'the client closing the token flood');
      assert.ok(stream.sent < FLOOD_READ_BOUND);
    }
  });

  test('a token answer that is not JSON is refused', async () => {
    serve(
      demandOwnToken('auth/notjson', (response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('<html>token: abc</html>');
      }),
    );
    await refused(
      'auth/notjson:v1',
      'InternalError',
      /the token service http:\/\/127\.0\.0\.1:\d+\/token answered without a token/,
    );
  });

  test('a 401 loop (token given, every request still refused) ends at once', async () => {
    serve(
      demandOwnToken(
        'auth/loop',
        (response) => {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end('{"token":"accepted-but-useless"}');
        },
        { neverSatisfied: true },
      ),
    );
    await refused('auth/loop:v1', 'ImageAccessDenied', /the registry refused access/);
    const manifestRequests = attackRequests.filter((path) => path.includes('/manifests/'));
    const tokenRequests = attackRequests.filter((path) => path.startsWith('/token'));
    assert.ok(manifestRequests.length <= 2, manifestRequests.join(', '));
    assert.ok(tokenRequests.length <= 1, tokenRequests.join(', '));
  });

  test('a 401 whose body never ends is not read to its end', async () => {
    let stream: Flood | undefined;
    serve(
      onManifest('auth/endless', (response) => {
        response.writeHead(401, { 'www-authenticate': 'Basic realm="x"' });
        stream = flood(response);
      }),
    );
    await refused('auth/endless:v1', 'ImageAccessDenied', /the registry refused access/);
    assert.ok(stream !== undefined);
    await within(2_000, stream.closed, 'the client closing the 401’s body');
    assert.ok(stream.sent < FLOOD_READ_BOUND, `the registry sent ${stream.sent} bytes`);
  });

  test('a 401 whose body stalls does not crash the process later', async () => {
    // The body goes silent after a few bytes: its stall time-out fires after the pull ended.
    let stream: Flood | undefined;
    serve(
      onManifest('auth/stall', (response) => {
        response.writeHead(401, { 'www-authenticate': 'Basic realm="x"' });
        response.write('{"errors":');
        stream = { sent: 10, closed: once(response, 'close') };
      }),
    );
    await refused('auth/stall:v1', 'ImageAccessDenied', /the registry refused access/);
    assert.ok(stream !== undefined);
    // Closed by the client (at once, or at the latest by its stall time-out), without an
    // uncaught error: the test process would have died.
    await within(2_000, stream.closed, 'the client closing the 401’s body');
  });

  // ------------------------------------------------------------------------- indexes and digests

  function index(entries: { digest: string; size: number }[], mediaType?: string) {
    return {
      schemaVersion: 2,
      ...(mediaType === undefined ? {} : { mediaType }),
      manifests: entries.map((entry) => ({
        mediaType: OCI.manifest,
        digest: entry.digest,
        size: entry.size,
        platform: { os: 'linux', architecture: HOST_ARCH },
      })),
    };
  }

  test('an index pointing at itself is refused on the digest check', async () => {
    // No index can contain its own digest; a registry can only claim it does by serving the
    // index again for the digest its entry names.
    const claimed = sha256(Buffer.from('the index, supposedly'));
    const body = Buffer.from(JSON.stringify(index([{ digest: claimed, size: 400 }], OCI.index)));
    serve(
      onManifest('index/self', (response) => {
        response.writeHead(200, { 'content-type': OCI.index });
        response.end(body);
      }),
    );
    await refused(
      'index/self:v1',
      'InvalidImage',
      new RegExp(`the manifest the registry sent for ${claimed} has digest ${sha256(body)}`),
    );
    const manifestRequests = attackRequests.filter((path) => path.includes('/manifests/'));
    assert.ok(manifestRequests.length <= 2, manifestRequests.join(', '));
  });

  test('an index of indexes is refused', async () => {
    const inner = addManifest(
      'index/nested',
      'inner',
      index([{ digest: sha256(Buffer.from('x')), size: 1 }], OCI.index),
      OCI.index,
    );
    addManifest(
      'index/nested',
      'v1',
      index([{ digest: inner.digest, size: inner.body.length }], OCI.index),
      OCI.index,
    );
    serve(() => false);
    await refused(
      'index/nested:v1',
      'InvalidImage',
      new RegExp(
        `the index entry ${inner.digest} is itself an index; nested indexes are not supported`,
      ),
    );
  });

  test('a manifest pulled by digest must have that digest', async () => {
    const good = await goodImage('by-digest');
    const body = manifests.get(`good/app:${good}`)?.body;
    assert.ok(body !== undefined);
    const altered = Buffer.from(
      body.toString('utf8').replace('"schemaVersion":2', '"schemaVersion": 2'),
    );
    serve(
      onManifest('digest/mismatch', (response) => {
        response.writeHead(200, { 'content-type': OCI.manifest });
        response.end(altered);
      }),
    );
    await refused(
      `digest/mismatch@${good}`,
      'InvalidImage',
      new RegExp(`the manifest the registry sent for ${good} has digest ${sha256(altered)}`),
    );
  });

  test('index bytes served with a manifest Content-Type are refused', async () => {
    // No mediaType in the body: the (lying) Content-Type decides, and it is not an image.
    const layerless = index([{ digest: sha256(Buffer.from('y')), size: 1 }]);
    serve(
      onManifest('lie/index-as-manifest', (response) => {
        response.writeHead(200, { 'content-type': OCI.manifest });
        response.end(JSON.stringify(layerless));
      }),
    );
    await refused(
      'lie/index-as-manifest:v1',
      'InvalidImage',
      /the config is not a descriptor object/,
    );
  });

  test('manifest bytes served with an index Content-Type are refused', async () => {
    const config = configBlob();
    const document = { schemaVersion: 2, config, layers: [descriptor('z', 1)] };
    serve(
      onManifest('lie/manifest-as-index', (response) => {
        response.writeHead(200, { 'content-type': OCI.index });
        response.end(JSON.stringify(document));
      }),
    );
    await refused(
      'lie/manifest-as-index:v1',
      'InvalidImage',
      /the image index has no manifests list/,
    );
  });

  test('a body that says index while the Content-Type says manifest is read as the index it is', async () => {
    // The body's own mediaType wins, so the lie leads to the index's entry, which is checked.
    const claimed = sha256(Buffer.from('missing'));
    serve(
      onManifest('lie/body-wins', (response, url) => {
        if (url.pathname.endsWith(claimed)) {
          response.writeHead(404, { 'content-type': 'application/json' });
          response.end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
          return;
        }
        response.writeHead(200, { 'content-type': DOCKER_MANIFEST });
        response.end(JSON.stringify(index([{ digest: claimed, size: 10 }], OCI.index)));
      }),
    );
    await refused('lie/body-wins:v1', 'ImageDeleted', /404 for the manifest/);
    assert.ok(attackRequests.some((path) => path.endsWith(claimed)));
  });
});
