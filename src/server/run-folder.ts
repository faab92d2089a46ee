/**
 * The server's run folder (`<tmp>/lamina-<pid>-<random>`: environment sockets, views, generated
 * files). As root it is a tmpfs of its own, so that what jails bind from it shows paths inside
 * that file system, not the host's temp folder; it is unmounted and removed on stop (and by the
 * watchdog after a crash).
 */
import { randomUUID } from 'node:crypto';
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { currentMountPoints, unmountAll } from '../sandbox/loop-filesystem.js';
import { processExists } from '../sandbox/process-exists.js';
import { runCommand } from '../sandbox/run-command.js';
import type { SandboxIdentity } from './sandbox-identity.js';
import { sandboxPassage } from './private-folders.js';

/** Its size cap: sockets and small files, and a private copy of the runtime clients at most. */
const RUN_FOLDER_BYTES = 128 * 1024 * 1024;

/** `lamina-<server pid>-<8 hex digits>`. */
const RUN_DIR_NAME = /^lamina-(\d+)-[0-9a-f]{8}$/;

/** The name of the run folder of server `pid`, told apart from others' by `tag` (8 hex digits). */
export function runDirName(pid: number, tag: string): string {
  const name = `lamina-${pid}-${tag}`;
  if (!RUN_DIR_NAME.test(name)) throw new Error(`not a run folder tag: ${tag}`);
  return name;
}

/**
 * Removes the run folders in `root` of servers that are gone and whose watchdog did not finish
 * (both killed at once, say): every mount under one, deepest first and lazily (jails of the dead
 * server may still hold them), then the folder. Only folders of this process's own user count, so
 * that nothing another user made in a shared temp folder is touched. Returns how many it removed.
 */
export async function sweepRunDirs(root: string): Promise<number> {
  const uid = process.getuid?.();
  const stale: string[] = [];
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const pid = Number(RUN_DIR_NAME.exec(name)?.[1] ?? NaN);
    if (!Number.isSafeInteger(pid) || processExists(pid)) continue;
    const info = await lstat(join(root, name)).catch(() => undefined);
    if (info?.isDirectory() === true && (uid === undefined || info.uid === uid))
      stale.push(join(root, name));
  }
  if (stale.length === 0) return 0;
  const mounts = await currentMountPoints();
  for (const dir of stale) {
    const under = mounts.filter((point) => point === dir || point.startsWith(`${dir}/`));
    for (const point of [...new Set(under)].sort().reverse())
      await unmountAll(point, true).catch(() => undefined);
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
  return stale.length;
}

export async function mountPrivateTmpfs(dir: string, identity: SandboxIdentity): Promise<void> {
  await runCommand('/usr/bin/mount', [
    '-t',
    'tmpfs',
    '-o',
    `size=${RUN_FOLDER_BYTES},mode=0710,uid=0,gid=${identity.gid},nosuid,nodev`,
    'lamina-run',
    dir,
  ]);
  sandboxPassage(dir, identity);
}

/** Unmounts the run folder if it is a mount, and removes it. */
export async function removeRunDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  await runCommand('/usr/bin/umount', ['-l', dir]).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}

/**
 * Makes this server's run folder, after removing those of servers that are gone: a tmpfs of its
 * own when jails run as `identity` (root), a plain folder otherwise.
 */
export async function openRunDir(
  root: string,
  identity: SandboxIdentity | undefined,
): Promise<string> {
  await sweepRunDirs(root);
  const dir = join(root, runDirName(process.pid, randomUUID().slice(0, 8)));
  sandboxPassage(dir, identity);
  // As root, the run folder is a small file system of its own: the sockets bound into jails
  // then show paths inside it (`/envs/<id>/runtime.sock`), not the host's temp folder.
  if (identity !== undefined) await mountPrivateTmpfs(dir, identity);
  return dir;
}
