/**
 * Paths inside an image's root file system, resolved as the jail will see them: a symbolic link's
 * target is read relative to the image's root (an absolute target starts at the root, `..` stops
 * there), never on the host. Read-only: used to check an image's entry point and working
 * directory before a sandbox is started for them.
 */
import { lstat, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Links followed at most while resolving one path (the kernel's limit is 40). */
const MAX_LINKS = 40;
/** Path components walked at most (link targets included): a bound on the work an image can cause. */
const MAX_COMPONENTS = 4096;

/** The host path of `path` (absolute, as the jail sees it) inside `root`, or undefined if it is missing. */
export async function resolveInRoot(root: string, path: string): Promise<string | undefined> {
  const pending = path.split('/').filter((part) => part !== '' && part !== '.');
  const resolved: string[] = [];
  let links = 0;
  let walked = 0;
  while (pending.length > 0) {
    walked += 1;
    if (walked > MAX_COMPONENTS) return undefined;
    const part = pending.shift() as string;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const host = join(root, ...resolved, part);
    const stats = await lstat(host).catch(() => undefined);
    if (stats === undefined) return undefined;
    if (!stats.isSymbolicLink()) {
      resolved.push(part);
      continue;
    }
    links += 1;
    if (links > MAX_LINKS) return undefined;
    const target = await readlink(host);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
  }
  return join(root, ...resolved);
}

/** Whether `path` inside `root` is a folder. */
export async function isFolderInRoot(root: string, path: string): Promise<boolean> {
  const host = await resolveInRoot(root, path);
  return host !== undefined && (await stat(host).catch(() => undefined))?.isDirectory() === true;
}

/** Whether `path` inside `root` is a file someone may execute. */
export async function isProgramInRoot(root: string, path: string): Promise<boolean> {
  const host = await resolveInRoot(root, path);
  const stats = host === undefined ? undefined : await stat(host).catch(() => undefined);
  return stats !== undefined && stats.isFile() && (stats.mode & 0o111) !== 0;
}
