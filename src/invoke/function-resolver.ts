/**
 * Resolves an Invoke's function to the version that runs and its prepared code folder. Lookups
 * are cached until the next write to the metadata (WriteGeneration), so a warm invoke reads
 * nothing from the database; a weighted alias still picks its version on every call.
 */
import { pickAliasVersion } from '../core/alias-routing.js';
import { invocableCode } from '../core/function-lifecycle.js';
import type { CodeStore } from '../functions/code-store.js';
import type { FunctionVersion } from '../core/function-model.js';
import type { FunctionService } from '../functions/function-service.js';
import type { ResolvedFunction } from '../environment/ports.js';
import type { FunctionResolver } from './ports.js';

type Found = Awaited<ReturnType<FunctionService['get']>>;

interface Cached {
  readonly generation: number;
  readonly found: Found;
  /** Versions a weighted alias routes to, looked up once. */
  readonly routed: Map<string, FunctionVersion | undefined>;
}

const CACHE_ENTRIES = 10_000;

export class ServiceFunctionResolver implements FunctionResolver {
  readonly #functions: FunctionService;
  readonly #code: CodeStore;
  readonly #writes: { readonly value: number };
  readonly #cache = new Map<string, Cached>();

  constructor(functions: FunctionService, code: CodeStore, writes: { readonly value: number }) {
    this.#functions = functions;
    this.#code = code;
    this.#writes = writes;
  }

  async resolve(functionName: string, qualifier: string | undefined): Promise<ResolvedFunction> {
    const cached = await this.#lookup(functionName, qualifier);
    const { found } = cached;
    const { record, ref, alias } = found;
    // A weighted alias picks the version for this invocation.
    const routed = alias === undefined ? undefined : pickAliasVersion(alias, Math.random());
    let version = found.version;
    if (routed !== undefined && routed !== found.version.version) {
      if (!cached.routed.has(routed))
        cached.routed.set(routed, await this.#functions.versionOf(record, routed));
      version = cached.routed.get(routed) ?? found.version;
    }
    const code = invocableCode(version);
    const layers = version.settings.layers;
    const optDir =
      layers.length === 0
        ? undefined
        : await this.#code.prepareMerged(layers.map((layer) => layer.code));
    return { record, version, ref, codeDir: await this.#code.prepare(code), optDir };
  }

  async #lookup(functionName: string, qualifier: string | undefined): Promise<Cached> {
    const key = `${functionName}\u0000${qualifier ?? ''}`;
    const generation = this.#writes.value;
    const hit = this.#cache.get(key);
    if (hit !== undefined && hit.generation === generation) return hit;
    // Tagged with the generation seen before reading: a write during the read outdates it.
    const entry: Cached = {
      generation,
      found: await this.#functions.get(functionName, qualifier),
      routed: new Map(),
    };
    if (this.#cache.size >= CACHE_ENTRIES) this.#cache.clear();
    this.#cache.set(key, entry);
    return entry;
  }
}
