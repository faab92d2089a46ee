/** Port: durable storage of resource-based policies (one per function, version or alias). */
import type { ResourcePolicy } from '../core/resource-policy.js';

export interface PolicyRepository {
  /** `qualifier` undefined: the unqualified function's policy. */
  get(functionName: string, qualifier: string | undefined): Promise<ResourcePolicy | undefined>;
  /** Inserts or replaces. */
  put(policy: ResourcePolicy): Promise<void>;
  /** False when there was none. */
  delete(functionName: string, qualifier: string | undefined): Promise<boolean>;
}
