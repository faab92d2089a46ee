/**
 * The host user and group every jail runs as when Lamina runs as root: `lamina-sandbox`, a
 * system user of its own (created on first start, as Docker creates `dockremap`). Nothing else
 * on the host runs as it, so the platform's folders and sockets can be opened to exactly two
 * parties: root (the server) and this group (the jails). Without root there is no such user: the
 * jails run as the server's own user, and everything is private to it.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Numeric ids of the sandbox user and its group. */
export interface SandboxIdentity {
  readonly uid: number;
  readonly gid: number;
}

export const SANDBOX_USER = 'lamina-sandbox';

/** The sandbox user's ids, creating the user if it is missing; undefined when not root. */
export function sandboxIdentity(passwdFile = '/etc/passwd'): SandboxIdentity | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const existing = lookupUser(readFileSync(passwdFile, 'utf8'), SANDBOX_USER);
  if (existing !== undefined) return existing;
  const made = spawnSync(
    '/usr/sbin/useradd',
    [
      '--system',
      '--user-group',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      '--comment',
      'Lamina function sandboxes',
      SANDBOX_USER,
    ],
    { encoding: 'utf8' },
  );
  // Another server may have created it at the same moment: read again before failing.
  const created = lookupUser(readFileSync(passwdFile, 'utf8'), SANDBOX_USER);
  if (created !== undefined) return created;
  throw new Error(
    `Lamina runs functions as the system user ${SANDBOX_USER} and could not create it ` +
      `(useradd: ${made.error?.message ?? made.stderr.trim()}). Create it with: ` +
      `useradd --system --user-group --no-create-home --shell /usr/sbin/nologin ${SANDBOX_USER}`,
  );
}

/** The uid and primary gid of `name` in a passwd file's text. */
export function lookupUser(passwd: string, name: string): SandboxIdentity | undefined {
  for (const line of passwd.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) {
      const ids = { uid: Number(uid), gid: Number(gid) };
      if (Number.isInteger(ids.uid) && Number.isInteger(ids.gid)) return ids;
    }
  }
  return undefined;
}
