/**
 * Resolves an Invoke's function to the version that runs and its prepared code folder. Lookups
 * are cached until the next write to the metadata (WriteGeneration), so a warm invoke reads
 * nothing from the database; a weighted alias still picks its version on every call.
 */
import { pickAliasVersion } from '../core/alias-routing.js';
import { invocableCode } from '../core/function-lifecycle.js';
import type { CachedFunctionLookup } from '../functions/cached-function-lookup.js';
import type { CodeStore } from '../functions/code-store.js';
import type { ResolvedFunction } from '../environment/ports.js';
import type { FunctionResolver } from './ports.js';

export class ServiceFunctionResolver implements FunctionResolver {
  readonly #lookup: CachedFunctionLookup;
  readonly #code: CodeStore;

  constructor(lookup: CachedFunctionLookup, code: CodeStore) {
    this.#lookup = lookup;
    this.#code = code;
  }

  async resolve(functionName: string, qualifier: string | undefined): Promise<ResolvedFunction> {
    const cached = await this.#lookup.get(functionName, qualifier);
    const { found } = cached;
    const { record, ref, alias } = found;
    // A weighted alias picks the version for this invocation.
    const routed = alias === undefined ? undefined : pickAliasVersion(alias, Math.random());
    const version =
      routed !== undefined && routed !== found.version.version
        ? ((await this.#lookup.routedVersion(cached, routed)) ?? found.version)
        : found.version;
    const code = invocableCode(version);
    const layers = version.settings.layers;
    const optDir =
      layers.length === 0
        ? undefined
        : await this.#code.prepareMerged(layers.map((layer) => layer.code));
    return { record, version, ref, codeDir: await this.#code.prepare(code), optDir };
  }
}
