/**
 * Builds the /opt of a function with several layers: the layers' extracted trees laid over each
 * other in order (a later layer's file replaces an earlier one at the same path), as hard links to
 * the trees' files, so no byte is copied. Never writes through a link an earlier layer made: an
 * existing entry of another kind is removed first.
 */
import { link, lstat, mkdir, readdir, readlink, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Lays each source tree over `target` (created beforehand), in order. */
export async function mergeTrees(sources: readonly string[], target: string): Promise<void> {
  for (const source of sources) await overlay(source, target);
}

async function overlay(source: string, target: string): Promise<void> {
  const entries = await readdir(source, { withFileTypes: true });
  for (const entry of entries) {
    const from = join(source, entry.name);
    const to = join(target, entry.name);
    const existing = await lstat(to).catch(() => undefined);
    if (entry.isDirectory()) {
      if (existing !== undefined && !existing.isDirectory()) await rm(to, { force: true });
      if (existing === undefined || !existing.isDirectory()) await mkdir(to, { mode: 0o755 });
      await overlay(from, to);
      continue;
    }
    if (existing !== undefined) await rm(to, { recursive: true, force: true });
    if (entry.isSymbolicLink()) await symlink(await readlink(from), to);
    else await link(from, to);
  }
}
