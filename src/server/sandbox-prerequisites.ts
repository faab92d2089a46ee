/**
 * Refuses to start without what the sandbox needs — there is no unsandboxed fallback — and checks
 * that the jail's unprivileged user can reach the data directory.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** The programs the sandbox runs, with the Debian package of each. */
export const SANDBOX_TOOLS: ReadonlyArray<readonly [string, string]> = [
  ['/usr/bin/bwrap', 'bubblewrap'],
  ['/usr/bin/socat', 'socat'],
  ['/usr/bin/setpriv', 'util-linux'],
];

export function checkSandboxPrerequisites(dataDir: string, tools = SANDBOX_TOOLS): void {
  const missing = tools.filter(([path]) => !existsSync(path)).map(([, pkg]) => pkg);
  if (missing.length > 0) {
    throw new Error(
      `Lamina runs every function in a bubblewrap sandbox and cannot start without: ${missing.join(', ')}.\n` +
        `Install with: sudo apt-get install -y ${missing.join(' ')}   (or run: npm run setup)`,
    );
  }
  if (process.getuid?.() !== 0) return;
  // As root, the jail is built by an unprivileged uid: every folder above the data directory must
  // be searchable (the data directory itself is opened to the sandbox group at start).
  for (let dir = dirname(resolve(dataDir)); ; dir = dirname(dir)) {
    if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) {
      throw new Error(
        `The data directory ${dataDir} cannot be reached by the sandbox's unprivileged user: ${dir} ` +
          'is not searchable by others (chmod o+x), so functions could not see their code. ' +
          'Choose a --data-dir whose parent folders are world-searchable, e.g. /var/lib/lamina.',
      );
    }
    if (dir === dirname(dir)) break;
  }
}
