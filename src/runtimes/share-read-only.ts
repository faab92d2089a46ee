/**
 * Installed runtimes are shared read-only with environments that run as another user: every file
 * and folder readable by all (and folders and executables enterable/runnable), none writable by
 * group or others. Symlinks are left alone (their mode is not used).
 */
import { chmodSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Applies `a+rX,go-w` to `root` and everything below it. */
export function shareReadOnly(root: string): void {
  const stat = lstatSync(root);
  if (stat.isSymbolicLink()) return;
  const executable = stat.isDirectory() || (stat.mode & 0o111) !== 0;
  const mode = ((stat.mode & 0o7777) | 0o444 | (executable ? 0o111 : 0)) & ~0o022;
  if ((stat.mode & 0o7777) !== mode) chmodSync(root, mode);
  if (stat.isDirectory()) for (const name of readdirSync(root)) shareReadOnly(join(root, name));
}
