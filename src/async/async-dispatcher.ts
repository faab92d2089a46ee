/**
 * The workers of the asynchronous queue: claims due events from the store (never more than
 * `concurrency` at once, nor more of one function than its reserved concurrency), runs each
 * through the synchronous invoke path so admission rules apply, and records what happened in the
 * same commit as any destination event. It sleeps until an enqueue wakes it or the next event
 * falls due on the injected clock; it never polls.
 */
import { functionArn, type Scope } from '../core/arn.js';
import type { Clock } from '../core/clock.js';
import { LambdaError } from '../core/errors.js';
import { LATEST } from '../core/function-model.js';
import { parseFunctionName } from '../core/function-name.js';
import type { IdSource } from '../core/ids.js';
import { childTraceHeader, newSpanId, parseXRayHeader } from '../core/trace-context.js';
import { randomHex } from '../core/trace-ids.js';
import { newEvent, transition, type AsyncEvent, type AsyncEventError } from './async-event.js';
import { DueTimer } from '../core/due-timer.js';
import { invocationRecord } from './invocation-record.js';
import type { AsyncEventStore, AsyncTargets, EventInvoker } from './ports.js';
import type { AsyncObserver } from '../core/platform-events.js';
import {
  afterAttempt,
  backoffDelayMs,
  beforeAttempt,
  destinationFor,
  narrowedBy,
  type AsyncSettings,
  type AttemptOutcome,
} from './retry-policy.js';

export interface AsyncDispatcherDeps {
  readonly scope: Scope;
  readonly store: AsyncEventStore;
  readonly invoker: EventInvoker;
  readonly targets: AsyncTargets;
  readonly clock: Clock;
  readonly ids: IdSource;
  /** Most events running at once. */
  readonly concurrency: number;
  /** Reports an unexpected failure (the server logs it). */
  readonly onError: (error: unknown, requestId: string | undefined) => void;
  /** Hears of attempts (and the event's age), drops, destination events and their failures. */
  readonly observer?: AsyncObserver | undefined;
}

export class AsyncDispatcher {
  readonly #d: AsyncDispatcherDeps;
  readonly #timer: DueTimer;
  readonly #perFunction = new Map<string, number>();
  readonly #inFlight = new Set<Promise<void>>();
  #running = 0;
  #pumping = false;
  #again = false;
  #started = false;
  #stopping = false;

  constructor(deps: AsyncDispatcherDeps) {
    this.#d = deps;
    this.#timer = new DueTimer(deps.clock, () => this.wake());
  }

  /** Events running now. */
  get running(): number {
    return this.#running;
  }

  /** Puts events a crash left Running back in the queue, then starts draining it. */
  async start(): Promise<number> {
    const requeued = await this.#d.store.requeueRunning(this.#d.clock.now());
    this.#started = true;
    this.wake();
    return requeued;
  }

