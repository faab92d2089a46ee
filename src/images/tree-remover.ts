/**
 * Deletes one path of an image's root file system and, for a folder, everything below it, never
 * following a symlink (a symlink is unlinked, not its target) and coping with the image's own
 * modes: a folder without owner rwx (0555, 0000) is opened up before it is listed and emptied.
 */
import { chmod, lstat, readdir, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Removes `path` (missing is fine); `onFolderRemoved` hears of every folder deleted. */
export async function removeTree(
  path: string,
  onFolderRemoved: (dir: string) => void = () => undefined,
): Promise<void> {
  const stats = await lstat(path).catch(ignoreMissing);
  if (stats === undefined) return;
  if (!stats.isDirectory()) {
    await unlink(path);
    return;
  }
  if ((stats.mode & 0o700) !== 0o700) await chmod(path, 0o700);
  for (const name of await readdir(path)) await removeTree(join(path, name), onFolderRemoved);
  await rmdir(path);
  onFolderRemoved(path);
}

/** For `.catch()`: a missing path becomes `undefined`, any other error is rethrown. */
export function ignoreMissing(error: unknown): undefined {
  if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return undefined;
  throw error;
}
