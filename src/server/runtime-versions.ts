/**
 * The runtime versions this server can run, for the RuntimeCatalog: the Node.js releases of the
 * runtimes folder (the host's own Node.js for its major when none is installed there), the host's
 * Python interpreters and the custom runtimes. The folder is read again whenever one of its
 * runtime folders changed (a release installed or removed while the server runs: each is renamed
 * into or out of its runtime's folder, which changes that folder's modification time), so a
 * question costs a few stat calls.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { runtimeVersionArn } from '../core/arn.js';
import type { RuntimeVersion, RuntimeVersionSource } from '../functions/runtime-catalog.js';
import {
  NODE_RUNTIMES,
  PROVIDED_RUNTIMES,
  PYTHON_RUNTIMES,
  type RuntimeStore,
} from '../runtimes/runtime-store.js';
import { pythonNotInstallable } from '../runtimes/runtime-ids.js';

/** A runtime version with where it lives: a Node.js install prefix (`home/bin/node`). */
export interface LocatedVersion extends RuntimeVersion {
  readonly home?: string | undefined;
}

export class RuntimeVersions implements RuntimeVersionSource {
  readonly #store: RuntimeStore;
  readonly #pythons: readonly { readonly runtime: string; readonly version: string }[];
  readonly #region: string;
  #versions: readonly LocatedVersion[];
  #stamp: string;

  constructor(
    store: RuntimeStore,
    pythons: readonly { readonly runtime: string; readonly version: string }[],
    region: string,
  ) {
    this.#store = store;
    this.#pythons = pythons;
    this.#region = region;
    this.#stamp = this.#folderStamp();
    this.#versions = this.#read();
  }

  versions(): readonly LocatedVersion[] {
    const stamp = this.#folderStamp();
    if (stamp !== this.#stamp) {
      this.#stamp = stamp;
      this.#versions = this.#read();
    }
    return this.#versions;
  }

  /** Reads the runtimes folder again. */
  refresh(): void {
    this.#stamp = this.#folderStamp();
    this.#versions = this.#read();
  }

  /** The modification times of the runtime folders (a release added or removed changes one). */
  #folderStamp(): string {
    return NODE_RUNTIMES.map((runtime) => {
      try {
        return String(statSync(join(this.#store.dir, runtime)).mtimeMs);
      } catch {
        return '-';
      }
    }).join(',');
  }

  missing(runtime: string): string | undefined {
    if (NODE_RUNTIMES.includes(runtime))
      return (
        `it is not installed. Run \`npx lamina runtimes install ${runtime}\` on the server's ` +
        `machine (the official Node.js binary from the npm registry, into ${this.#store.dir}).`
      );
    if (PYTHON_RUNTIMES.includes(runtime)) return pythonNotInstallable(runtime);
    return undefined;
  }

  #read(): LocatedVersion[] {
    const found: LocatedVersion[] = this.#store
      .list()
      .map((item) => this.#version(item.runtime, item.version, item.home));
    const hostMajor = process.versions.node.split('.')[0];
    const hostRuntime = `nodejs${hostMajor}.x`;
    if (NODE_RUNTIMES.includes(hostRuntime) && !found.some((v) => v.runtime === hostRuntime))
      found.push(this.#version(hostRuntime, process.versions.node, undefined));
    for (const python of this.#pythons) found.push(this.#version(python.runtime, python.version));
    for (const runtime of PROVIDED_RUNTIMES) found.push(this.#version(runtime, runtime.slice(9)));
    return found;
  }

  #version(runtime: string, version: string, home?: string): LocatedVersion {
    return { runtime, version, arn: runtimeVersionArnOf(this.#region, runtime, version), home };
  }
}

/** The `RuntimeVersionArn` of one release of a runtime: the same on every Lamina server. */
export function runtimeVersionArnOf(region: string, runtime: string, version: string): string {
  const id = createHash('sha256').update(`${runtime}:${version}`).digest('hex');
  return runtimeVersionArn(region, id);
}
