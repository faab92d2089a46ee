/** Ports: durable storage of published versions and of aliases. */
import type { AliasRecord, FunctionVersion } from '../core/function-model.js';

export interface VersionRepository {
  /** A published version (`"1"`, `"2"`, …) of a function. */
  get(functionName: string, version: string): Promise<FunctionVersion | undefined>;
  /** Published versions in number order after `afterVersion`, at most `limit`. */
  list(functionName: string, afterVersion: number, limit: number): Promise<FunctionVersion[]>;
  /**
   * In one transaction: `decide` sees `$LATEST`, the newest published version and the next
   * number, and returns the version to insert, or undefined to keep the newest (unchanged code and
   * configuration). Resolves undefined when the function does not exist.
   */
  publish(
    functionName: string,
    decide: (
      latest: FunctionVersion,
      newest: FunctionVersion | undefined,
      nextNumber: number,
    ) => FunctionVersion | undefined,
  ): Promise<{ readonly version: FunctionVersion; readonly created: boolean } | undefined>;
  /** Deletes a published version; false when it did not exist. */
  delete(functionName: string, version: string): Promise<boolean>;
  /** Changes a published version's record (its runtime management config); undefined if none. */
  update(
    functionName: string,
    version: string,
    change: (current: FunctionVersion) => FunctionVersion,
  ): Promise<FunctionVersion | undefined>;
}

export interface AliasRepository {
  get(functionName: string, alias: string): Promise<AliasRecord | undefined>;
  /** 'exists' when the name is taken. */
  insert(functionName: string, alias: AliasRecord): Promise<'written' | 'exists'>;
  /** Read-modify-write; undefined when the alias does not exist. */
  update(
    functionName: string,
    alias: string,
    change: (current: AliasRecord) => AliasRecord,
  ): Promise<AliasRecord | undefined>;
  delete(functionName: string, alias: string): Promise<boolean>;
  /** Aliases in name order after `afterName`, at most `limit`. */
  list(functionName: string, afterName: string | undefined, limit: number): Promise<AliasRecord[]>;
}
