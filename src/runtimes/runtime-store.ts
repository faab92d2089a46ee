/**
 * The folder of managed runtimes Lamina installs: official Node.js binaries from the npm registry,
 * one folder per exact release (`<dir>/nodejs22.x/22.23.5/` with `bin/node`, `LICENSE` and
 * `runtime.json`), and the AWS SDK for JavaScript v3 bundle (`<dir>/aws-sdk-js-v3/<version>/`).
 * Everything is built in `.tmp-` staging folders and renamed into place, so `list()` never shows
 * an incomplete install, and is shared read-only with the environments.
 * Python is not installed: see `pythonNotInstallable` (the host's interpreters are used).
 */
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_SDK_PACKAGES_FILE,
  installedSdks,
  installSdkBundle,
  readSdkPackageList,
  sdkModulesOf,
} from './aws-sdk-bundle.js';
import { installNodeRelease, MANIFEST, type InstalledRuntime } from './node-runtime-installer.js';
import { NpmNodePackageSource, type NodePackageSource } from './node-runtime-package.js';
import { isReleaseVersion, newestFirst, NODE_RUNTIMES, nodeMajorOf } from './runtime-ids.js';
import { isStaging, makeStaging, sweepStaging } from './staging-folder.js';

export type { InstalledRuntime } from './node-runtime-installer.js';
export { hostPythonVersions } from './host-python.js';
export { NODE_RUNTIMES, PROVIDED_RUNTIMES, PYTHON_RUNTIMES } from './runtime-ids.js';

/** Collaborators a test replaces; production uses the npm registry and the committed SDK list. */
export interface RuntimeStoreOptions {
  /** Where Node.js releases come from (default: the npm registry through `npm`). */
  readonly source?: NodePackageSource;
  /** The committed SDK package list (default: `runtimes/aws-sdk-packages.json`). */
  readonly sdkPackagesFile?: string;
  /** The npm command for the SDK bundle (default: `npm`). */
  readonly npm?: string;
  readonly now?: () => number;
}

/**
 * The runtimes folder: `LAMINA_RUNTIMES_DIR`, else `/var/lib/lamina/runtimes` as root, else
 * `${XDG_DATA_HOME:-~/.local/share}/lamina/runtimes`.
 */
export function defaultRuntimesDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['LAMINA_RUNTIMES_DIR'];
  if (explicit !== undefined && explicit !== '') return explicit;
  if (process.getuid?.() === 0) return '/var/lib/lamina/runtimes';
  const data = env['XDG_DATA_HOME'];
  return join(
    data !== undefined && data !== '' ? data : join(homedir(), '.local', 'share'),
    'lamina',
    'runtimes',
  );
}

/** Installed runtimes and the SDK bundle in one folder; see the module doc. */
export class RuntimeStore {
  readonly #dir: string;
  readonly #source: NodePackageSource | undefined;
  readonly #sdkPackagesFile: string;
  readonly #npm: string;
  readonly #now: () => number;

  constructor(dir: string, options: RuntimeStoreOptions = {}) {
    this.#dir = dir;
    this.#source = options.source;
    this.#sdkPackagesFile = options.sdkPackagesFile ?? DEFAULT_SDK_PACKAGES_FILE;
    this.#npm = options.npm ?? 'npm';
    this.#now = options.now ?? Date.now;
  }

  /** The folder itself. */
  get dir(): string {
    return this.#dir;
  }

