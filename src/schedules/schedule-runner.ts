/**
 * Fires schedules when they are due. Each schedule's next due time is stored; the runner sleeps
 * on a DueTimer (the injected clock) until the earliest one, fires what is due by handing each
 * fire to the function's asynchronous queue, and records the next occurrence. It never polls.
 *
 * Order and crashes: a fire is enqueued first and recorded second, so a crash between the two
 * never loses it; the fire comes round again at the next start with the same request id (derived
 * from the schedule and the occurrence), the queue already holds it, and it is only recorded —
 * so it does not run twice either. A schedule due while the server was down fires once when it
 * starts, and its next fire is the first occurrence after that (fire-plan.ts).
 *
 * A fire the queue refuses (the function is missing or not Active) is kept as a pending delivery
 * and tried again under the schedule's RetryPolicy, then sent to its dead-letter function.
 */
import { createHash } from 'node:crypto';
import type { Scope } from '../core/arn.js';
import type { Clock } from '../core/clock.js';
import { DueTimer } from '../core/due-timer.js';
import { LambdaError } from '../core/errors.js';
import { SCHEDULER_LIMITS, type FireTiming, type Schedule } from '../core/schedule.js';
import {
  afterFailedTry,
  deadLetterEvent,
  type DeliveryError,
  type ExhaustedCondition,
  type PendingDelivery,
} from './delivery-policy.js';
import { fireAfter, isComplete, type RandomSource } from './fire-plan.js';
import type { FireSink, ScheduleRepository } from './ports.js';
import type { AsyncObserver } from '../core/platform-events.js';
import { functionOf } from './schedule-rules.js';

export interface ScheduleRunnerDeps {
  readonly scope: Scope;
  readonly repository: ScheduleRepository;
  readonly sink: FireSink;
  readonly clock: Clock;
  readonly random: RandomSource;
  /** Reports an unexpected failure, or a fire dropped for want of a dead-letter target. */
  readonly onError: (error: unknown, scheduleArn: string | undefined) => void;
  /** Hears of fires its dead-letter target refused too (DeadLetterErrors). */
  readonly observer?: Pick<AsyncObserver, 'deadLetterFailed'> | undefined;
}

/** Schedules (and deliveries) handled per read of the store. */
const BATCH = 100;
/** Wait before looking again after a pass that failed (the store, say). */
const AFTER_FAILURE_MS = 1_000;

export class ScheduleRunner {
  readonly #d: ScheduleRunnerDeps;
  readonly #timer: DueTimer;
  #pumping: Promise<void> | undefined;
  #again = false;
  #started = false;
  #stopping = false;

  constructor(deps: ScheduleRunnerDeps) {
    this.#d = deps;
    this.#timer = new DueTimer(deps.clock, () => this.wake());
  }

  /** Fires what fell due while the server was down (once each), then what falls due later. */
  start(): void {
    this.#started = true;
    this.wake();
  }

