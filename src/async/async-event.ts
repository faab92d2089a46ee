/**
 * An asynchronous invocation (an `Event` invoke) and its lifecycle, as a state machine that
 * rejects by default:
 *
 *   Queued ──claim──▶ Running ──▶ Succeeded | Failed | Expired        (final)
 *     ▲                  │
 *     └──── Retrying ◀───┘  (function error with retries left, throttle, platform failure)
 *
 * A crash leaves events Running; the next start puts them back (Queued or Retrying).
 */
import type { InvocationTrigger } from '../core/invocation-report.js';

export const ASYNC_EVENT_STATUSES = [
  'Queued',
  'Running',
  'Retrying',
  'Succeeded',
  'Failed',
  'Expired',
] as const;

export type AsyncEventStatus = (typeof ASYNC_EVENT_STATUSES)[number];

/** Why an event finished, as the invocation record's `requestContext.condition` says it. */
export type AsyncCondition = 'Success' | 'RetriesExhausted' | 'EventAgeExceeded';

/** The error of the last attempt (function error) or of the last refusal (throttle, …). */
export interface AsyncEventError {
  readonly errorType: string;
  readonly errorMessage: string;
}

/**
 * Limits an event's sender set on its retries (EventBridge Scheduler's RetryPolicy): they narrow
 * the function's own asynchronous settings, never widen them.
 */
export interface AsyncLimits {
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeSeconds: number;
}

/** One accepted event and its fate so far. */
export interface AsyncEvent {
  /** The id the 202 carried; every attempt of the event runs with it as `awsRequestId`. */
  readonly requestId: string;
  readonly functionName: string;
  /** The qualifier it was invoked with; undefined: unqualified (`$LATEST`). */
  readonly qualifier: string | undefined;
  readonly payload: Buffer;
  /** Decoded client-context JSON, if the caller sent one. */
  readonly clientContext: string | undefined;
  readonly status: AsyncEventStatus;
  /** Times the function ran for this event (throttles and platform failures do not count). */
  readonly attempts: number;
  /** Throttles or platform failures in a row since the function last ran (drives the backoff). */
  readonly backoffs: number;
  /** Times in all the event was throttled (`429`) instead of running. */
  readonly throttles: number;
  readonly enqueuedMs: number;
  readonly lastAttemptMs: number | undefined;
  /** When a Queued or Retrying event is due; undefined otherwise. */
  readonly nextAttemptMs: number | undefined;
  readonly finishedMs: number | undefined;
  readonly condition: AsyncCondition | undefined;
  readonly error: AsyncEventError | undefined;
  /** The response payload of the last attempt that ran (output or error document). */
  readonly response: Buffer | undefined;
  /** The version that ran last, and whether its answer was a function error (`Unhandled`). */
  readonly executedVersion: string | undefined;
  readonly functionError: string | undefined;
  /** The event this one replays, if it is a replay. */
  readonly replayOf: string | undefined;
  /** The sender's limits on retries, if any. */
  readonly limits: AsyncLimits | undefined;
  /**
   * The trace the event belongs to (an X-Ray header: the caller's, or a Root made when it was
   * accepted): every attempt and the destination's event continue it. Undefined for events
   * stored before traces were kept.
   */
  readonly traceHeader: string | undefined;
  /** What sent it: an `Event` invoke or a destination (`async`), or a schedule's fire. */
  readonly trigger: AsyncTrigger;
}

/** What may put an event in the queue. */
export type AsyncTrigger = Extract<InvocationTrigger, 'async' | 'schedule'>;

const FINAL: ReadonlySet<AsyncEventStatus> = new Set(['Succeeded', 'Failed', 'Expired']);

/** Whether the event is finished (kept for the retention period, then pruned). */
export function isFinal(status: AsyncEventStatus): boolean {
  return FINAL.has(status);
}

const ALLOWED: Readonly<Record<AsyncEventStatus, readonly AsyncEventStatus[]>> = {
  Queued: ['Running'],
  Retrying: ['Running'],
  Running: ['Succeeded', 'Failed', 'Expired', 'Retrying', 'Queued'],
  Succeeded: [],
  Failed: [],
  Expired: [],
};

/** Thrown for a transition the state machine does not allow (a bug, never a client error). */
export class IllegalTransitionError extends Error {
  constructor(requestId: string, from: AsyncEventStatus, to: AsyncEventStatus) {
    super(`async event ${requestId}: ${from} → ${to} is not a legal transition`);
    this.name = 'IllegalTransitionError';
  }
}

/** The event moved to `to` with `changes`; throws IllegalTransitionError unless allowed. */
export function transition(
  event: AsyncEvent,
  to: AsyncEventStatus,
  changes: Partial<Omit<AsyncEvent, 'status' | 'requestId'>> = {},
): AsyncEvent {
  if (!ALLOWED[event.status].includes(to))
    throw new IllegalTransitionError(event.requestId, event.status, to);
  return { ...event, ...changes, status: to };
}

/** A new event, due now. */
export function newEvent(input: {
  readonly requestId: string;
  readonly functionName: string;
  readonly qualifier: string | undefined;
  readonly payload: Buffer;
  readonly clientContext: string | undefined;
  readonly nowMs: number;
  readonly replayOf?: string | undefined;
  readonly limits?: AsyncLimits | undefined;
  readonly traceHeader?: string | undefined;
  readonly trigger?: AsyncTrigger | undefined;
}): AsyncEvent {
  return {
    requestId: input.requestId,
    functionName: input.functionName,
    qualifier: input.qualifier,
    payload: input.payload,
    clientContext: input.clientContext,
    status: 'Queued',
    attempts: 0,
    backoffs: 0,
    throttles: 0,
    enqueuedMs: input.nowMs,
    lastAttemptMs: undefined,
    nextAttemptMs: input.nowMs,
    finishedMs: undefined,
    condition: undefined,
    error: undefined,
    response: undefined,
    executedVersion: undefined,
    functionError: undefined,
    replayOf: input.replayOf,
    limits: input.limits,
    traceHeader: input.traceHeader,
    trigger: input.trigger ?? 'async',
  };
}
