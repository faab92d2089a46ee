/**
 * One small ext4 file system in a sparse image file, mounted through a loop device: the effects
 * behind EphemeralStorage. Its pages are ordinary page cache, reclaimable by writeback, so a
 * memory cgroup that writes to it is throttled instead of OOM-killed (tmpfs pages are not).
 */
import { chmod, mkdir, open, readFile, rmdir, statfs, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ext4LayoutFor, mkfsArguments } from './ext4-layout.js';
import { mountPointsOf } from './mountinfo.js';
import { runCommand } from './run-command.js';
import { IMAGE_SUFFIX } from './storage-leftovers.js';

const MKFS = '/usr/sbin/mkfs.ext4';
const MOUNT = '/usr/bin/mount';
const UMOUNT = '/usr/bin/umount';

/** The folders inside each file system that the jail sees (as /tmp and /dev/shm). */
export const TMP_FOLDER = 'tmp';
export const SHM_FOLDER = 'shm';

/**
 * Makes `<root>/<name>.img` (sparse, sized so that `sizeBytes` fit), formats it, mounts it on
 * `<root>/<name>` (nosuid, nodev, through a loop device util-linux frees on unmount) and creates
 * the `tmp` and `shm` folders (mode 1777, root's). The file system's root folder is mode 0710,
 * group `group`: the jail's host group can reach the two folders, other host users cannot.
 * Resolves with the mount point; on failure, removes whatever it made.
 */
export async function mountLoopFilesystem(
  root: string,
  name: string,
  sizeBytes: number,
  group: number,
): Promise<string> {
  const layout = ext4LayoutFor(sizeBytes);
  const image = join(root, name + IMAGE_SUFFIX);
  const mountPoint = join(root, name);
  // O_EXCL: an image is never shared, not even with a leftover of the same name.
  const file = await open(image, 'wx', 0o600);
  try {
    try {
      await file.truncate(layout.imageBytes);
    } finally {
      await file.close();
    }
    await runCommand(MKFS, mkfsArguments(layout, image, group));
    await mkdir(mountPoint, { mode: 0o700 });
    // -t: no probing of the image; --no-canonicalize: both paths are absolute and real.
    await runCommand(MOUNT, [
      '--no-canonicalize',
      '-t',
      'ext4',
      '-o',
      'loop,nosuid,nodev,noatime',
      image,
      mountPoint,
    ]);
    await chmod(mountPoint, 0o710);
    for (const folder of [TMP_FOLDER, SHM_FOLDER]) {
      await mkdir(join(mountPoint, folder));
      await chmod(join(mountPoint, folder), 0o1777);
    }
    const { bavail, bsize } = await statfs(mountPoint);
    if (bavail * bsize < sizeBytes)
      throw new Error(
        `${mountPoint} holds ${bavail * bsize} bytes, fewer than the ${sizeBytes} asked for`,
      );
    return mountPoint;
  } catch (error) {
    await removeLoopFilesystem(root, name).catch(() => undefined);
    throw error;
  }
}

/**
 * Unmounts `<root>/<name>` (every mount stacked there; detached lazily when still busy, and then
 * released by the kernel when its last user goes) and deletes the mount point and the image.
 * Nothing inside the file system is looked at: once unmounted, the mount point is an empty folder.
 * Does nothing for what is already gone.
 */
export async function removeLoopFilesystem(root: string, name: string): Promise<void> {
  const mountPoint = join(root, name);
  await unmountAll(mountPoint, false);
  await rmdir(mountPoint).catch(ignoreMissing);
  await unlink(join(root, name + IMAGE_SUFFIX)).catch(ignoreMissing);
}

/**
 * Unmounts every mount on `mountPoint`. `lazy` detaches at once (for a dead server's mounts,
 * which its surviving jails may still hold); otherwise a plain unmount comes first.
 */
export async function unmountAll(mountPoint: string, lazy: boolean): Promise<void> {
  // Each pass removes one mount; a mount point holds more only if someone stacked mounts on it.
  for (let pass = 0; (await mountCount(mountPoint)) > 0; pass += 1) {
    if (pass === 8) throw new Error(`${mountPoint} is still mounted after ${pass} unmounts`);
    if (!lazy) {
      const unmounted = await runCommand(UMOUNT, ['--no-canonicalize', mountPoint]).then(
        () => true,
        () => false,
      );
      if (unmounted) continue;
    }
    // Busy (a process still has it open or as its working folder): detach it from the tree now.
    await runCommand(UMOUNT, ['--no-canonicalize', '--lazy', mountPoint]);
  }
}

/** How many mounts sit on `path` in this process's mount namespace. */
async function mountCount(path: string): Promise<number> {
  return (await currentMountPoints()).filter((point) => point === path).length;
}

/** The mount points of this process's mount namespace. */
export async function currentMountPoints(): Promise<string[]> {
  return mountPointsOf(await readFile('/proc/self/mountinfo', 'utf8'));
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