  /** Installed Node.js runtimes (complete installs only), by runtime id, newest release first. */
  list(): InstalledRuntime[] {
    const found: InstalledRuntime[] = [];
    for (const runtime of NODE_RUNTIMES) {
      let names: string[];
      try {
        names = readdirSync(join(this.#dir, runtime));
      } catch {
        continue;
      }
      const installed = names
        .filter((name) => !isStaging(name) && isReleaseVersion(name))
        .map((version) => this.#read(runtime, version))
        .filter((manifest): manifest is InstalledRuntime => manifest !== undefined)
        .sort((a, b) => newestFirst(a.version, b.version));
      found.push(...installed);
    }
    return found;
  }

  /**
   * Installs `version` (exact, within the runtime's major) or, when none is given, the newest
   * release of the major — unless some release of it is already installed, which is returned
   * without asking the registry (so a repeated install is instant; `latestVersion` + an exact
   * install upgrades). Idempotent.
   */
  async install(runtime: string, version?: string): Promise<InstalledRuntime> {
    const major = nodeMajorOf(runtime);
    if (version !== undefined) {
      if (!isReleaseVersion(version) || Number(version.split('.')[0]) !== major)
        throw new Error(
          `${version} is not a Node.js ${major} release (${runtime} runs Node.js ${major}.x.y)`,
        );
      const existing = this.#read(runtime, version);
      if (existing !== undefined) return existing;
    } else {
      const newest = this.list().find((item) => item.runtime === runtime);
      if (newest !== undefined) return newest;
    }
    const exact = version ?? (await this.latestVersion(runtime));
    const runtimeDir = join(this.#dir, runtime);
    sweepStaging(runtimeDir);
    return installNodeRelease(runtimeDir, runtime, exact, this.#nodeSource(), this.#now);
  }

  /** The newest release of the runtime's major on the registry. */
  async latestVersion(runtime: string): Promise<string> {
    const major = nodeMajorOf(runtime);
    const source = this.#nodeSource();
    const versions = (await source.versions(major))
      .filter((v) => isReleaseVersion(v) && Number(v.split('.')[0]) === major)
      .sort(newestFirst);
    const newest = versions[0];
    if (newest === undefined)
      throw new Error(
        `Node.js ${major} is not on the registry (no ${source.packageName}@${major})`,
      );
    return newest;
  }

  /** Removes one release, or every release of the runtime; resolves to what was removed. */
  async remove(runtime: string, version?: string): Promise<InstalledRuntime[]> {
    nodeMajorOf(runtime);
    const doomed = this.list().filter(
      (item) => item.runtime === runtime && (version === undefined || item.version === version),
    );
    const runtimeDir = join(this.#dir, runtime);
    for (const item of doomed) {
      // Renamed first, so a crash mid-delete leaves a staging folder, never half a runtime.
      const trash = makeStaging(runtimeDir, `${item.version}-removed`);
      rmSync(trash, { recursive: true });
      renameSync(join(runtimeDir, item.version), trash);
      await rm(trash, { recursive: true, force: true });
    }
    return doomed;
  }

  /** The installed SDK bundle's `node_modules` (the committed list's version, else the newest). */
  sdkModules(): string | undefined {
    const installed = installedSdks(this.#dir);
    if (installed.length === 0) return undefined;
    let wanted: string | undefined;
    try {
      wanted = readSdkPackageList(this.#sdkPackagesFile).version;
    } catch {
      wanted = undefined;
    }
    const pick = installed.find((sdk) => sdk.version === wanted) ?? installed[0];
    return pick === undefined ? undefined : sdkModulesOf(this.#dir, pick.version);
  }

  /** The installed SDK bundles, newest first. */
  sdkBundles(): { version: string; packages: number; installedMs: number }[] {
    return installedSdks(this.#dir);
  }

  /** Installs the committed SDK package list unless its version is installed. Idempotent. */
  async installSdk(): Promise<{ version: string; packages: number }> {
    const list = readSdkPackageList(this.#sdkPackagesFile);
    const { version, packages } = await installSdkBundle(this.#dir, list, this.#npm, this.#now);
    return { version, packages };
  }

  /**
   * The version the committed SDK list pins (undefined when the list cannot be read), and
   * whether it is installed.
   */
  sdkStatus(): { version: string | undefined; installed: boolean } {
    let version: string;
    try {
      version = readSdkPackageList(this.#sdkPackagesFile).version;
    } catch {
      return { version: undefined, installed: false };
    }
    return { version, installed: installedSdks(this.#dir).some((sdk) => sdk.version === version) };
  }

  #nodeSource(): NodePackageSource {
    return this.#source ?? new NpmNodePackageSource();
  }

  #read(runtime: string, version: string): InstalledRuntime | undefined {
    const home = join(this.#dir, runtime, version);
    try {
      const manifest = JSON.parse(readFileSync(join(home, MANIFEST), 'utf8')) as InstalledRuntime;
      if (manifest.runtime !== runtime || manifest.version !== version) return undefined;
      if (!existsSync(join(home, 'bin', 'node'))) return undefined;
      return { ...manifest, home };
    } catch {
      return undefined;
    }
  }
}
