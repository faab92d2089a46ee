/**
 * The AWS SDK for JavaScript v3 as AWS's Node.js runtimes ship it: every `@aws-sdk/client-*`
 * package plus the libraries functions use with them (lib-dynamodb, lib-storage,
 * credential-providers, the presigners…), pinned in the committed `runtimes/aws-sdk-packages.json`
 * (`{ version, packages: ['@aws-sdk/client-s3@3.1178.0', …] }`; each package at its newest
 * release not above the SDK `version`). It is installed with `npm install` into
 * `<dir>/aws-sdk-js-v3/<version>/node_modules`, built in a staging folder, stripped of the
 * ES-module and type-declaration copies Node.js does not load (`dist-es`, `dist-types`: every
 * package's `main` and `exports` "node" condition point at `dist-cjs`), and shared read-only.
 */
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from './run-command.js';
import { isReleaseVersion, newestFirst } from './runtime-ids.js';
import { shareReadOnly } from './share-read-only.js';
import { isStaging, makeStaging, sweepStaging } from './staging-folder.js';

/** The committed package list. */
export interface SdkPackageList {
  /** The SDK release the list was taken at, e.g. `3.1178.0`. */
  readonly version: string;
  /** `name@exact-version` of every package to install. */
  readonly packages: readonly string[];
}

/** An installed bundle's manifest (`bundle.json`). */
export interface InstalledSdk {
  readonly version: string;
  readonly packages: number;
  readonly installedMs: number;
}

/** The bundles' folder name inside the runtimes folder. */
export const SDK_FOLDER = 'aws-sdk-js-v3';
const MANIFEST = 'bundle.json';

/** The committed list, `runtimes/aws-sdk-packages.json` of this checkout. */
export const DEFAULT_SDK_PACKAGES_FILE = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../runtimes/aws-sdk-packages.json',
);

/** Reads and checks a package list file. */
export function readSdkPackageList(file: string): SdkPackageList {
  const value = JSON.parse(readFileSync(file, 'utf8')) as Partial<SdkPackageList>;
  const packages = value.packages ?? [];
  if (
    typeof value.version !== 'string' ||
    !isReleaseVersion(value.version) ||
    !Array.isArray(packages) ||
    packages.some((p) => typeof p !== 'string' || !/^@aws-sdk\/[a-z0-9-]+@\d+\.\d+\.\d+$/.test(p))
  )
    throw new Error(`${file} is not a list of @aws-sdk/NAME@VERSION packages with a version`);
  return { version: value.version, packages };
}

/** The installed bundles, newest first (complete ones only). */
export function installedSdks(root: string): InstalledSdk[] {
  const parent = join(root, SDK_FOLDER);
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return [];
  }
  const found: InstalledSdk[] = [];
  for (const name of names) {
    if (isStaging(name) || name.startsWith('.')) continue;
    try {
      const manifest = JSON.parse(
        readFileSync(join(parent, name, MANIFEST), 'utf8'),
      ) as InstalledSdk;
      if (manifest.version === name) found.push(manifest);
    } catch {
      // not a finished bundle
    }
  }
  return found.sort((a, b) => newestFirst(a.version, b.version));
}

/** The `node_modules` folder of an installed bundle. */
export function sdkModulesOf(root: string, version: string): string {
  return join(root, SDK_FOLDER, version, 'node_modules');
}

/** Installs `list` unless that version is already installed (then returns at once). */
export async function installSdkBundle(
  root: string,
  list: SdkPackageList,
  npm = 'npm',
  now: () => number = Date.now,
): Promise<InstalledSdk> {
  const existing = installedSdks(root).find((sdk) => sdk.version === list.version);
  if (existing !== undefined) return existing;
  const parent = join(root, SDK_FOLDER);
  sweepStaging(parent);
  const staging = makeStaging(parent, list.version);
  try {
    await runCommand(npm, [
      'install',
      '--prefix',
      staging,
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--omit=dev',
      '--ignore-scripts',
      '--loglevel=error',
      ...list.packages,
    ]);
    const modules = join(staging, 'node_modules');
    if (!existsSync(join(modules, '@aws-sdk')))
      throw new Error('npm install left no node_modules/@aws-sdk');
    dropUnloadedCopies(modules);
    const manifest: InstalledSdk = {
      version: list.version,
      packages: list.packages.length,
      installedMs: now(),
    };
    writeFileSync(join(staging, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    shareReadOnly(staging);
    const final = join(parent, list.version);
    if (existsSync(join(final, MANIFEST))) return manifest;
    rmSync(final, { recursive: true, force: true });
    renameSync(staging, final);
    return manifest;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Removes `dist-es` and `dist-types` folders of every package below `modules`. */
function dropUnloadedCopies(modules: string): void {
  for (const entry of readdirSync(modules, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(modules, entry.name);
    if (entry.name.startsWith('@')) {
      dropUnloadedCopies(path);
      continue;
    }
    rmSync(join(path, 'dist-types'), { recursive: true, force: true });
    if (loadsCommonJsOnNode(path)) rmSync(join(path, 'dist-es'), { recursive: true, force: true });
    const nested = join(path, 'node_modules');
    if (existsSync(nested)) dropUnloadedCopies(nested);
  }
}

/**
 * Whether Node.js never loads a package's `dist-es`: its `main` is CommonJS, and wherever its
 * `exports` offer `import` → dist-es, a `node` or `require` condition comes first.
 */
function loadsCommonJsOnNode(packageDir: string): boolean {
  let manifest: { main?: unknown; exports?: unknown };
  try {
    manifest = JSON.parse(
      readFileSync(join(packageDir, 'package.json'), 'utf8'),
    ) as typeof manifest;
  } catch {
    return false;
  }
  if (typeof manifest.main !== 'string' || manifest.main.includes('dist-es')) return false;
  const safe = (value: unknown): boolean => {
    if (typeof value === 'string') return !value.includes('dist-es');
    if (Array.isArray(value)) return value.every(safe);
    if (value === null || typeof value !== 'object') return true;
    const entries = Object.entries(value);
    const isConditions = entries.every(([key]) => !key.startsWith('.'));
    if (!isConditions) return entries.every(([, target]) => safe(target));
    for (const [condition, target] of entries) {
      if (condition === 'node' || condition === 'require' || condition === 'default')
        return safe(target);
      if ((condition === 'import' || condition === 'module-sync') && !safe(target)) return false;
    }
    return true;
  };
  return safe(manifest.exports);
}
