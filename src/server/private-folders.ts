/**
 * Folder and socket permissions that keep other local users out. As root, what the jails must
 * reach (the data directory, the run folder, environment sockets) belongs to root and the sandbox
 * group: `0710` folders (the group may pass through, not list) and `0660` sockets; everything
 * else is root's alone (`0700`). Without root, everything is the server user's alone, which is
 * also the user the jails run as.
 */
import { chmodSync, chownSync, mkdirSync } from 'node:fs';
import type { SandboxIdentity } from './sandbox-identity.js';

/** Makes `dir` (and missing parents, with default modes) a folder the jails may pass through. */
export function sandboxPassage(dir: string, identity: SandboxIdentity | undefined): void {
  mkdirSync(dir, { recursive: true });
  if (identity === undefined) return chmodSync(dir, 0o700);
  chownSync(dir, 0, identity.gid);
  chmodSync(dir, 0o710);
}

/** Makes `dir` a folder only the server's user may enter. */
export function privateFolder(dir: string): void {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o700);
}

/** Opens an existing socket (or file) to the jails: read and write for root and the group. */
export function sandboxSocket(path: string, identity: SandboxIdentity | undefined): void {
  if (identity === undefined) return chmodSync(path, 0o600);
  chownSync(path, 0, identity.gid);
  chmodSync(path, 0o660);
}
