/** Weighted alias routing: which version serves one invocation. Pure. */
import type { AliasRecord } from './function-model.js';

/**
 * Picks the version for an invocation of `alias`. `random` is uniform in [0, 1): values below the
 * additional version's weight go to it, the rest to the primary version.
 */
export function pickAliasVersion(alias: AliasRecord, random: number): string {
  for (const [version, weight] of Object.entries(alias.additionalVersionWeights ?? {})) {
    if (random < weight) return version;
  }
  return alias.functionVersion;
}
