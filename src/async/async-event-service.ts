/**
 * Accepting asynchronous invocations (durably, before the 202), looking events up, listing a
 * function's events, replaying one, and pruning finished events after the retention period.
 */
import type { Scope } from '../core/arn.js';
import type { Clock } from '../core/clock.js';
import { LambdaError, lambdaErrors } from '../core/errors.js';
import { parseFunctionName } from '../core/function-name.js';
import type { IdSource } from '../core/ids.js';
import { formatXRayHeader, newTraceId, parseXRayHeader } from '../core/trace-context.js';
import { randomHex } from '../core/trace-ids.js';
import { constraint, validationMessage } from '../core/validation-message.js';
import {
  ASYNC_EVENT_STATUSES,
  newEvent,
  type AsyncEvent,
  type AsyncEventStatus,
  type AsyncLimits,
  type AsyncTrigger,
} from './async-event.js';
import { DueTimer } from '../core/due-timer.js';
import type { AsyncEventStore, AsyncTargets } from './ports.js';
import type { AsyncObserver } from '../core/platform-events.js';

/** One Event invoke as the API hands it over. */
export interface EventRequest {
  /** The id answered in `x-amzn-RequestId`; the function sees it as `awsRequestId`. */
  readonly requestId: string;
  readonly functionName: string;
  readonly qualifier: string | undefined;
  readonly payload: Buffer;
  readonly clientContext: string | undefined;
  /** The sender's limits on retries (a schedule's RetryPolicy), if any. */
  readonly limits?: AsyncLimits | undefined;
  /** The caller's X-Ray trace header, if any (a new trace is started without). */
  readonly traceHeader?: string | undefined;
  /** What sends it (default: an `Event` invoke). */
  readonly trigger?: AsyncTrigger | undefined;
}

export interface AsyncEventServiceDeps {
  readonly scope: Scope;
  readonly store: AsyncEventStore;
  readonly targets: AsyncTargets;
  readonly clock: Clock;
  readonly ids: IdSource;
  /** Told after each commit of new events (the dispatcher's `wake`). */
  readonly onEnqueued: () => void;
  /** How long finished events are kept (ms). */
  readonly retentionMs: number;
  readonly onError: (error: unknown) => void;
  /** Hears of each accepted event (AsyncEventsReceived). */
  readonly observer?: Pick<AsyncObserver, 'received'> | undefined;
}

/** ListAsyncEvents page size: default and largest. */
export const EVENT_LIST_LIMITS = { default: 50, max: 1000 } as const;

export class AsyncEventService {
  readonly #d: AsyncEventServiceDeps;
  readonly #pruneTimer: DueTimer;

  constructor(deps: AsyncEventServiceDeps) {
    this.#d = deps;
    this.#pruneTimer = new DueTimer(deps.clock, () => void this.#pruneAndRearm());
  }

  /** Stores the event; resolves only once it is committed (then the caller may answer 202). */
  async accept(request: EventRequest, replayOf?: string): Promise<AsyncEvent> {
    const target = await this.#d.targets.resolve(request.functionName, request.qualifier);
    const nowMs = this.#d.clock.now();
    const event = newEvent({
      requestId: request.requestId,
      functionName: target.name,
      qualifier: target.qualifier,
      payload: request.payload,
      clientContext: request.clientContext,
      nowMs,
      replayOf,
      limits: request.limits,
      traceHeader: eventTrace(request.traceHeader, nowMs),
      trigger: request.trigger,
    });
    await this.#d.store.insert([event]);
    this.#d.onEnqueued();
    this.#d.observer?.received(event.functionName, event.qualifier);
    return event;
  }

  async get(requestId: string): Promise<AsyncEvent> {
    const event = await this.#d.store.get(requestId);
    if (event === undefined) throw notFound(requestId);
    return event;
  }

