/** Port: durable storage of function URL configurations (one per function or alias). */
import type { FunctionUrlConfig } from '../core/function-url.js';

export interface FunctionUrlRepository {
  /** `qualifier` undefined: the unqualified function's URL. */
  get(functionName: string, qualifier: string | undefined): Promise<FunctionUrlConfig | undefined>;
  byUrlId(urlId: string): Promise<FunctionUrlConfig | undefined>;
  /** False when the function (or alias) already has one. */
  insert(config: FunctionUrlConfig): Promise<boolean>;
  update(config: FunctionUrlConfig): Promise<void>;
  /** False when there was none. */
  delete(functionName: string, qualifier: string | undefined): Promise<boolean>;
  /** A function's URLs, the unqualified one first, then by alias, after `afterQualifier`. */
  list(
    functionName: string,
    afterQualifier: string | undefined,
    limit: number,
  ): Promise<FunctionUrlConfig[]>;
}
