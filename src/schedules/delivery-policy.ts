/**
 * What happens to a fire that could not be handed to its function (the function is missing, not
 * Active, or the queue's store failed), as pure functions: EventBridge Scheduler's RetryPolicy
 * governs this delivery — retries with exponential backoff until MaximumRetryAttempts or
 * MaximumEventAgeInSeconds runs out — and then the DeadLetterConfig target gets the fire. Errors
 * that can never pass (the function does not exist) go to the dead-letter target at once. Once
 * handed over, a fire is the function's asynchronous event and its own retry settings apply.
 */
import type { ScheduleRetryPolicy } from '../core/schedule.js';

/** A fire waiting to be delivered again, stored with its schedule's policy at the time. */
export interface PendingDelivery {
  /** The fire's request id (derived from the schedule and the occurrence). */
  readonly id: string;
  readonly scheduleArn: string;
  readonly groupName: string;
  readonly scheduleName: string;
  readonly functionName: string;
  readonly qualifier: string | undefined;
  readonly targetArn: string;
  readonly payload: string;
  readonly retryPolicy: ScheduleRetryPolicy;
  readonly deadLetterArn: string | undefined;
  /** The occurrence the fire was for, and when the first try was made (the event's age counts from it). */
  readonly occurrenceMs: number;
  readonly firstTryMs: number;
  /** Tries so far (the first one included). */
  readonly tries: number;
  readonly nextTryMs: number;
  readonly lastError: DeliveryError;
}

export interface DeliveryError {
  readonly code: string;
  readonly message: string;
  /** Whether a later try might pass (throttles, a function being prepared, a store failure). */
  readonly retryable: boolean;
}

/** Why a fire ended up with its dead-letter target. */
export type ExhaustedCondition = 'MaximumRetryAttemptsExhausted' | 'MaximumEventAgeExhausted';

/** First backoff after a failed try, doubling each time up to the cap (ms). */
export const DELIVERY_BACKOFF = { firstMs: 1_000, maxMs: 300_000 } as const;

/** The wait after the `tries`-th failed try (1-based). */
export function deliveryBackoffMs(tries: number): number {
  const exponent = Math.max(0, Math.min(tries - 1, 30));
  return Math.min(DELIVERY_BACKOFF.firstMs * 2 ** exponent, DELIVERY_BACKOFF.maxMs);
}

/** What to do after a failed try. */
export type DeliveryDecision =
  | { readonly kind: 'retry'; readonly atMs: number }
  | { readonly kind: 'dead-letter'; readonly condition: ExhaustedCondition };

/**
 * After try number `tries` (1-based) failed with `error` at `nowMs`: try again, or give up. A try
 * that would start after the event's maximum age is not made; nor one past the pending-delivery
 * quota (`roomForMore` false).
 */
export function afterFailedTry(input: {
  readonly tries: number;
  readonly firstTryMs: number;
  readonly nowMs: number;
  readonly policy: ScheduleRetryPolicy;
  readonly error: DeliveryError;
  readonly roomForMore: boolean;
}): DeliveryDecision {
  const { tries, policy } = input;
  if (!input.error.retryable || !input.roomForMore || tries > policy.maximumRetryAttempts)
    return { kind: 'dead-letter', condition: 'MaximumRetryAttemptsExhausted' };
  const atMs = input.nowMs + deliveryBackoffMs(tries);
  if (atMs > input.firstTryMs + policy.maximumEventAgeSeconds * 1000)
    return { kind: 'dead-letter', condition: 'MaximumEventAgeExhausted' };
  return { kind: 'retry', atMs };
}

/**
 * What the dead-letter function receives (Lamina's own shape: AWS sends its dead-letter events to
 * SQS only). `payload` is the fire's input, parsed.
 */
export function deadLetterEvent(
  delivery: Pick<
    PendingDelivery,
    'id' | 'scheduleArn' | 'targetArn' | 'payload' | 'occurrenceMs' | 'tries' | 'lastError'
  >,
  condition: ExhaustedCondition,
  nowMs: number,
): Record<string, unknown> {
  let payload: unknown;
  try {
    payload = JSON.parse(delivery.payload);
  } catch {
    payload = delivery.payload;
  }
  return {
    version: '1.0',
    timestamp: new Date(nowMs).toISOString(),
    scheduleArn: delivery.scheduleArn,
    targetArn: delivery.targetArn,
    invocationId: delivery.id,
    scheduledTime: new Date(delivery.occurrenceMs).toISOString(),
    errorCode: delivery.lastError.code,
    errorMessage: delivery.lastError.message,
    exhaustedRetryCondition: condition,
    retryAttempts: Math.max(0, delivery.tries - 1),
    payload,
  };
}