  /** A function's events, newest first (`marker` is the previous page's `NextMarker`). */
  async list(
    functionName: string,
    status: string | undefined,
    marker: string | undefined,
    maxItems: number | undefined,
  ): Promise<{ events: readonly AsyncEvent[]; nextMarker: string | undefined }> {
    const { name } = parseFunctionName(functionName, undefined, this.#d.scope);
    if (status !== undefined && !(ASYNC_EVENT_STATUSES as readonly string[]).includes(status)) {
      throw lambdaErrors.validation(
        validationMessage([
          {
            field: 'status',
            value: status,
            constraint: constraint.enumeration(ASYNC_EVENT_STATUSES),
          },
        ]),
      );
    }
    if (
      maxItems !== undefined &&
      (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > EVENT_LIST_LIMITS.max)
    ) {
      throw lambdaErrors.validation(
        validationMessage([
          {
            field: 'maxItems',
            value: Number.isNaN(maxItems) ? 'NaN' : maxItems,
            constraint: maxItems < 1 ? constraint.min(1) : constraint.max(EVENT_LIST_LIMITS.max),
          },
        ]),
      );
    }
    const page = await this.#d.store.list(
      name,
      status as AsyncEventStatus | undefined,
      marker === undefined ? undefined : decodeMarker(marker),
      maxItems ?? EVENT_LIST_LIMITS.default,
    );
    return {
      events: page.events,
      nextMarker: page.nextCursor === undefined ? undefined : encodeMarker(page.nextCursor),
    };
  }

  /** A new event with the same function, qualifier and payload; its function must still exist. */
  async replay(requestId: string): Promise<AsyncEvent> {
    const original = await this.get(requestId);
    return this.accept(
      {
        requestId: this.#d.ids.uuid(),
        functionName: original.functionName,
        qualifier: original.qualifier,
        payload: original.payload,
        clientContext: original.clientContext,
        limits: original.limits,
        trigger: original.trigger,
      },
      original.requestId,
    );
  }

  /** Deletes events finished longer ago than the retention period; returns how many. */
  async prune(): Promise<number> {
    return this.#d.store.pruneFinished(this.#d.clock.now() - this.#d.retentionMs);
  }

  /** Prunes now and then periodically (every tenth of the retention, between 1 min and 1 h). */
  startPruning(): void {
    void this.#pruneAndRearm();
  }

  stopPruning(): void {
    this.#pruneTimer.cancel();
  }

  async #pruneAndRearm(): Promise<void> {
    // From when this pass started: a clock jump during the pass is not lost.
    const started = this.#d.clock.now();
    try {
      await this.prune();
    } catch (error) {
      this.#d.onError(error);
    }
    const every = Math.min(Math.max(this.#d.retentionMs / 10, 60_000), 3_600_000);
    this.#pruneTimer.at(started + every);
  }
}

/**
 * The trace an accepted event keeps: the caller's (already an X-Ray header), or a new Root with
 * no decision, so that its attempts and its destination's event share one trace and each
 * function's TracingConfig decides whether it is sampled.
 */
function eventTrace(callerHeader: string | undefined, nowMs: number): string {
  const caller = parseXRayHeader(callerHeader);
  return formatXRayHeader(
    caller ?? { traceId: newTraceId(nowMs, randomHex), parentId: undefined, sampled: undefined },
  );
}

function notFound(requestId: string): LambdaError {
  return new LambdaError('ResourceNotFoundException', `Async event not found: ${requestId}`);
}

function encodeMarker(cursor: number): string {
  return Buffer.from(JSON.stringify({ before: cursor })).toString('base64url');
}

function decodeMarker(marker: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(marker, 'base64url').toString('utf8')) as {
      before?: unknown;
    };
    if (typeof parsed.before === 'number' && Number.isInteger(parsed.before)) return parsed.before;
  } catch {
    // fall through
  }
  throw lambdaErrors.invalidParameter(`Invalid Marker: ${marker}`);
}
