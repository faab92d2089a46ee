/**
 * The folder the jail mounts at /var/runtime: Lamina's runtime clients (runtimes/) with the bundled
 * AWS SDK in nodejs/node_modules. It is about 20 MB in 3,000 files, a second of CPU to copy, so it
 * is built once per content (the clients' files and the SDK packages' versions) into
 * `<cache root>/lamina-runtimes-<hash>` and shared by every server on the machine, instead of
 * being copied at each start. A cache folder that this user does not own, or that others may
 * write to, is never used: the server then gets a private copy, as before.
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, join, relative } from 'node:path';
import { awsSdkClosure, shipAwsSdk, type SdkClosure } from './bundled-sdk.js';

const COMPLETE = '.lamina-complete';

/**
 * The runtime clients folder to mount: the shared one under `cacheRoot` (built if missing), or,
 * when that cannot be used, a private copy in `fallbackDir`.
 */
export function runtimeClientsDir(
  sourceDir: string,
  cacheRoot: string,
  fallbackDir: string,
): string {
  const closure = awsSdkClosure();
  const shared = join(cacheRoot, `lamina-runtimes-${contentHash(sourceDir, closure)}`);
  if (usable(shared)) return shared;
  if (!existsSync(shared)) {
    const building = mkdtempSync(join(cacheRoot, 'lamina-runtimes-building-'));
    try {
      build(sourceDir, building, closure);
      chmodSync(building, 0o755);
      renameSync(building, shared);
    } catch {
      // Another server finished first (the folder exists now), or the cache root refused us.
      rmSync(building, { recursive: true, force: true });
    }
    if (usable(shared)) return shared;
  }
  build(sourceDir, fallbackDir, closure);
  return fallbackDir;
}

function build(sourceDir: string, target: string, closure: SdkClosure): void {
  cpSync(sourceDir, target, { recursive: true, filter: (path) => !isBytecodeCache(path) });
  shipAwsSdk(join(target, 'nodejs'), closure);
  writeFileSync(join(target, COMPLETE), '');
}

/** A complete folder of this user's that nobody else can change. */
function usable(dir: string): boolean {
  try {
    const stat = lstatSync(dir);
    const ownUid = process.getuid?.();
    return (
      stat.isDirectory() &&
      (ownUid === undefined || stat.uid === ownUid) &&
      (stat.mode & 0o022) === 0 &&
      existsSync(join(dir, COMPLETE))
    );
  } catch {
    return false;
  }
}

/** A digest of the clients' files (paths and bytes) and of the SDK packages' names and versions. */
function contentHash(sourceDir: string, closure: SdkClosure): string {
  const hash = createHash('sha256');
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const path = join(dir, entry.name);
      if (isBytecodeCache(path)) continue;
      if (entry.isDirectory()) visit(path);
      else if (entry.isFile())
        hash.update(`${relative(sourceDir, path)}\0`).update(readFileSync(path));
    }
  };
  visit(sourceDir);
  for (const { name, version } of closure.packages) hash.update(`${name}@${version}\0`);
  return hash.digest('hex').slice(0, 16);
}

/** Python's __pycache__ (written when the clients are imported outside a jail): not content. */
function isBytecodeCache(path: string): boolean {
  return basename(path) === '__pycache__';
}
