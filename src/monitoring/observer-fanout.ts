/**
 * Hands each invocation's report, and each throttle, to every part that watches invocations (the
 * invocation records, the metrics, the usage meter, the spans). One that throws is reported and
 * the others still hear of it: watching must never break an invoke.
 */
import type { InvocationReport, InvocationThrottle } from '../core/invocation-report.js';
import type { InvocationObserver } from '../invoke/ports.js';

export class ObserverFanout implements InvocationObserver {
  readonly #observers: InvocationObserver[] = [];
  readonly #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  add(observer: InvocationObserver): void {
    this.#observers.push(observer);
  }

  ended(report: InvocationReport): void {
    for (const observer of this.#observers) {
      try {
        observer.ended(report);
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  throttled(throttle: InvocationThrottle): void {
    for (const observer of this.#observers) {
      try {
        observer.throttled(throttle);
      } catch (error) {
        this.#onError(error);
      }
    }
  }
}
