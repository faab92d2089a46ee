/**
 * What the asynchronous queue and the event source mappings tell the metrics about, beside the
 * invocations themselves (core/invocation-report.ts). Each is a port the queue and the mappings
 * call; the server wires the metrics (Prometheus, CloudWatch) behind them. Calls must be quick and
 * must not throw.
 */

/** Why an asynchronous event was dropped without being processed. */
export type AsyncDropReason = 'RetriesExhausted' | 'EventAgeExceeded';

/** The asynchronous queue's events (AsyncEventsReceived, AsyncEventAge, AsyncEventsDropped, …). */
export interface AsyncObserver {
  /** Accepted into the queue (a 202 Event invoke, a schedule's fire, a destination's event). */
  received(functionName: string, qualifier: string | undefined): void;
  /**
   * An attempt starts, `ageMs` after the event was accepted. `traceHeader` is the X-Ray header
   * the attempt runs with: its Parent is the attempt's own span (its time in the queue), which the
   * invocation's report names as `callerSpanId`, so a report finds its attempt and no other.
   * `eventTraceHeader` is the header the event was accepted with (its Parent, the caller's span).
   */
  attemptStarted(
    functionName: string,
    qualifier: string | undefined,
    ageMs: number,
    traceHeader?: string,
    eventTraceHeader?: string,
  ): void;
  /** Finished without success (after its retries, or too old). */
  dropped(functionName: string, qualifier: string | undefined, reason: AsyncDropReason): void;
  /** Its destination could not be given the invocation record. */
  destinationFailed(functionName: string, qualifier: string | undefined): void;
  /** Its dead-letter target could not be given the event. */
  deadLetterFailed(functionName: string, qualifier: string | undefined): void;
}

/** One batch an event source mapping handed to its function. */
export interface MappingBatch {
  readonly functionName: string;
  readonly qualifier: string | undefined;
  readonly mappingUuid: string;
  /** The broker kind (`rabbitmq`, `nats`, `redis`, …). */
  readonly source: string;
  readonly records: number;
  /** How old the batch's newest record was when the batch was invoked (IteratorAge), in ms. */
  readonly iteratorAgeMs: number | undefined;
  readonly outcome: 'success' | 'error';
  readonly startMs: number;
  readonly endMs: number;
  /** The trace header the batch's invocation ran with. */
  readonly traceHeader?: string | undefined;
}

/** The mappings' events (IteratorAge, batch counts). */
export interface MappingObserver {
  batchDone(batch: MappingBatch): void;
}
