/**
 * ImageStore on the local disk:
 *   <dir>/blobs/sha256/<hex>          verified layer blobs, shared by all images (downloaded once)
 *   <dir>/images/<manifest hex>/      one unpacked image: rootfs/ (0755) and image.json
 *   <dir>/images/.partial-…           an image being built; renamed into place only when complete,
 *                                     so a crash never leaves a half image that looks complete
 * Concurrent pulls of one image share one promise; remove() deletes an image, then the blobs no
 * remaining image lists.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { appendFile, chmod, mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { removeTree } from './tree-remover.js';
import { join } from 'node:path';
import { parseImageReference } from '../core/image-reference.js';
import {
  ImagePullError,
  type ImageStore,
  type PulledImage,
  type RegistryCredentials,
} from '../functions/image-store.js';
import { BlobCache } from './blob-cache.js';
import { readImageRecord, writeImageRecord, type ImageRecord } from './image-record.js';
import { finishRootfs, type UnpackLayer } from './layer-unpacker.js';
import type { Descriptor } from './manifest.js';
import { RegistryClient, type RegistrySession, type ResolvedManifest } from './registry-client.js';
import type { TransportTimeouts } from './registry-transport.js';

export type { UnpackLayer };

export interface FileImageStoreOptions {
  readonly dir: string;
  readonly credentials: RegistryCredentials;
  /** Hosts (`host` or `host:port`) allowed to speak plain HTTP besides loopback ones. */
  readonly insecureRegistries: readonly string[];
  /** The most an image may unpack to, in bytes. Default 10 GiB. */
  readonly maxUnpackedBytes?: number;
  readonly unpackLayer: UnpackLayer;
  /**
   * Run on a complete root file system before it is renamed into place; default layer-unpacker's
   * finishRootfs (the jail's mount points).
   */
  readonly finishRootfs?: (rootDir: string) => Promise<void>;
  readonly timeouts?: Partial<TransportTimeouts>;
  /** The longest a pull may take in all (manifest, config, layers, unpacking); default 30 min. */
  readonly maxPullMs?: number;
}

const DEFAULT_MAX_UNPACKED_BYTES = 10 * 1024 * 1024 * 1024;
/** A registry that keeps sending slowly (above the stall rate) still ends here. */
const DEFAULT_MAX_PULL_MS = 30 * 60 * 1000;
/** Layer downloads running at once for one pull. */
const DOWNLOAD_CONCURRENCY = 3;
const DIGEST_RE = /^sha256:([a-f0-9]{64})$/;
const TEMP_PREFIX = '.partial-';
const REMOVING_PREFIX = '.removing-';
/** Beside image.json: the repositories (`host/name`) the image was pulled from, one a line. */
const REPOSITORIES = 'repositories';

export class FileImageStore implements ImageStore {
  readonly #opened = new Map<string, PulledImage>();
  /** Moves on at each removal: an open() that read across one does not remember what it read. */
  #removals = 0;
  readonly #imagesDir: string;
  readonly #blobsDir: string;
  readonly #blobs: BlobCache;
  readonly #client: RegistryClient;
  readonly #options: FileImageStoreOptions;
  readonly #builds = new Map<string, Promise<PulledImage>>();
  #ready: Promise<void> | undefined;

