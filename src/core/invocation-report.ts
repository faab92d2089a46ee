/**
 * What one invocation was, once it ended: the figures of its REPORT line, who asked for it (the
 * trigger) and under which name (the resource), and how it ended. The invocation records, the
 * metrics (Prometheus and CloudWatch), the usage meter and the platform's spans are all made from
 * these; the engine hands each one over once, off the caller's answer.
 */
import type { Architecture } from './function-model.js';

/** What started an invocation. */
export type InvocationTrigger = 'sync' | 'async' | 'url' | 'mapping' | 'schedule';

export const INVOCATION_TRIGGERS: readonly InvocationTrigger[] = [
  'sync',
  'async',
  'url',
  'mapping',
  'schedule',
];

/** How an invocation ended: answered, failed (a function or platform error), or timed out. */
export type InvocationOutcomeKind = 'success' | 'error' | 'timeout';

export const INVOCATION_OUTCOMES: readonly InvocationOutcomeKind[] = [
  'success',
  'error',
  'timeout',
];

export interface InvocationReport {
  readonly requestId: string;
  readonly functionName: string;
  /** The version that ran (`$LATEST` or a number): CloudWatch's `ExecutedVersion`. */
  readonly executedVersion: string;
  /**
   * The qualifier the caller named (an alias, a version, `$LATEST`), or undefined for an
   * unqualified invoke: CloudWatch's `Resource` dimension is `<function>:<qualifier>` then.
   */
  readonly qualifier: string | undefined;
  readonly trigger: InvocationTrigger;
  /** When the engine received the request (epoch ms). */
  readonly receivedMs: number;
  /** When the runtime got the event (epoch ms; after init on a cold start). */
  readonly startMs: number;
  /** When the caller had its answer, or the platform was done with the invocation (epoch ms). */
  readonly endMs: number;
  /** This invocation started its environment (its init ran for it). */
  readonly cold: boolean;
  readonly initDurationMs: number | undefined;
  /** From the event's delivery to the runtime's answer (and the extensions' post-processing). */
  readonly durationMs: number;
  /** The duration rounded up to the millisecond (0 when the runtime never got the event). */
  readonly billedDurationMs: number;
  readonly memorySizeMiB: number;
  readonly maxMemoryUsedMiB: number;
  readonly architecture: Architecture;
  readonly outcome: InvocationOutcomeKind;
  /** The error type of a failed invocation (`Runtime.ExitError`, `Handled`…). */
  readonly errorType: string | undefined;
  /** The X-Ray trace header the function saw (`Root=1-…;Parent=…;Sampled=0|1`). */
  readonly traceHeader: string;
  /**
   * The span the caller's trace header named as its Parent, if any: the platform's spans of the
   * invocation are its children.
   */
  readonly callerSpanId?: string | undefined;
  /** Ran on provisioned concurrency (an initialised environment kept for the function). */
  readonly provisioned: boolean;
}

/** A request refused under the concurrency limits (429): a throttle, not an invocation. */
export interface InvocationThrottle {
  readonly functionName: string;
  readonly qualifier: string | undefined;
  readonly trigger: InvocationTrigger;
  readonly atMs: number;
}
