/**
 * Functions' resource policies, compiled, kept until the metadata changes (any write moves the
 * generation on): an IAM caller's invoke then costs no database read for the function's policy.
 */
import type { CompiledPolicy } from '../core/policy-document.js';
import { policyDocument, type ResourcePolicy } from '../core/resource-policy.js';

/** Policies kept at most (the oldest dropped first). */
const KEPT = 4096;

export class ResourcePolicyCache {
  readonly #read: (name: string, qualifier: string | undefined) => Promise<ResourcePolicy>;
  readonly #compile: (document: string) => CompiledPolicy;
  readonly #generation: () => number;
  readonly #entries = new Map<
    string,
    { readonly generation: number; readonly policy: Promise<CompiledPolicy | undefined> }
  >();

  constructor(options: {
    /** Rejects when there is no policy (or no such function). */
    read: (name: string, qualifier: string | undefined) => Promise<ResourcePolicy>;
    compile: (document: string) => CompiledPolicy;
    generation: () => number;
  }) {
    this.#read = options.read;
    this.#compile = options.compile;
    this.#generation = options.generation;
  }

  /** The policy of a function, version or alias, compiled; undefined when it has none. */
  get(name: string, qualifier: string | undefined): Promise<CompiledPolicy | undefined> {
    const key = `${name}\u0000${qualifier ?? ''}`;
    const generation = this.#generation();
    const kept = this.#entries.get(key);
    if (kept !== undefined && kept.generation === generation) return kept.policy;
    // No policy, or one that does not compile (Lambda's statements only ever allow): no grant.
    const policy = this.#read(name, qualifier).then(
      (found) => {
        try {
          return this.#compile(policyDocument(found.statements));
        } catch {
          return undefined;
        }
      },
      () => undefined,
    );
    this.#entries.delete(key);
    if (this.#entries.size >= KEPT) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(key, { generation, policy });
    return policy;
  }
}
