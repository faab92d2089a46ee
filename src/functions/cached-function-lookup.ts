/**
 * A function, version and alias looked up by name and qualifier, cached until the next write to
 * the metadata (a WriteGeneration), so that a warm invoke or an accepted event reads nothing from
 * the database. Versions a weighted alias routes to are looked up once per entry.
 */
import type { FunctionVersion } from '../core/function-model.js';
import type { FunctionService } from './function-service.js';

export type FoundFunction = Awaited<ReturnType<FunctionService['get']>>;

export interface CachedFunction {
  readonly generation: number;
  readonly found: FoundFunction;
  /** Versions a weighted alias routes to, looked up once. */
  readonly routed: Map<string, FunctionVersion | undefined>;
}

const CACHE_ENTRIES = 10_000;

export class CachedFunctionLookup {
  readonly #functions: FunctionService;
  readonly #writes: { readonly value: number };
  readonly #cache = new Map<string, CachedFunction>();

  constructor(functions: FunctionService, writes: { readonly value: number }) {
    this.#functions = functions;
    this.#writes = writes;
  }

  /** What `FunctionService.get` answers (and throws), from the cache while nothing was written. */
  async get(functionName: string, qualifier: string | undefined): Promise<CachedFunction> {
    const key = `${functionName}\u0000${qualifier ?? ''}`;
    const generation = this.#writes.value;
    const hit = this.#cache.get(key);
    if (hit !== undefined && hit.generation === generation) return hit;
    // Tagged with the generation seen before reading: a write during the read outdates it.
    const entry: CachedFunction = {
      generation,
      found: await this.#functions.get(functionName, qualifier),
      routed: new Map(),
    };
    if (this.#cache.size >= CACHE_ENTRIES) this.#cache.clear();
    this.#cache.set(key, entry);
    return entry;
  }

  /** A version a weighted alias of `cached` routes to (looked up once per cache entry). */
  async routedVersion(
    cached: CachedFunction,
    version: string,
  ): Promise<FunctionVersion | undefined> {
    if (!cached.routed.has(version))
      cached.routed.set(version, await this.#functions.versionOf(cached.found.record, version));
    return cached.routed.get(version);
  }
}