  /** Looks at the store again now (after a change through the API, or when the timer fires). */
  wake(): void {
    if (!this.#started || this.#stopping) return;
    if (this.#pumping !== undefined) {
      this.#again = true;
      return;
    }
    this.#pumping = this.#pump().finally(() => {
      this.#pumping = undefined;
    });
  }

  /** Resolves once no pass is under way (tests: after `wake`, every due fire is recorded). */
  async idle(): Promise<void> {
    while (this.#pumping !== undefined) await this.#pumping;
  }

  /** Fires nothing more; resolves once the pass under way has recorded its fires. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#timer.cancel();
    await this.#pumping;
  }

  async #pump(): Promise<void> {
    do {
      this.#again = false;
      let failed = false;
      try {
        for (;;) {
          if (this.#stopping) return;
          const now = this.#d.clock.now();
          const due = await this.#d.repository.due(now, BATCH);
          const fired = await Promise.all(due.map((schedule) => this.#fire(schedule, now)));
          const retries = await this.#d.repository.dueDeliveries(now, BATCH);
          const retried = await Promise.all(retries.map((delivery) => this.#retry(delivery, now)));
          failed = [...fired, ...retried].includes(false);
          if (failed || (due.length < BATCH && retries.length < BATCH)) break;
        }
        if (this.#stopping) return;
        const next = await this.#d.repository.nextDueMs();
        this.#timer.at(
          failed && next !== undefined
            ? Math.max(next, this.#d.clock.now() + AFTER_FAILURE_MS)
            : next,
        );
      } catch (error) {
        this.#d.onError(error, undefined);
        this.#timer.at(this.#d.clock.now() + AFTER_FAILURE_MS);
      }
    } while (this.#again && !this.#stopping);
  }

  /** Fires one due schedule and records it; false when something failed (reported). */
  async #fire(schedule: Schedule, nowMs: number): Promise<boolean> {
    try {
      const occurrence = schedule.nextFireMs ?? nowMs;
      const { target } = schedule;
      const id = fireId(schedule.uid, occurrence);
      const payload = target.input ?? '{}';
      let retry: PendingDelivery | undefined;
      try {
        await this.#d.sink.deliver({
          requestId: id,
          functionName: target.functionName,
          qualifier: target.qualifier,
          payload: Buffer.from(payload),
          retryPolicy: target.retryPolicy,
        });
      } catch (error) {
        const delivery: PendingDelivery = {
          id,
          scheduleArn: schedule.arn,
          groupName: schedule.groupName,
          scheduleName: schedule.name,
          functionName: target.functionName,
          qualifier: target.qualifier,
          targetArn: target.arn,
          payload,
          retryPolicy: target.retryPolicy,
          deadLetterArn: target.deadLetterArn,
          occurrenceMs: occurrence,
          firstTryMs: nowMs,
          tries: 1,
          nextTryMs: nowMs,
          lastError: describe(error),
        };
        retry = await this.#afterFailure(delivery, nowMs);
      }
      const after: FireTiming = fireAfter(schedule, occurrence, nowMs, this.#d.random);
      const finished = isComplete(after) && schedule.actionAfterCompletion === 'DELETE';
      await this.#d.repository.recordFire(schedule, finished ? 'delete' : after, retry);
      return true;
    } catch (error) {
      this.#d.onError(error, schedule.arn);
      return false;
    }
  }

  /** Tries a pending delivery again; false when something failed (reported). */
  async #retry(delivery: PendingDelivery, nowMs: number): Promise<boolean> {
    try {
      try {
        await this.#d.sink.deliver({
          requestId: delivery.id,
          functionName: delivery.functionName,
          qualifier: delivery.qualifier,
          payload: Buffer.from(delivery.payload),
          retryPolicy: delivery.retryPolicy,
        });
      } catch (error) {
        const failed = { ...delivery, tries: delivery.tries + 1, lastError: describe(error) };
        const again = await this.#afterFailure(failed, nowMs);
        if (again !== undefined) {
          await this.#d.repository.putDelivery(again);
          return true;
        }
      }
      await this.#d.repository.deleteDelivery(delivery.id);
      return true;
    } catch (error) {
      this.#d.onError(error, delivery.scheduleArn);
      return false;
    }
  }

  /** The delivery to keep for another try, or undefined once it went to its dead-letter target. */
  async #afterFailure(
    delivery: PendingDelivery,
    nowMs: number,
  ): Promise<PendingDelivery | undefined> {
    const roomForMore =
      delivery.tries > 1 ||
      (await this.#d.repository.countDeliveries()) < SCHEDULER_LIMITS.pendingDeliveries;
    const decision = afterFailedTry({
      tries: delivery.tries,
      firstTryMs: delivery.firstTryMs,
      nowMs,
      policy: delivery.retryPolicy,
      error: delivery.lastError,
      roomForMore,
    });
    if (decision.kind === 'retry') return { ...delivery, nextTryMs: decision.atMs };
    await this.#deadLetter(delivery, decision.condition, nowMs);
    return undefined;
  }

  /** Sends a fire that could not be delivered to the schedule's dead-letter function, if any. */
  async #deadLetter(
    delivery: PendingDelivery,
    condition: ExhaustedCondition,
    nowMs: number,
  ): Promise<void> {
    const target =
      delivery.deadLetterArn === undefined
        ? undefined
        : functionOf(delivery.deadLetterArn, this.#d.scope);
    const what = `fire ${delivery.id} of ${delivery.scheduleArn} could not be delivered to ${delivery.targetArn} (${delivery.lastError.code}: ${delivery.lastError.message}; ${condition})`;
    if (target === undefined) {
      this.#d.onError(new Error(`${what}; it has no dead-letter target`), delivery.scheduleArn);
      return;
    }
    try {
      await this.#d.sink.deliver({
        requestId: fireId(delivery.id, 'dead-letter'),
        functionName: target.name,
        qualifier: target.qualifier,
        payload: Buffer.from(JSON.stringify(deadLetterEvent(delivery, condition, nowMs))),
      });
    } catch (error) {
      this.#d.observer?.deadLetterFailed(delivery.functionName, delivery.qualifier);
      const reason = error instanceof Error ? error.message : String(error);
      this.#d.onError(
        new Error(`${what}; its dead-letter target refused it too: ${reason}`),
        delivery.scheduleArn,
      );
    }
  }
}

/** A fire's request id: a UUID made from the schedule's uid and the occurrence (stable across restarts). */
export function fireId(uid: string, occurrence: number | string): string {
  const hex = createHash('sha256').update(`${uid}\u0000${occurrence}`).digest('hex');
  // Shaped as a version-5-like UUID (version and variant bits set) so clients take it as one.
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** What a refused fire says about why: the queue's error, and whether a later try may pass. */
function describe(error: unknown): DeliveryError {
  if (error instanceof LambdaError)
    return { code: error.code, message: error.message, retryable: error.spec.retryable };
  return {
    code: 'InternalServerException',
    message: error instanceof Error ? error.message : String(error),
    retryable: true,
  };
}
