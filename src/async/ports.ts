/** Ports the asynchronous queue needs; adapters implement them and the server wires them. */
import type { AsyncEvent, AsyncEventStatus, AsyncTrigger } from './async-event.js';
import type { AsyncSettings } from './retry-policy.js';

/** One page of events, newest first, and the cursor of the next page. */
export interface AsyncEventPage {
  readonly events: readonly AsyncEvent[];
  /** Pass as `beforeCursor` to read the next page; undefined on the last page. */
  readonly nextCursor: number | undefined;
}

/**
 * Durable storage of events. Every write resolves only once committed to disk; writes may be
 * grouped into one commit (group commit), but none is acknowledged before its own commit.
 */
export interface AsyncEventStore {
  /** Stores new events (accepted, replayed). */
  insert(events: readonly AsyncEvent[]): Promise<void>;
  /**
   * Marks up to `limit` events due at `nowMs` Running and returns them, earliest due first, and
   * at most `roomFor(name)` of each function; events of the `excluded` functions (at their
   * concurrency limit) are left waiting.
   */
  claimDue(
    nowMs: number,
    limit: number,
    excluded: readonly string[],
    roomFor: (functionName: string) => number,
  ): Promise<AsyncEvent[]>;
  /** The earliest due time of a waiting event not of an `excluded` function, if any. */
  nextDueMs(excluded: readonly string[]): Promise<number | undefined>;
  /** Writes an event's new state and, in the same commit, inserts `followUps` (destinations). */
  update(event: AsyncEvent, followUps: readonly AsyncEvent[]): Promise<void>;
  get(requestId: string): Promise<AsyncEvent | undefined>;
  /** A function's events, newest first, optionally of one status. */
  list(
    functionName: string,
    status: AsyncEventStatus | undefined,
    beforeCursor: number | undefined,
    limit: number,
  ): Promise<AsyncEventPage>;
  /** Puts events left Running by a crash back in the queue, due at `nowMs`; returns how many. */
  requeueRunning(nowMs: number): Promise<number>;
  /** Deletes finished events that finished before `cutoffMs`; returns how many. */
  pruneFinished(cutoffMs: number): Promise<number>;
}

/**
 * One attempt, as the synchronous invoke path (with its admission rules) runs it; resolves once
 * the invocation has completed and given its concurrency back.
 */
export interface EventInvoker {
  invoke(request: {
    readonly requestId: string;
    readonly functionName: string;
    readonly qualifier: string | undefined;
    readonly payload: Buffer;
    readonly clientContext: string | undefined;
    readonly logTail: false;
    /** An `Event` invoke or destination (`async`), or a schedule's fire. */
    readonly trigger: AsyncTrigger;
    /** The X-Ray trace header the attempt continues (undefined: a new trace). */
    readonly traceHeader: string | undefined;
  }): Promise<{
    readonly executedVersion: string;
    readonly outcome: { readonly kind: 'success' | 'function-error'; readonly payload: Buffer };
  }>;
}

/** What the queue needs to know about functions. */
export interface AsyncTargets {
  /**
   * Checks that a function (and qualifier) exists and can be invoked; answers its plain name and
   * the qualifier it was addressed with. Throws the API's errors (404, 409, validation).
   */
  resolve(
    functionName: string,
    qualifier: string | undefined,
  ): Promise<{ readonly name: string; readonly qualifier: string | undefined }>;
  /** The settings events of that function and qualifier (`$LATEST` when unqualified) run with. */
  settings(name: string, qualifier: string | undefined): Promise<AsyncSettings>;
  /** The function's reserved concurrency, if set. */
  reservedConcurrency(name: string): number | undefined;
}
