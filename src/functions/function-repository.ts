/** Port: durable storage of functions. Every method commits before its promise resolves. */
import type { FunctionRecord } from '../core/function-model.js';

/** Result of a conditional write. */
export type WriteOutcome = 'written' | 'exists' | 'missing';

export interface FunctionRepository {
  /** The function of that name, or undefined. */
  get(name: string): Promise<FunctionRecord | undefined>;
  /** Inserts a new function; 'exists' when the name is taken (nothing is written then). */
  insert(record: FunctionRecord): Promise<WriteOutcome>;
  /**
   * Read-modify-write in one transaction: `change` sees the current record and returns the
   * new one, or throws to abort without writing. Resolves undefined when the function is missing.
   */
  update(
    name: string,
    change: (current: FunctionRecord) => FunctionRecord,
  ): Promise<FunctionRecord | undefined>;
  /** Deletes a function; false when it did not exist. */
  delete(name: string): Promise<boolean>;
  /** Functions in name order, starting after `afterName`, at most `limit` of them. */
  list(afterName: string | undefined, limit: number): Promise<FunctionRecord[]>;
  /** Functions created or updated whose preparation has not finished (for restart recovery). */
  listAwaitingPreparation(): Promise<FunctionRecord[]>;
  /** Whether any function still refers to a code blob. */
  isCodeReferenced(sha256Hex: string): Promise<boolean>;
  /** Number of functions and total bytes of their stored zips. */
  usage(): Promise<{ functionCount: number; totalCodeBytes: number }>;
}
