/**
 * Verified layer blobs on disk, shared by every image: `<dir>/<hex>` for `sha256:<hex>`. A blob is
 * downloaded to a temporary file, verified by the downloader, and renamed into place, so a file
 * under its digest's name is always complete. Concurrent requests for one blob share a download;
 * blobs held by a pull in progress are never collected.
 */
import { randomBytes } from 'node:crypto';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Writes a verified blob into `file` (which must not exist yet); throws when it cannot. */
export type BlobDownload = (file: string) => Promise<void>;

const PARTIAL_PREFIX = '.partial-';
const HEX_RE = /^[a-f0-9]{64}$/;

export class BlobCache {
  readonly #dir: string;
  readonly #downloads = new Map<string, Promise<string>>();
  readonly #holds = new Map<string, number>();

  /** `dir` holds the blobs (`<dir>/<hex>`) and their partial downloads; it must exist. */
  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Where the blob of `digest` (`sha256:<hex>`, already validated) lives. */
  path(digest: string): string {
    return join(this.#dir, digest.slice('sha256:'.length));
  }

  /** Deletes partial downloads a crash left behind (call before any download starts). */
  async removeLeftovers(): Promise<void> {
    for (const name of await readdir(this.#dir))
      if (name.startsWith(PARTIAL_PREFIX)) await rm(join(this.#dir, name), { force: true });
  }

  /**
   * The path of the blob, downloading it with `download` unless it is on disk or already coming.
   * A waiter whose shared download was aborted by another pull tries again with its own.
   */
  async ensure(digest: string, download: BlobDownload, signal?: AbortSignal): Promise<string> {
    for (;;) {
      const pending = this.#downloads.get(digest);
      if (pending === undefined) break;
      try {
        return await pending;
      } catch (error) {
        if (!(error instanceof Error && error.name === 'AbortError') || signal?.aborted === true)
          throw error;
      }
    }
    const target = this.path(digest);
    if (await exists(target)) return target;
    const started = this.#download(target, download);
    this.#downloads.set(digest, started);
    try {
      return await started;
    } finally {
      this.#downloads.delete(digest);
    }
  }

  async #download(target: string, download: BlobDownload): Promise<string> {
    const partial = join(this.#dir, `${PARTIAL_PREFIX}${randomBytes(8).toString('hex')}`);
    try {
      await download(partial);
      await rename(partial, target);
      return target;
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  /** Keeps `digests` from being collected until the returned release is called. */
  hold(digests: readonly string[]): () => void {
    for (const digest of digests) this.#holds.set(digest, (this.#holds.get(digest) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const digest of digests) {
        const count = (this.#holds.get(digest) ?? 1) - 1;
        if (count <= 0) this.#holds.delete(digest);
        else this.#holds.set(digest, count);
      }
    };
  }

  /** Deletes every blob that is neither in `keep` nor held by a pull in progress. */
  async collect(keep: ReadonlySet<string>): Promise<void> {
    for (const name of await readdir(this.#dir)) {
      if (!HEX_RE.test(name)) continue;
      const digest = `sha256:${name}`;
      if (keep.has(digest) || this.#holds.has(digest) || this.#downloads.has(digest)) continue;
      await rm(join(this.#dir, name), { force: true });
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
