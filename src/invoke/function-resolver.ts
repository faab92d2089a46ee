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
import type { ImageStore } from '../functions/image-store.js';
import { resolvedImageUri } from '../core/resolved-image-uri.js';

export class ServiceFunctionResolver implements FunctionResolver {
  readonly #lookup: CachedFunctionLookup;
  readonly #code: CodeStore;
  readonly #images: ImageStore | undefined;

  constructor(lookup: CachedFunctionLookup, code: CodeStore, images?: ImageStore) {
    this.#lookup = lookup;
    this.#code = code;
    this.#images = images;
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
    const image = version.settings.image;
    if (image !== undefined) {
      const unpacked = await this.#image(image.uri, code.sha256Hex);
      return { record, version, ref, codeDir: unpacked.rootDir, image: unpacked };
    }
    const layers = version.settings.layers;
    const optDir =
      layers.length === 0
        ? undefined
        : await this.#code.prepareMerged(layers.map((layer) => layer.code));
    return { record, version, ref, codeDir: await this.#code.prepare(code), optDir };
  }

  /** The unpacked image of a digest: here already, or pulled again by digest (a cache wiped). */
  async #image(uri: string, digestHex: string) {
    const images = this.#images;
    if (images === undefined) throw new Error('this server has no image store');
    const digest = `sha256:${digestHex}`;
    return (await images.open(digest)) ?? images.pull(resolvedImageUri(uri, digest));
  }
}
