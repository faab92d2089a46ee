/**
 * Disk-backed ephemeral storage for execution environments. Each environment's /tmp and /dev/shm
 * are two folders of one small ext4 file system of its own (a sparse image file on the host's
 * disk, mounted through a loop device), sized so that exactly `EphemeralStorage.Size` fits: filling
 * them fails with ENOSPC, as on Lambda, and their pages are page cache that writeback can reclaim,
 * so they do not count against `MemorySize` the way a tmpfs does (a function that filled a tmpfs
 * /tmp was OOM-killed). Ready-made file systems of the default size are kept in a small pool,
 * because making one takes two programs (mkfs.ext4, mount) and tens of milliseconds.
 *
 * Only root can mount: otherwise `create` answers undefined and the jail keeps an in-memory /tmp.
 */
import { chmod, lstat, mkdir, readdir, realpath, rmdir, statfs, unlink } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import {
  currentMountPoints,
  mountLoopFilesystem,
  removeLoopFilesystem,
  SHM_FOLDER,
  TMP_FOLDER,
  unmountAll,
} from './loop-filesystem.js';
import { processExists } from './process-exists.js';
import { ReadyPool } from './ready-pool.js';
import { isStorageId, leftovers, storageName } from './storage-leftovers.js';

/** The ephemeral storage of one environment. */
export interface EphemeralStorage {
  /** Host folder to bind at /tmp: empty, mode 1777, owned by root. */
  readonly tmpDir: string;
  /** Host folder to bind at /dev/shm (mode 1777), on the same file system: one size limit for both. */
  readonly shmDir: string;
  /**
   * Unmounts the file system and deletes it with its mount point, never looking at what the
   * environment wrote. Idempotent; a failed removal can be retried.
   */
  remove(): Promise<void>;
}

/** Makes the ephemeral storage of environments. */
export interface EphemeralStorageProvider {
  /**
   * A new, empty storage of at least `sizeBytes` (writing about a MiB more fails with ENOSPC), or
   * undefined when this host cannot provide one (see `limitation`): the jail then keeps an
   * in-memory /tmp. `id` (letters, digits, `-`, `_`) names it; it must be unique among the
   * provider's live storages. Rejects when making it fails.
   */
  create(id: string, sizeBytes: number): Promise<EphemeralStorage | undefined>;
  /** Why storage is in memory on this host, in one sentence; undefined when it is on disk. */
  readonly limitation: string | undefined;
  /**
   * Unmounts and deletes the storage that servers which are no longer running left in the root
   * folder; answers how many entries it removed. `openEphemeralStorage` already does this once.
   */
  sweep(): Promise<number>;
  /** Stops making ready storage and removes the unused ready ones (not those handed out). */
  close(): Promise<void>;
}

/** Settings of `openEphemeralStorage`. */
export interface EphemeralStorageOptions {
  /**
   * Folder for the images and mount points, on a disk (not tmpfs). Created if missing; it must be
   * root's, and is made mode 0711 so that the jail's unprivileged bubblewrap can reach the bound
   * folders (each file system's root is then mode 0710 for `jailGid` only).
   */
  readonly root: string;
  /** Host group of the jails (default 65534, nogroup), the only group that can reach tmp and shm. */
  readonly jailGid?: number;
  /** Size kept ready-made, in bytes (default 512 MiB, the default EphemeralStorage.Size). */
  readonly pooledSizeBytes?: number;
  /** How many storages of that size are kept ready (default 4; 0 for none). */
  readonly poolSize?: number;
  /** Told when making a ready storage in the background fails (the next `create` retries). */
  readonly onError?: (error: unknown) => void;
  /** Whether this process may mount (default: whether it runs as root). */
  readonly privileged?: boolean;
}

/** The default `EphemeralStorage.Size` (512 MiB), in bytes. */
export const DEFAULT_EPHEMERAL_STORAGE_BYTES = 512 * 1024 * 1024;
const DEFAULT_POOL_SIZE = 4;
const NOGROUP = 65534;
/** statfs types of file systems whose files live in memory. */
const TMPFS_MAGIC = 0x01021994;
const RAMFS_MAGIC = 0x858458f6;

/**
 * Prepares the root folder, removes what dead servers left in it, and makes the first ready
 * storage, which proves that images can be formatted and mounted here. Never rejects: whatever
 * fails yields a provider whose `create` answers undefined, with the reason as its `limitation`.
 */
export async function openEphemeralStorage(
  options: EphemeralStorageOptions,
): Promise<EphemeralStorageProvider> {
  if (!(options.privileged ?? process.getuid?.() === 0))
    return inMemory(
      '/tmp is in memory: Lamina does not run as root and so cannot mount a disk-backed file ' +
        "system per environment; /tmp counts against the function's memory (filling it OOM-kills " +
        'the function instead of failing with ENOSPC) and /dev/shm is not limited by EphemeralStorage',
    );
  let root: string;
  try {
    root = await prepareRoot(options.root);
  } catch (error) {
    return inMemory(`/tmp is in memory: ${message(error)}`);
  }
  const provider = new LoopStorageProvider(root, options);
  try {
    await provider.sweep();
    await provider.start();
  } catch (error) {
    await provider.close();
    return inMemory(
      `/tmp is in memory: a disk-backed file system could not be made in ${root} (${message(error)})`,
    );
  }
  return provider;
}

