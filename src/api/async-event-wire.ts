/** An asynchronous event as Lamina's events API shows it (AWS-style casing). */
import type { AsyncEvent } from '../async/async-event.js';
import { jsonOrText } from '../async/invocation-record.js';
import type { Scope } from '../core/arn.js';
import { functionArn } from '../core/arn.js';
import { LATEST } from '../core/function-model.js';
import { formatLastModified } from './function-wire.js';

/**
 * `{RequestId, FunctionArn, Qualifier, Status, Attempts, Throttles, EnqueuedTime, LastAttemptTime,
 * Condition, Error, Response}` (null when not applicable), plus `NextAttemptTime` while it waits,
 * `FinishedTime` once final and `ReplayOf` for replays.
 */
export function toAsyncEventView(scope: Scope, event: AsyncEvent): Record<string, unknown> {
  const time = (ms: number | undefined) => (ms === undefined ? null : formatLastModified(ms));
  const view: Record<string, unknown> = {
    RequestId: event.requestId,
    FunctionArn: functionArn(scope, event.functionName),
    Qualifier: event.qualifier ?? LATEST,
    Status: event.status,
    Attempts: event.attempts,
    Throttles: event.throttles,
    EnqueuedTime: time(event.enqueuedMs),
    LastAttemptTime: time(event.lastAttemptMs),
    Condition: event.condition ?? null,
    Error:
      event.error === undefined
        ? null
        : { errorType: event.error.errorType, errorMessage: event.error.errorMessage },
    Response: event.response === undefined ? null : jsonOrText(event.response),
  };
  if (event.nextAttemptMs !== undefined) view['NextAttemptTime'] = time(event.nextAttemptMs);
  if (event.finishedMs !== undefined) view['FinishedTime'] = time(event.finishedMs);
  if (event.replayOf !== undefined) view['ReplayOf'] = event.replayOf;
  return view;
}