  /** Looks for due events now (after an enqueue, a finished attempt, or a timer). */
  wake(): void {
    if (!this.#started || this.#stopping) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    void this.#pump();
  }

  /**
   * Stops claiming at once; resolves when the attempts under way have been recorded. Attempts
   * that fail while stopping (their environments are being stopped) go back to the queue without
   * using a retry.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#timer.cancel();
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        for (;;) {
          const free = this.#d.concurrency - this.#running;
          if (free <= 0 || this.#stopping) break;
          const claimed = await this.#d.store.claimDue(
            this.#d.clock.now(),
            free,
            this.#saturated(),
            (name) => this.#room(name),
          );
          for (const event of claimed) this.#begin(event);
          if (claimed.length < free) break;
        }
        if (!this.#stopping && this.#running < this.#d.concurrency) {
          this.#timer.at(await this.#d.store.nextDueMs(this.#saturated()));
        }
      } while (this.#again && !this.#stopping);
    } catch (error) {
      this.#d.onError(error, undefined);
      this.#timer.at(this.#d.clock.now() + 1000);
    } finally {
      this.#pumping = false;
    }
  }

  /** How many more events of the function may run now (its reserved concurrency less its own). */
  #room(name: string): number {
    const reserved = this.#d.targets.reservedConcurrency(name);
    if (reserved === undefined || reserved <= 0) return Infinity;
    return reserved - (this.#perFunction.get(name) ?? 0);
  }

  /** Functions with as many events running as their reserved concurrency allows. */
  #saturated(): string[] {
    return [...this.#perFunction.keys()].filter((name) => this.#room(name) <= 0);
  }

  #begin(event: AsyncEvent): void {
    const name = event.functionName;
    this.#running += 1;
    this.#perFunction.set(name, (this.#perFunction.get(name) ?? 0) + 1);
    const attempt = this.#attempt(event).finally(() => {
      this.#running -= 1;
      const left = (this.#perFunction.get(name) ?? 1) - 1;
      if (left === 0) this.#perFunction.delete(name);
      else this.#perFunction.set(name, left);
      this.#inFlight.delete(attempt);
      this.wake();
    });
    this.#inFlight.add(attempt);
  }

  async #attempt(event: AsyncEvent): Promise<void> {
    try {
      const settings = narrowedBy(
        await this.#d.targets.settings(event.functionName, event.qualifier),
        event.limits,
      );
      const reserved = this.#d.targets.reservedConcurrency(event.functionName);
      let next = beforeAttempt(event, settings, reserved, this.#d.clock.now());
      if (next === undefined) {
        // The observer is told the attempt's own header: its Parent is what the attempt's
        // invocation report names, so concurrent attempts of one trace are not confused.
        const traceHeader = attemptTraceHeader(event);
        this.#d.observer?.attemptStarted(
          event.functionName,
          event.qualifier,
          this.#d.clock.now() - event.enqueuedMs,
          traceHeader,
          event.traceHeader,
        );
        const outcome = await this.#run(event, traceHeader);
        next =
          this.#stopping && outcome.kind !== 'success'
            ? requeue(event, this.#d.clock.now())
            : afterAttempt(event, outcome, settings, this.#d.clock.now());
      }
      const followUps = this.#followUps(next, settings);
      await this.#d.store.update(next, followUps);
      this.#recorded(next, followUps);
    } catch (error) {
      this.#d.onError(error, event.requestId);
      // Leave it to a later try; if even this write fails the event stays Running and the next
      // start puts it back.
      const backoffs = event.backoffs + 1;
      const later = transition(event, event.attempts === 0 ? 'Queued' : 'Retrying', {
        backoffs,
        nextAttemptMs: this.#d.clock.now() + backoffDelayMs(backoffs),
      });
      await this.#d.store
        .update(later, [])
        .catch((e: unknown) => this.#d.onError(e, event.requestId));
    }
  }

  async #run(event: AsyncEvent, traceHeader: string | undefined): Promise<AttemptOutcome> {
    try {
      const result = await this.#d.invoker.invoke({
        requestId: event.requestId,
        functionName: event.functionName,
        qualifier: event.qualifier,
        payload: event.payload,
        clientContext: event.clientContext,
        logTail: false,
        trigger: event.trigger,
        traceHeader,
      });
      const response = result.outcome.payload;
      if (result.outcome.kind === 'success')
        return { kind: 'success', response, executedVersion: result.executedVersion };
      return {
        kind: 'function-error',
        response,
        executedVersion: result.executedVersion,
        error: functionErrorOf(response),
      };
    } catch (error) {
      return classify(error);
    }
  }

  /** The destination event of a finished event (inserted in the same commit), if configured. */
  #followUps(event: AsyncEvent, settings: AsyncSettings): AsyncEvent[] {
    const destination = destinationFor(event, settings);
    if (destination === undefined) return [];
    try {
      const target = parseFunctionName(destination, undefined, this.#d.scope);
      const arn = functionArn(this.#d.scope, event.functionName, event.qualifier ?? LATEST);
      const record = invocationRecord(event, arn);
      return [
        newEvent({
          requestId: this.#d.ids.uuid(),
          functionName: target.name,
          qualifier: target.qualifier,
          payload: Buffer.from(JSON.stringify(record)),
          clientContext: undefined,
          nowMs: this.#d.clock.now(),
          // The destination's invocation continues the event's trace.
          traceHeader: event.traceHeader,
        }),
      ];
    } catch (error) {
      this.#d.onError(error, event.requestId);
      this.#d.observer?.destinationFailed(event.functionName, event.qualifier);
      return [];
    }
  }

  /** Tells the observer what a committed state means: destination events queued, a drop. */
  #recorded(event: AsyncEvent, followUps: readonly AsyncEvent[]): void {
    const observer = this.#d.observer;
    if (observer === undefined) return;
    for (const followUp of followUps) observer.received(followUp.functionName, followUp.qualifier);
    const dropped = event.status === 'Failed' || event.status === 'Expired';
    if (dropped && event.condition !== undefined && event.condition !== 'Success')
      observer.dropped(event.functionName, event.qualifier, event.condition);
  }
}

/**
 * The trace header one attempt runs with: the event's trace under a new parent span, the
 * attempt's time in the queue (the platform's `Dwell Time` span), so the attempts of an event are
 * told apart within its trace. Undefined for an event stored without a trace.
 */
export function attemptTraceHeader(event: AsyncEvent): string | undefined {
  const trace = parseXRayHeader(event.traceHeader);
  return trace === undefined ? undefined : childTraceHeader(trace, newSpanId(randomHex));
}

/** An interrupted attempt goes back as if it had not run. */
function requeue(event: AsyncEvent, nowMs: number): AsyncEvent {
  return transition(event, event.attempts === 0 ? 'Queued' : 'Retrying', { nextAttemptMs: nowMs });
}

/** Why an invoke that did not produce a response failed, and what the queue does about it. */
export function classify(error: unknown): AttemptOutcome {
  if (error instanceof LambdaError) {
    const reason = error.extras.reason === undefined ? '' : ` (${error.extras.reason})`;
    const described = { errorType: error.code, errorMessage: `${error.message}${reason}` };
    // The catalogue says which errors pass (throttles, a function being updated, platform
    // failures); the others (the function is gone, …) never will.
    return { kind: error.spec.retryable ? 'retry-later' : 'refused', error: described };
  }
  return {
    kind: 'retry-later',
    error: {
      errorType: 'ServiceException',
      errorMessage: error instanceof Error ? error.message : String(error),
    },
  };
}

/** `errorType` / `errorMessage` of a function error document (Node, Python, platform). */
export function functionErrorOf(payload: Buffer): AsyncEventError {
  try {
    const parsed = JSON.parse(payload.toString('utf8')) as {
      errorType?: unknown;
      errorMessage?: unknown;
    };
    return {
      errorType: typeof parsed.errorType === 'string' ? parsed.errorType : 'Unhandled',
      errorMessage: typeof parsed.errorMessage === 'string' ? parsed.errorMessage : '',
    };
  } catch {
    return { errorType: 'Unhandled', errorMessage: payload.toString('utf8').slice(0, 1024) };
  }
}