/** Creates `root` if needed and checks that only root can change it and that it is on a disk. */
async function prepareRoot(path: string): Promise<string> {
  if (!isAbsolute(path)) throw new Error(`the storage folder ${path} is not an absolute path`);
  await mkdir(path, { recursive: true, mode: 0o711 });
  const root = await realpath(path);
  const stats = await lstat(root);
  if (!stats.isDirectory() || stats.uid !== 0)
    throw new Error(`the storage folder ${root} is not a folder owned by root`);
  await chmod(root, 0o711);
  const { type } = await statfs(root);
  if (type === TMPFS_MAGIC || type === RAMFS_MAGIC)
    throw new Error(`the storage folder ${root} is itself in memory (tmpfs)`);
  return root;
}

function inMemory(limitation: string): EphemeralStorageProvider {
  return {
    limitation,
    create: () => Promise.resolve(undefined),
    sweep: () => Promise.resolve(0),
    close: () => Promise.resolve(),
  };
}

class LoopStorageProvider implements EphemeralStorageProvider {
  readonly limitation = undefined;
  readonly #root: string;
  readonly #group: number;
  readonly #pooledSizeBytes: number;
  readonly #poolSize: number;
  readonly #onError: (error: unknown) => void;
  #pool: ReadyPool<EphemeralStorage> | undefined;
  #made = 0;
  #closed = false;

  constructor(root: string, options: EphemeralStorageOptions) {
    this.#root = root;
    this.#group = options.jailGid ?? NOGROUP;
    this.#pooledSizeBytes = options.pooledSizeBytes ?? DEFAULT_EPHEMERAL_STORAGE_BYTES;
    this.#poolSize = options.poolSize ?? DEFAULT_POOL_SIZE;
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Makes the first ready storage (or, without a pool, makes and removes one) and starts the pool. */
  async start(): Promise<void> {
    const first = await this.#makeReady();
    if (this.#poolSize === 0) {
      await first.remove();
      return;
    }
    this.#pool = new ReadyPool(
      this.#poolSize,
      {
        make: () => this.#makeReady(),
        discard: (storage) => storage.remove(),
        onError: this.#onError,
      },
      first,
    );
    this.#pool.refill();
  }

  async create(id: string, sizeBytes: number): Promise<EphemeralStorage> {
    if (!isStorageId(id)) throw new Error(`not a storage id: ${JSON.stringify(id)}`);
    if (this.#closed) throw new Error('the ephemeral storage provider is closed');
    if (sizeBytes === this.#pooledSizeBytes) {
      const ready = this.#pool?.take();
      if (ready !== undefined) return ready;
    }
    return this.#make(storageName(process.pid, id), sizeBytes);
  }

  async sweep(): Promise<number> {
    const found = leftovers(
      this.#root,
      await readdir(this.#root),
      await currentMountPoints(),
      (pid) => !processExists(pid),
    );
    // Lazily: jails of the dead server may still run (the cgroup sweep ends them).
    for (const mountPoint of new Set(found.mounts))
      await unmountAll(mountPoint, true).catch(this.#onError);
    let removed = 0;
    for (const folder of found.folders) {
      // rmdir, never a recursive delete: a folder that is not empty is not what we left.
      if (await rmdir(folder).then(succeeded, failed(this.#onError))) removed += 1;
    }
    for (const image of found.images) {
      if (await unlink(image).then(succeeded, failed(this.#onError))) removed += 1;
    }
    return removed;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#pool?.close();
  }

  /** A storage of the pooled size, named `<pid>.pool.<n>` (ids never hold a dot). */
  #makeReady(): Promise<EphemeralStorage> {
    this.#made += 1;
    return this.#make(storageName(process.pid, `pool.${this.#made}`), this.#pooledSizeBytes);
  }

  async #make(name: string, sizeBytes: number): Promise<EphemeralStorage> {
    const root = this.#root;
    const mountPoint = await mountLoopFilesystem(root, name, sizeBytes, this.#group);
    let removal: Promise<void> | undefined;
    return {
      tmpDir: join(mountPoint, TMP_FOLDER),
      shmDir: join(mountPoint, SHM_FOLDER),
      remove: () => {
        removal ??= removeLoopFilesystem(root, name).catch((error: unknown) => {
          removal = undefined;
          throw error;
        });
        return removal;
      },
    };
  }
}

function succeeded(): boolean {
  return true;
}

function failed(report: (error: unknown) => void) {
  return (error: unknown): boolean => {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') report(error);
    return false;
  };
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
