/**
 * The asynchronous queue's decisions, as pure functions of an event, what happened and the time:
 * when a throttled or platform-failed event is tried again (1 s doubling to 5 min, no attempt
 * used), when a function error is retried (about 1 min, then 2 min), when events expire, and when
 * they fail without running (reserved concurrency 0, function gone).
 */
import { ASYNC_DEFAULTS, type EventInvokeConfig } from '../core/event-invoke-config.js';
import {
  transition,
  type AsyncEvent,
  type AsyncEventError,
  type AsyncLimits,
} from './async-event.js';

/** The settings that govern one event (its function's EventInvokeConfig, or the defaults). */
export interface AsyncSettings {
  /** Retries after a function error: 0–2. */
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeMs: number;
  readonly onSuccess: string | undefined;
  readonly onFailure: string | undefined;
}

/** The function's settings narrowed by the event's sender's limits (never widened). */
export function narrowedBy(
  settings: AsyncSettings,
  limits: AsyncLimits | undefined,
): AsyncSettings {
  if (limits === undefined) return settings;
  return {
    ...settings,
    maximumRetryAttempts: Math.min(settings.maximumRetryAttempts, limits.maximumRetryAttempts),
    maximumEventAgeMs: Math.min(settings.maximumEventAgeMs, limits.maximumEventAgeSeconds * 1000),
  };
}

/** The settings of an EventInvokeConfig, with AWS's defaults for what it leaves unset. */
export function settingsOf(config: EventInvokeConfig | undefined): AsyncSettings {
  return {
    maximumRetryAttempts: config?.maximumRetryAttempts ?? ASYNC_DEFAULTS.maximumRetryAttempts,
    maximumEventAgeMs:
      (config?.maximumEventAgeSeconds ?? ASYNC_DEFAULTS.maximumEventAgeSeconds) * 1000,
    onSuccess: config?.onSuccess,
    onFailure: config?.onFailure,
  };
}

/** Backoff after throttles and platform failures: 1 s, doubling, at most 5 min. */
export const BACKOFF = { firstMs: 1_000, maxMs: 300_000 } as const;

/** Wait before the n-th retry (1-based) after a function error: 1 min, then 2 min. */
export const RETRY_STEP_MS = 60_000;

/** Delay after the `backoffs`-th throttle or platform failure in a row (1-based). */
export function backoffDelayMs(backoffs: number): number {
  const exponent = Math.max(0, Math.min(backoffs - 1, 30));
  return Math.min(BACKOFF.firstMs * 2 ** exponent, BACKOFF.maxMs);
}

/** Delay before retry number `retry` (1-based) after a function error. */
export function retryDelayMs(retry: number): number {
  return RETRY_STEP_MS * retry;
}

/** When the event stops being worth running. */
export function expiresAtMs(event: AsyncEvent, settings: AsyncSettings): number {
  return event.enqueuedMs + settings.maximumEventAgeMs;
}

/** What one attempt came to, as the dispatcher classifies it. */
export type AttemptOutcome =
  | { readonly kind: 'success'; readonly response: Buffer; readonly executedVersion: string }
  | {
      readonly kind: 'function-error';
      readonly response: Buffer;
      readonly executedVersion: string;
      readonly error: AsyncEventError;
    }
  /** Throttled (429) or a platform failure: the function did not run; try again later. */
  | { readonly kind: 'retry-later'; readonly error: AsyncEventError }
  /** The function cannot take the event at all (deleted, …): fail without running. */
  | { readonly kind: 'refused'; readonly error: AsyncEventError };

/**
 * Before an attempt (the event is Running, just claimed): the finished event when it must not
 * run — too old (Expired), or its function has reserved concurrency 0 (Failed at once, as AWS
 * sends such events straight to the failure path) — else undefined: run it.
 */
export function beforeAttempt(
  event: AsyncEvent,
  settings: AsyncSettings,
  reservedConcurrency: number | undefined,
  nowMs: number,
): AsyncEvent | undefined {
  if (nowMs >= expiresAtMs(event, settings)) {
    return transition(event, 'Expired', {
      condition: 'EventAgeExceeded',
      finishedMs: nowMs,
      nextAttemptMs: undefined,
    });
  }
  if (reservedConcurrency === 0) {
    return transition(event, 'Failed', {
      condition: 'RetriesExhausted',
      finishedMs: nowMs,
      nextAttemptMs: undefined,
      error: {
        errorType: 'TooManyRequestsException',
        errorMessage:
          'Rate Exceeded. The function has reserved concurrency 0 (ReservedFunctionConcurrentInvocationLimitExceeded): events go to the failure path without running.',
      },
    });
  }
  return undefined;
}

/** The event after an attempt that ended with `outcome` at `nowMs`. */
export function afterAttempt(
  event: AsyncEvent,
  outcome: AttemptOutcome,
  settings: AsyncSettings,
  nowMs: number,
): AsyncEvent {
  const finished = { finishedMs: nowMs, nextAttemptMs: undefined } as const;
  switch (outcome.kind) {
    case 'success':
      return transition(event, 'Succeeded', {
        ...finished,
        ...ran(event, nowMs, outcome.response, outcome.executedVersion, undefined),
        condition: 'Success',
        error: undefined,
      });
    case 'refused':
      return transition(event, 'Failed', {
        ...finished,
        condition: 'RetriesExhausted',
        error: outcome.error,
      });
    case 'retry-later': {
      const backoffs = event.backoffs + 1;
      const due = Math.min(nowMs + backoffDelayMs(backoffs), expiresAtMs(event, settings));
      const throttled = outcome.error.errorType === 'TooManyRequestsException';
      return transition(event, event.attempts === 0 ? 'Queued' : 'Retrying', {
        backoffs,
        throttles: event.throttles + (throttled ? 1 : 0),
        nextAttemptMs: due,
        error: outcome.error,
      });
    }
    case 'function-error': {
      const after = {
        ...ran(event, nowMs, outcome.response, outcome.executedVersion, 'Unhandled'),
        error: outcome.error,
      };
      const retriesUsed = event.attempts; // attempts before this one
      if (retriesUsed >= settings.maximumRetryAttempts) {
        return transition(event, 'Failed', {
          ...finished,
          ...after,
          condition: 'RetriesExhausted',
        });
      }
      const due = nowMs + retryDelayMs(retriesUsed + 1);
      // AWS looks ahead: a retry that would start after the event's maximum age is not made.
      if (due > expiresAtMs(event, settings)) {
        return transition(event, 'Expired', {
          ...finished,
          ...after,
          condition: 'EventAgeExceeded',
        });
      }
      return transition(event, 'Retrying', { ...after, nextAttemptMs: due });
    }
  }
}

function ran(
  event: AsyncEvent,
  nowMs: number,
  response: Buffer,
  executedVersion: string,
  functionError: string | undefined,
): Partial<AsyncEvent> {
  return {
    attempts: event.attempts + 1,
    backoffs: 0,
    lastAttemptMs: nowMs,
    response,
    executedVersion,
    functionError,
  };
}

/** The destination an event's final state goes to, if its settings name one. */
export function destinationFor(event: AsyncEvent, settings: AsyncSettings): string | undefined {
  if (event.status === 'Succeeded') return settings.onSuccess;
  if (event.status === 'Failed' || event.status === 'Expired') return settings.onFailure;
  return undefined;
}
