/**
 * Hands the asynchronous queue's and the mappings' events to every part that counts them (the
 * Prometheus counters, the CloudWatch minutes, the spans). One that throws is reported; the others
 * still hear of it.
 */
import type {
  AsyncDropReason,
  AsyncObserver,
  MappingBatch,
  MappingObserver,
} from '../core/platform-events.js';

export class PlatformEventFanout implements AsyncObserver, MappingObserver {
  readonly #async: AsyncObserver[] = [];
  readonly #mappings: MappingObserver[] = [];
  readonly #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void) {
    this.#onError = onError;
  }

  addAsync(observer: AsyncObserver): void {
    this.#async.push(observer);
  }

  addMappings(observer: MappingObserver): void {
    this.#mappings.push(observer);
  }

  received(functionName: string, qualifier: string | undefined): void {
    this.#each(this.#async, (o) => o.received(functionName, qualifier));
  }

  attemptStarted(
    functionName: string,
    qualifier: string | undefined,
    ageMs: number,
    traceHeader?: string,
    eventTraceHeader?: string,
  ): void {
    this.#each(this.#async, (o) =>
      o.attemptStarted(functionName, qualifier, ageMs, traceHeader, eventTraceHeader),
    );
  }

  dropped(functionName: string, qualifier: string | undefined, reason: AsyncDropReason): void {
    this.#each(this.#async, (o) => o.dropped(functionName, qualifier, reason));
  }

  destinationFailed(functionName: string, qualifier: string | undefined): void {
    this.#each(this.#async, (o) => o.destinationFailed(functionName, qualifier));
  }

  deadLetterFailed(functionName: string, qualifier: string | undefined): void {
    this.#each(this.#async, (o) => o.deadLetterFailed(functionName, qualifier));
  }

  batchDone(batch: MappingBatch): void {
    this.#each(this.#mappings, (o) => o.batchDone(batch));
  }

  #each<T>(observers: readonly T[], call: (observer: T) => void): void {
    for (const observer of observers) {
      try {
        call(observer);
      } catch (error) {
        this.#onError(error);
      }
    }
  }
}
