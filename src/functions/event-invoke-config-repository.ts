/** Port: durable storage of EventInvokeConfigs (one per function and qualifier). */
import type { EventInvokeConfig } from '../core/event-invoke-config.js';

export interface EventInvokeConfigRepository {
  get(functionName: string, qualifier: string): Promise<EventInvokeConfig | undefined>;
  /** Inserts or replaces. */
  put(config: EventInvokeConfig): Promise<void>;
  /** False when there was none. */
  delete(functionName: string, qualifier: string): Promise<boolean>;
  /** A function's configs in qualifier order after `afterQualifier`, at most `limit`. */
  list(
    functionName: string,
    afterQualifier: string | undefined,
    limit: number,
  ): Promise<EventInvokeConfig[]>;
}
