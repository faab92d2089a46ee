/**
 * Names of the ephemeral storage entries in the storage folder, and which of them a server that
 * died left behind (pure). Each environment's storage is an image file `<pid>.<label>.img` mounted
 * on a folder `<pid>.<label>`, where `<pid>` is the server's process id: like the cgroups, a
 * server recognises what a dead server left by the pid (kill -9 leaves the mounts in place).
 */
import { basename, dirname, join } from 'node:path';

/** Suffix of image files (the folder of the same name without it is the mount point). */
export const IMAGE_SUFFIX = '.img';

/** Labels: environment ids, or `pool.<n>` for ready-made storage (ids hold no dot). */
const LABEL = /^[A-Za-z0-9_-]+(?:\.\d+)?$/;
const ENTRY = /^(\d+)\.([A-Za-z0-9_.-]+?)(\.img)?$/;

/** Whether `id` can name a storage (letters, digits, `-` and `_`; at most 100 characters). */
export function isStorageId(id: string): boolean {
  return id.length <= 100 && /^[A-Za-z0-9_-]+$/.test(id);
}

/** The entry name of a storage of server `pid` (its folder; the image adds IMAGE_SUFFIX). */
export function storageName(pid: number, label: string): string {
  if (!LABEL.test(label)) throw new Error(`not a storage label: ${JSON.stringify(label)}`);
  return `${pid}.${label}`;
}

/** The server pid in a storage folder's or image's name; undefined for anything else. */
export function storageOwner(entry: string): number | undefined {
  const match = ENTRY.exec(entry);
  if (match === null || !LABEL.test(match[2] ?? '')) return undefined;
  const pid = Number(match[1]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/** What a sweep of the storage folder does, in this order. */
export interface Leftovers {
  /** Mount points to unmount (one entry per mount stacked there). */
  readonly mounts: readonly string[];
  /** Folders (now empty mount points) to remove. */
  readonly folders: readonly string[];
  /** Image files to delete. */
  readonly images: readonly string[];
}

/**
 * The storage of servers that are gone (`gone(pid)`), from the entries of `root` (names only) and
 * the mount points of the mount table: only entries directly in `root` count, so a sweep never
 * reaches into a file system an environment wrote.
 */
export function leftovers(
  root: string,
  entries: readonly string[],
  mountPoints: readonly string[],
  gone: (pid: number) => boolean,
): Leftovers {
  const isLeft = (name: string) => {
    const pid = storageOwner(name);
    return pid !== undefined && gone(pid);
  };
  const mounts = mountPoints.filter((point) => dirname(point) === root && isLeft(basename(point)));
  const left = entries.filter(isLeft);
  return {
    mounts,
    folders: left.filter((name) => !name.endsWith(IMAGE_SUFFIX)).map((name) => join(root, name)),
    images: left.filter((name) => name.endsWith(IMAGE_SUFFIX)).map((name) => join(root, name)),
  };
}
