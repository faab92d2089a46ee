/**
 * Readies a fully unpacked root file system for the jail: the folders it mounts over (`/proc`,
 * `/dev`, `/tmp`, `/run/lamina`, `/var/task`, `/var/runtime`, `/opt`, `/etc`) become real folders
 * with mode 0755, and the files it binds over (`/etc/passwd`, `/etc/group`, `/etc/hosts`,
 * `/etc/resolv.conf`) become regular files. Whatever the image put at one of those exact paths
 * (or at a folder above one), if it is not of the right kind (a symlink to `/`, a file), is
 * deleted and replaced; a symlink is never followed, so nothing outside the root is touched.
 * Everything else keeps the image's own modes (an unreadable file stays unreadable, as on AWS);
 * an existing file keeps its content (the jail's own is bound over it).
 */
import { constants } from 'node:fs';
import { chmod, lstat, mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { DirectoryModes } from './directory-modes.js';
import { ignoreMissing, removeTree } from './tree-remover.js';

/** Folders the jail mounts over, relative to the root. */
export const MOUNT_FOLDERS: readonly string[] = [
  'proc',
  'dev',
  'tmp',
  'run/lamina',
  'var/task',
  'var/runtime',
  'opt',
  'etc',
];

/** Files the jail binds over, relative to the root. */
export const MOUNT_FILES: readonly string[] = [
  'etc/passwd',
  'etc/group',
  'etc/hosts',
  'etc/resolv.conf',
];

const MOUNT_MODE = 0o755;
const FILE_MODE = 0o644;

/** Creates the jail's mount points in the finished root file system at `rootDir`. */
export async function finishRootfs(rootDir: string): Promise<void> {
  const modes = new DirectoryModes(rootDir);
  for (const folder of MOUNT_FOLDERS) {
    const path = await folderAt(rootDir, folder.split('/'), modes);
    modes.forget(path);
    await chmod(path, MOUNT_MODE);
  }
  for (const file of MOUNT_FILES) {
    const parts = file.split('/');
    const name = parts.pop() ?? file;
    await fileAt(join(await folderAt(rootDir, parts, modes), name));
  }
  await modes.restore();
}

/** Makes every component of `parts` a real folder the owner can work in; returns its path. */
async function folderAt(
  rootDir: string,
  parts: readonly string[],
  modes: DirectoryModes,
): Promise<string> {
  let path = rootDir;
  for (const part of parts) {
    path = join(path, part);
    const stats = await lstat(path).catch(ignoreMissing);
    if (stats?.isDirectory() === true) {
      await modes.grant(path, stats.mode);
      continue;
    }
    if (stats !== undefined) await unlink(path);
    await mkdir(path, MOUNT_MODE);
    await chmod(path, MOUNT_MODE);
  }
  return path;
}

/** Makes `path` a regular file, keeping an existing one's content. */
async function fileAt(path: string): Promise<void> {
  const stats = await lstat(path).catch(ignoreMissing);
  if (stats?.isFile() === true) return;
  if (stats !== undefined) await removeTree(path);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  const file = await open(path, flags, FILE_MODE);
  try {
    await file.chmod(FILE_MODE);
  } finally {
    await file.close();
  }
}