  constructor(options: FileImageStoreOptions) {
    this.#options = options;
    this.#imagesDir = join(options.dir, 'images');
    this.#blobsDir = join(options.dir, 'blobs', 'sha256');
    this.#blobs = new BlobCache(this.#blobsDir);
    this.#client = new RegistryClient({
      credentials: options.credentials,
      insecureRegistries: options.insecureRegistries,
      ...(options.timeouts === undefined ? {} : { timeouts: options.timeouts }),
    });
  }

  async pull(uri: string): Promise<PulledImage> {
    const ref = parseImageReference(uri);
    if (typeof ref === 'string') throw new ImagePullError('InvalidImage', ref);
    await this.#prepare();
    // An image here is used without asking the registry only under a repository it was pulled
    // from: naming another repository with its digest must not reach an image that repository
    // (and its credentials) never served.
    const repository = `${ref.host}/${ref.repository}`;
    if (ref.digest !== undefined) {
      const present = await this.open(ref.digest);
      if (present !== undefined && (await this.#servedBy(ref.digest, repository))) return present;
    }
    const session = this.#client.session(ref, uri);
    const maxMs = this.#options.maxPullMs ?? DEFAULT_MAX_PULL_MS;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), maxMs);
    try {
      const resolved = await session.resolve(deadline.signal);
      const image = await this.#unpacked(session, resolved, deadline.signal);
      await this.#remember(resolved.digest, repository);
      return image;
    } catch (error) {
      if (!deadline.signal.aborted) throw error;
      throw session.fail(
        'InternalError',
        `the pull did not finish within ${Math.round(maxMs / 1000)} s (the registry sends too slowly)`,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  async #unpacked(
    session: RegistrySession,
    resolved: ResolvedManifest,
    deadline: AbortSignal,
  ): Promise<PulledImage> {
    const present = await this.open(resolved.digest);
    if (present !== undefined) return present;
    const shared = this.#builds.get(resolved.digest);
    if (shared !== undefined) return shared;
    const build = this.#build(session, resolved, deadline);
    this.#builds.set(resolved.digest, build);
    try {
      return await build;
    } finally {
      if (this.#builds.get(resolved.digest) === build) this.#builds.delete(resolved.digest);
    }
  }

  /** Whether the image of `digest` was pulled from `repository` (`host/name`) before. */
  async #servedBy(digest: string, repository: string): Promise<boolean> {
    const hex = DIGEST_RE.exec(digest)?.[1];
    if (hex === undefined) return false;
    const text = await readFile(join(this.#imagesDir, hex, REPOSITORIES), 'utf8').catch(() => '');
    return text.split('\n').includes(repository);
  }

  /** Notes that `repository` serves the image of `digest` (its folder's `repositories` list). */
  async #remember(digest: string, repository: string): Promise<void> {
    if (await this.#servedBy(digest, repository)) return;
    const hex = DIGEST_RE.exec(digest)?.[1];
    if (hex === undefined) return;
    await appendFile(join(this.#imagesDir, hex, REPOSITORIES), `${repository}\n`, {
      mode: 0o644,
    }).catch(() => undefined);
  }

  async open(digest: string): Promise<PulledImage | undefined> {
    // Every invoke of an image function asks: a complete image never changes, so once read it is
    // remembered until removed.
    const known = this.#opened.get(digest);
    if (known !== undefined) return known;
    const removals = this.#removals;
    const hex = DIGEST_RE.exec(digest)?.[1];
    if (hex === undefined) return undefined;
    const folder = join(this.#imagesDir, hex);
    const record = await readImageRecord(join(folder, 'image.json'));
    if (record === undefined || record.digest !== digest) return undefined;
    const image = {
      digest,
      rootDir: join(folder, 'rootfs'),
      config: record.config,
      sizeBytes: record.sizeBytes,
      unpackedBytes: record.unpackedBytes,
    };
    if (removals === this.#removals) this.#opened.set(digest, image);
    return image;
  }

  async remove(digest: string): Promise<void> {
    this.#removals += 1;
    this.#opened.delete(digest);
    const hex = DIGEST_RE.exec(digest)?.[1];
    if (hex === undefined) return;
    await this.#prepare();
    await this.#builds.get(digest)?.catch(() => undefined);
    const doomed = join(
      this.#imagesDir,
      `${REMOVING_PREFIX}${hex}-${randomBytes(4).toString('hex')}`,
    );
    try {
      await rename(join(this.#imagesDir, hex), doomed);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    // Again once the folder is gone: an open() begun before it read what is no longer there.
    this.#removals += 1;
    this.#opened.delete(digest);
    await removeTree(doomed);
    await this.#blobs.collect(await this.#listedBlobs());
  }

  /** Creates the folders and deletes what a crash left half done; once. */
  #prepare(): Promise<void> {
    this.#ready ??= (async () => {
      await mkdir(this.#blobsDir, { recursive: true, mode: 0o700 });
      await mkdir(this.#imagesDir, { recursive: true, mode: 0o755 });
      await chmod(this.#imagesDir, 0o755);
      for (const name of await readdir(this.#imagesDir))
        if (name.startsWith(TEMP_PREFIX) || name.startsWith(REMOVING_PREFIX))
          await removeTree(join(this.#imagesDir, name));
      await this.#blobs.removeLeftovers();
    })();
    this.#ready.catch(() => {
      this.#ready = undefined;
    });
    return this.#ready;
  }

  async #build(
    session: RegistrySession,
    resolved: ResolvedManifest,
    deadline: AbortSignal,
  ): Promise<PulledImage> {
    const present = await this.open(resolved.digest);
    if (present !== undefined) return present;
    const config = await session.runConfig(resolved.config, deadline);
    const hex = resolved.digest.slice('sha256:'.length);
    const temp = join(this.#imagesDir, `${TEMP_PREFIX}${hex}-${randomBytes(4).toString('hex')}`);
    const rootDir = join(temp, 'rootfs');
    const release = this.#blobs.hold(resolved.layers.map((layer) => layer.digest));
    const abort = new AbortController();
    const stop = () => abort.abort();
    deadline.addEventListener('abort', stop, { once: true });
    let downloads: Promise<string>[] = [];
    let firstFailure: unknown;
    try {
      await mkdir(rootDir, { recursive: true, mode: 0o755 });
      await chmod(temp, 0o755);
      await chmod(rootDir, 0o755);
      downloads = this.#downloadAll(session, resolved.layers, abort.signal);
      // A failed download stops the others at once, not when the unpacking reaches it.
      for (const download of downloads)
        download.catch((error: unknown) => {
          firstFailure ??= error;
          abort.abort();
        });
      const budget = {
        remainingBytes: this.#options.maxUnpackedBytes ?? DEFAULT_MAX_UNPACKED_BYTES,
      };
      const start = budget.remainingBytes;
      for (const [index, layer] of resolved.layers.entries()) {
        const blob = await (downloads[index] as Promise<string>);
        if (abort.signal.aborted)
          throw firstFailure instanceof Error ? firstFailure : new Error('the pull was stopped');
        await this.#unpack(session, layer, blob, rootDir, budget);
      }
      await (this.#options.finishRootfs ?? finishRootfs)(rootDir);
      await chmod(rootDir, 0o755);
      const record: ImageRecord = {
        digest: resolved.digest,
        config,
        sizeBytes: resolved.sizeBytes,
        unpackedBytes: start - budget.remainingBytes,
        layers: resolved.layers.map(({ digest, mediaType, size }) => ({ digest, mediaType, size })),
      };
      await writeImageRecord(join(temp, 'image.json'), record);
      await this.#publish(temp, join(this.#imagesDir, hex));
      const image = await this.open(resolved.digest);
      if (image === undefined)
        throw session.fail('InternalError', `the unpacked image ${resolved.digest} vanished`);
      return image;
    } catch (error) {
      abort.abort();
      await Promise.allSettled(downloads);
      await removeTree(temp);
      const cause = isAbort(error) && firstFailure !== undefined ? firstFailure : error;
      if (cause instanceof ImagePullError) throw cause;
      throw session.fail('InternalError', `storing the image failed: ${messageOf(cause)}`);
    } finally {
      deadline.removeEventListener('abort', stop);
      release();
    }
  }

  /** Starts the layer downloads, at most DOWNLOAD_CONCURRENCY at once, in layer order. */
  #downloadAll(
    session: RegistrySession,
    layers: readonly Descriptor[],
    signal: AbortSignal,
  ): Promise<string>[] {
    let slots = DOWNLOAD_CONCURRENCY;
    const waiting: (() => void)[] = [];
    const slot = (): Promise<void> => {
      if (slots > 0) {
        slots -= 1;
        return Promise.resolve();
      }
      return new Promise((resolve) => waiting.push(resolve));
    };
    const free = () => {
      const next = waiting.shift();
      if (next === undefined) slots += 1;
      else next();
    };
    return layers.map(async (layer) => {
      await slot();
      try {
        if (signal.aborted) throw session.fail('InternalError', 'the pull was cancelled');
        return await this.#blobs.ensure(
          layer.digest,
          (file) => session.downloadBlob(layer, file, signal),
          signal,
        );
      } finally {
        free();
      }
    });
  }

  async #unpack(
    session: RegistrySession,
    layer: Descriptor,
    blob: string,
    rootDir: string,
    budget: { remainingBytes: number },
  ): Promise<void> {
    try {
      await this.#options.unpackLayer(createReadStream(blob), layer.mediaType, rootDir, budget);
    } catch (error) {
      if (error instanceof ImagePullError) throw error;
      // A system error (no space, no permission) is Lamina's; anything else is the layer's.
      const system = /^E[A-Z]+$/.test((error as NodeJS.ErrnoException).code ?? '');
      throw session.fail(
        system ? 'InternalError' : 'InvalidImage',
        `layer ${layer.digest} could not be unpacked: ${messageOf(error)}`,
      );
    }
  }

  /** Renames a complete image folder into place; a twin built meanwhile wins and this one goes. */
  async #publish(temp: string, target: string): Promise<void> {
    try {
      await rename(temp, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw error;
      await removeTree(temp);
    }
  }

  /** The layer digests the complete images list. */
  async #listedBlobs(): Promise<Set<string>> {
    const listed = new Set<string>();
    for (const name of await readdir(this.#imagesDir)) {
      if (!/^[a-f0-9]{64}$/.test(name)) continue;
      const record = await readImageRecord(join(this.#imagesDir, name, 'image.json'));
      for (const layer of record?.layers ?? []) listed.add(layer.digest);
    }
    return listed;
  }
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
