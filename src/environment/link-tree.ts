/**
 * Recreates a folder tree with hard links to its files (symlinks copied as symlinks): a function's
 * extracted code appears in a pre-started sandbox's /var/task without copying a byte.
 */
import { link, mkdir, readdir, readlink, symlink } from 'node:fs/promises';
import { join } from 'node:path';

export async function linkTree(source: string, target: string): Promise<void> {
  const entries = await readdir(source, { withFileTypes: true });
  await Promise.all(
    entries.map(async (entry) => {
      const from = join(source, entry.name);
      const to = join(target, entry.name);
      if (entry.isDirectory()) {
        await mkdir(to, { mode: 0o755 });
        await linkTree(from, to);
      } else if (entry.isSymbolicLink()) {
        await symlink(await readlink(from), to);
      } else {
        await link(from, to);
      }
    }),
  );
}
