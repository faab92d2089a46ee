/**
 * Which managed runtimes this Lamina can run, at which versions, and the errors for the ones it
 * cannot. Versions come from a source the server wires (the installed runtimes folder, the host's
 * Python interpreters, the custom runtimes); it is read again on every question, so a runtime
 * installed while the server runs is usable at once.
 */
import { lambdaErrors } from '../core/errors.js';
import type { Architecture, FunctionSettings } from '../core/function-model.js';

/** Runtimes AWS retired; creating or updating to them is refused with AWS's message. */
const DEPRECATED = new Set([
  'java8',
  'go1.x',
  'provided',
  'ruby2.7',
  'ruby2.5',
  'nodejs',
  'nodejs4.3',
  'nodejs6.10',
  'nodejs8.10',
  'nodejs10.x',
  'nodejs12.x',
  'nodejs14.x',
  'python2.7',
  'python3.6',
  'python3.7',
  'dotnetcore1.0',
  'dotnetcore2.0',
  'dotnetcore2.1',
  'dotnetcore3.1',
]);

/** One version of a runtime this server can run. */
export interface RuntimeVersion {
  readonly runtime: string;
  /** The exact version, e.g. `22.23.5` (Node.js), `3.11.2` (Python). */
  readonly version: string;
  /** `arn:aws:lambda:<region>::runtime:<64 hex>`, one per runtime and version. */
  readonly arn: string;
}

/** Where the versions come from. */
export interface RuntimeVersionSource {
  /** Every runtime version available now, newest first within a runtime. */
  versions(): readonly RuntimeVersion[];
  /** Why a runtime AWS offers cannot run here and how to add it (undefined: no reason known). */
  missing(runtime: string): string | undefined;
  /** Reads the versions again (a runtime installed or removed meanwhile). */
  refresh?(): void;
}

/** A fixed list of runtimes, one version each (tests and tools). */
export function fixedRuntimes(runtimes: readonly string[]): RuntimeVersionSource {
  const versions = runtimes.map((runtime) => ({
    runtime,
    version: '1',
    arn: `arn:aws:lambda:us-east-1::runtime:${runtime}`,
  }));
  return { versions: () => versions, missing: () => undefined };
}

export class RuntimeCatalog {
  readonly #source: RuntimeVersionSource;
  readonly #architecture: Architecture;

  /** `source`: the versions (a plain list of ids gives each one version); `architecture`: the host's. */
  constructor(
    source: RuntimeVersionSource | readonly string[],
    architecture: Architecture = 'x86_64',
  ) {
    this.#source = Array.isArray(source)
      ? fixedRuntimes(source as readonly string[])
      : (source as RuntimeVersionSource);
    this.#architecture = architecture;
  }

  /** The runtime ids that can run now. */
  get supported(): readonly string[] {
    return [...new Set(this.#source.versions().map((v) => v.runtime))];
  }

  /** Throws InvalidParameterValueException unless the runtime can run here. */
  check(runtime: string): void {
    if (this.supported.includes(runtime)) return;
    this.#source.refresh?.();
    const supported = this.supported;
    if (supported.includes(runtime)) return;
    if (DEPRECATED.has(runtime)) {
      throw lambdaErrors.invalidParameter(
        `The runtime parameter of ${runtime} is no longer supported for creating or updating ` +
          'AWS Lambda functions. We recommend you use a supported runtime while creating or ' +
          'updating functions.',
      );
    }
    const missing = this.#source.missing(runtime);
    if (missing !== undefined) {
      throw lambdaErrors.invalidParameter(
        `The runtime ${runtime} is not available on this Lamina server: ${missing}`,
      );
    }
    throw lambdaErrors.invalidParameter(
      `Value ${runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum ` +
        `value set: [${supported.join(', ')}] or be a valid ARN`,
    );
  }

  /** Refuses an architecture this host cannot run (functions would otherwise run on the wrong one). */
  checkArchitecture(architecture: Architecture): void {
    if (architecture === this.#architecture) return;
    throw lambdaErrors.invalidParameter(
      `This Lamina server runs functions on ${this.#architecture} only: its host is ` +
        `${this.#architecture}, so Architectures ["${architecture}"] cannot run here. Use ` +
        `["${this.#architecture}"] (or leave Architectures out), or deploy to a Lamina server on an ` +
        `${architecture} host.`,
    );
  }

  /** The newest version of a runtime. */
  newest(runtime: string): RuntimeVersion | undefined {
    return this.#source.versions().find((v) => v.runtime === runtime);
  }

  /** The version with this ARN, if it is available. */
  byArn(arn: string): RuntimeVersion | undefined {
    const find = () => this.#source.versions().find((v) => v.arn === arn);
    const found = find();
    if (found !== undefined) return found;
    this.#source.refresh?.();
    return find();
  }

  /**
   * The version a function's settings run on: the pinned one (`Manual`), the one of its last
   * update (`FunctionUpdate`), else the newest (`Auto`, or when that version is gone).
   */
  versionFor(settings: FunctionSettings): RuntimeVersion | undefined {
    const management = settings.runtimeManagement;
    const versions = this.#source.versions().filter((v) => v.runtime === settings.runtime);
    let chosen: RuntimeVersion | undefined;
    if (management?.updateRuntimeOn === 'Manual') {
      chosen = versions.find((v) => v.arn === management.runtimeVersionArn);
    } else if (management?.updateRuntimeOn === 'FunctionUpdate') {
      chosen = versions.find((v) => v.version === settings.runtimeVersionAtUpdate);
    }
    return chosen ?? versions[0];
  }
}
