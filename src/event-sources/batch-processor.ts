/**
 * One batch of a mapping, from records read to records settled: records the filters do not match
 * are settled unprocessed; records older than MaximumRecordAgeInSeconds are not sent; the rest go
 * to the function in one synchronous invocation. A failed batch (a function error, a function
 * that could not run, or the items `ReportBatchItemFailures` names) is split in two and retried
 * half by half with BisectBatchOnFunctionError, and retried after a growing pause up to
 * MaximumRetryAttempts; what still fails goes to the OnFailure destination (and is settled) or is
 * rejected to the source. In an ordered source (a stream) a failed record holds back the records
 * after it, as on Lambda; in a queue only the failed records are retried.
 */
import type { Clock } from '../core/clock.js';
import type { CompiledFilter } from '../core/event-filter.js';
import type { EventSourceMapping, MappingSettings } from '../core/event-source-mapping.js';
import type { IdSource } from '../core/ids.js';
import { LIMITS } from '../core/limits.js';
import { formatXRayHeader, newSpanId, newTraceId } from '../core/trace-context.js';
import { randomHex } from '../core/trace-ids.js';
import type { AsyncObserver, MappingObserver } from '../core/platform-events.js';
import type {
  BatchOutcome,
  FailureDestination,
  MappingInvoker,
  RecordSource,
  SourceRecord,
} from './ports.js';

const TOO_LARGE = 'A record is larger than the 6 MB an invocation may carry.';

/** Retries when MaximumRetryAttempts is -1 (or unset) and records do not expire. */
export const DEFAULT_RETRIES = 10;
const FIRST_PAUSE_MS = 1000;
const LONGEST_PAUSE_MS = 60_000;

/** The pause before retry `attempt` (1, 2, …): 1 s doubling, at most a minute. */
export function retryPauseMs(attempt: number): number {
  return Math.min(LONGEST_PAUSE_MS, FIRST_PAUSE_MS * 2 ** Math.max(0, attempt - 1));
}

/**
 * The trace of one batch's invocation: a new trace whose Parent is the batch's own span (the
 * platform's `Batch` span), with no sampling decision: the function's TracingConfig makes it.
 */
export function batchTraceHeader(nowMs: number): string {
  return formatXRayHeader({
    traceId: newTraceId(nowMs, randomHex),
    parentId: newSpanId(randomHex),
    sampled: undefined,
  });
}

/** How many retries a failed batch gets. */
export function retriesOf(settings: MappingSettings): number {
  const retries = settings.maximumRetryAttempts;
  const age = settings.maximumRecordAgeInSeconds;
  if (retries !== undefined && retries >= 0) return retries;
  // Unlimited retries are bounded by the record's age when one is set; otherwise a poison
  // record would hold its partition for ever.
  return age !== undefined && age > 0 ? Number.POSITIVE_INFINITY : DEFAULT_RETRIES;
}

export interface BatchProcessorDeps {
  readonly invoker: MappingInvoker;
  readonly destination: FailureDestination;
  readonly clock: Clock;
  readonly ids: IdSource;
  /** Waits `ms` on the injected clock; resolves false when the mapping stopped meanwhile. */
  readonly pause: (ms: number) => Promise<boolean>;
  /** The mapping's LastProcessingResult after each invocation. */
  readonly report: (result: string) => void;
  /** Hears of each batch invoked, and of failed batches its OnFailure function could not get. */
  readonly observer?: (MappingObserver & Pick<AsyncObserver, 'destinationFailed'>) | undefined;
}

export interface BatchTarget {
  readonly mapping: EventSourceMapping;
  readonly functionArn: string;
  readonly source: RecordSource;
  readonly filter: CompiledFilter;
}

/** How the records of a batch ended; undefined parts stay with the source (the mapping stopped). */
export interface Settlement {
  readonly done: SourceRecord[];
  readonly rejected: SourceRecord[];
}

type Run =
  { readonly kind: 'settled'; readonly settlement: Settlement } | { readonly kind: 'stopped' };

interface Failure {
  readonly records: readonly SourceRecord[];
  readonly condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded';
  readonly attempts: number;
  readonly outcome: BatchOutcome | undefined;
}

export class BatchProcessor {
  readonly #d: BatchProcessorDeps;

  constructor(deps: BatchProcessorDeps) {
    this.#d = deps;
  }

  /** Processes `records` (read in order); undefined when the mapping stopped before the end. */
  async process(
    target: BatchTarget,
    records: readonly SourceRecord[],
  ): Promise<Settlement | undefined> {
    const matched: SourceRecord[] = [];
    const done: SourceRecord[] = [];
    for (const record of records)
      (target.filter.matches(record.filterView) ? matched : done).push(record);
    const { fresh, expired } = this.#byAge(target.mapping.settings, matched);
    const failures: Failure[] = [];
    if (expired.length > 0)
      failures.push({
        records: expired,
        condition: 'RecordAgeExceeded',
        attempts: 0,
        outcome: undefined,
      });
    if (fresh.length > 0) {
      const run = await this.#run(target, fresh, 0, failures);
      if (run.kind === 'stopped') return undefined;
      done.push(...run.settlement.done);
    }
    const rejected: SourceRecord[] = [];
    for (const failure of failures) {
      if (await this.#sendToDestination(target, failure)) done.push(...failure.records);
      else rejected.push(...failure.records);
    }
    return { done, rejected };
  }

  /** Runs `batch` until it succeeds or its failures are recorded in `failures`. */
  async #run(
    target: BatchTarget,
    records: readonly SourceRecord[],
    retriesMade: number,
    failures: Failure[],
  ): Promise<Run> {
    let batch = records;
    const settings = target.mapping.settings;
    // Records that grew too old while a retry waited are not sent again.
    const aged = this.#byAge(settings, batch);
    if (aged.expired.length > 0) {
      failures.push({
        records: aged.expired,
        condition: 'RecordAgeExceeded',
        attempts: retriesMade,
        outcome: undefined,
      });
      if (aged.fresh.length === 0) return settled([]);
      batch = aged.fresh;
    }
    const payload = Buffer.from(JSON.stringify(target.source.eventOf(batch)));
    if (payload.length > LIMITS.invokePayloadBytes) {
      // Over Invoke's 6 MB: halves are sent instead (not a retry); one record alone that big
      // cannot be sent at all.
      if (batch.length === 1) {
        failures.push({
          records: batch,
          condition: 'RetryAttemptsExhausted',
          attempts: 0,
          outcome: { kind: 'not-invoked', reason: TOO_LARGE, passing: false },
        });
        this.#d.report(`PROBLEM: ${TOO_LARGE}`);
        return settled([]);
      }
      return this.#halves(target, batch, retriesMade, failures);
    }
    const outcome = await this.#invoke(target, payload, batch);
    const failed = failedRecords(target, batch, outcome);
    const failing = new Set(failed);
    const done = batch.filter((record) => !failing.has(record));
    if (failed.length === 0) return settled(done);
    const whole = failed.length === batch.length;
    if (settings.bisectBatchOnFunctionError === true && whole && batch.length > 1)
      // Splitting does not use up a retry, as on Lambda.
      return this.#halves(target, batch, retriesMade, failures);
    const { fresh, expired } = this.#byAge(settings, failed);
    if (expired.length > 0)
      failures.push({
        records: expired,
        condition: 'RecordAgeExceeded',
        attempts: retriesMade + 1,
        outcome,
      });
    if (fresh.length === 0) return settled(done);
    // A throttled function (or one not there for now) is tried again without using up a retry,
    // as on Lambda: its records wait rather than being given up.
    const counts = !(outcome.kind === 'not-invoked' && outcome.passing);
    if (counts && retriesMade >= retriesOf(settings)) {
      failures.push({
        records: fresh,
        condition: 'RetryAttemptsExhausted',
        attempts: retriesMade + 1,
        outcome,
      });
      return settled(done);
    }
    const next = counts ? retriesMade + 1 : retriesMade;
    if (!(await this.#d.pause(retryPauseMs(Math.max(1, next))))) return { kind: 'stopped' };
    const rest = await this.#run(target, fresh, next, failures);
    if (rest.kind === 'stopped') return rest;
    return settled([...done, ...rest.settlement.done]);
  }

  /** Runs the two halves of `batch` one after the other. */
  async #halves(
    target: BatchTarget,
    batch: readonly SourceRecord[],
    retriesMade: number,
    failures: Failure[],
  ): Promise<Run> {
    const half = Math.ceil(batch.length / 2);
    const first = await this.#run(target, batch.slice(0, half), retriesMade, failures);
    if (first.kind === 'stopped') return first;
    const second = await this.#run(target, batch.slice(half), retriesMade, failures);
    if (second.kind === 'stopped') return second;
    return settled([...first.settlement.done, ...second.settlement.done]);
  }

  async #invoke(
    target: BatchTarget,
    payload: Buffer,
    batch: readonly SourceRecord[],
  ): Promise<BatchOutcome> {
    const startMs = this.#d.clock.now();
    const traceHeader = batchTraceHeader(this.#d.clock.now());
    const outcome = await this.#d.invoker.invoke({
      requestId: this.#d.ids.uuid(),
      functionName: target.mapping.functionName,
      qualifier: target.mapping.qualifier,
      payload,
      traceHeader,
    });
    this.#d.report(
      outcome.kind === 'success'
        ? 'OK'
        : outcome.kind === 'function-error'
          ? 'PROBLEM: Function call failed'
          : `PROBLEM: ${outcome.reason}`,
    );
    // A batch the function never got (the server starting, a batch too large) is no batch done.
    if (outcome.kind !== 'not-invoked')
      this.#d.observer?.batchDone({
        functionName: target.mapping.functionName,
        qualifier: target.mapping.qualifier,
        mappingUuid: target.mapping.uuid,
        source: target.mapping.source.kind,
        records: batch.length,
        // AWS's IteratorAge: the age of the batch's last (newest) record when it was invoked.
        iteratorAgeMs: startMs - batch.reduce((max, r) => Math.max(max, r.arrivalMs), -Infinity),
        outcome: outcome.kind === 'success' ? 'success' : 'error',
        startMs,
        endMs: this.#d.clock.now(),
        traceHeader,
      });
    return outcome;
  }

  #byAge(
    settings: MappingSettings,
    records: readonly SourceRecord[],
  ): { fresh: SourceRecord[]; expired: SourceRecord[] } {
    const age = settings.maximumRecordAgeInSeconds;
    if (age === undefined || age < 0) return { fresh: [...records], expired: [] };
    const oldest = this.#d.clock.now() - age * 1000;
    return {
      fresh: records.filter((r) => r.arrivalMs >= oldest),
      expired: records.filter((r) => r.arrivalMs < oldest),
    };
  }

  /** True when the failure was delivered to the mapping's OnFailure function. */
  async #sendToDestination(target: BatchTarget, failure: Failure): Promise<boolean> {
    const destination = target.mapping.settings.onFailure;
    if (destination === undefined) return false;
    const outcome = failure.outcome;
    const record: Record<string, unknown> = {
      requestContext: {
        requestId: this.#d.ids.uuid(),
        functionArn: target.functionArn,
        condition: failure.condition,
        approximateInvokeCount: failure.attempts,
      },
      responseContext:
        outcome === undefined || outcome.kind === 'not-invoked'
          ? { statusCode: outcome === undefined ? 0 : 429, executedVersion: '', functionError: '' }
          : {
              statusCode: 200,
              executedVersion: outcome.executedVersion,
              functionError: outcome.kind === 'function-error' ? outcome.errorType : '',
            },
      version: '1.0',
      timestamp: new Date(this.#d.clock.now()).toISOString(),
      ...target.source.batchInfoOf(failure.records),
    };
    // The records themselves come along (a queue's message cannot be read again once settled)
    // when the record stays within an asynchronous invocation's size. A stream's records remain
    // in the stream (the batch info says where); a queue's too large to carry stay with the
    // queue: rejected to its dead-letter exchange rather than lost.
    const withPayload = { ...record, payload: target.source.eventOf(failure.records) };
    const fits = Buffer.byteLength(JSON.stringify(withPayload)) <= LIMITS.eventPayloadBytes;
    if (!fits && !target.source.ordered) return false;
    try {
      await this.#d.destination.send(destination, fits ? withPayload : record);
      return true;
    } catch {
      const { functionName, qualifier } = target.mapping;
      this.#d.observer?.destinationFailed(functionName, qualifier);
      return false;
    }
  }
}

function settled(done: SourceRecord[]): Run {
  return { kind: 'settled', settlement: { done, rejected: [] } };
}

/**
 * The records of `batch` that failed: all of them unless the function succeeded; with
 * ReportBatchItemFailures the ones it names (an answer naming records not in the batch, or not
 * readable, fails the whole batch, as on Lambda); in an ordered source, from the first failed on.
 */
function failedRecords(
  target: BatchTarget,
  batch: readonly SourceRecord[],
  outcome: BatchOutcome,
): readonly SourceRecord[] {
  if (outcome.kind !== 'success') return batch;
  if (!target.mapping.settings.reportBatchItemFailures) return [];
  const named = batchItemFailures(outcome.payload);
  if (named === undefined) return batch;
  const ids = new Set(named);
  const byId = new Map(batch.map((record) => [record.id, record]));
  if ([...ids].some((id) => !byId.has(id))) return batch;
  if (!target.source.ordered) return batch.filter((record) => ids.has(record.id));
  const first = batch.findIndex((record) => ids.has(record.id));
  return first < 0 ? [] : batch.slice(first);
}

/** The item identifiers of `{"batchItemFailures":[{"itemIdentifier":…}]}`; undefined if unreadable. */
export function batchItemFailures(payload: Buffer): string[] | undefined {
  if (payload.length === 0) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return [];
  const list = (parsed as Record<string, unknown>)['batchItemFailures'];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) return undefined;
  const ids: string[] = [];
  for (const item of list) {
    const id = (item as Record<string, unknown> | null)?.['itemIdentifier'];
    if (typeof id !== 'string' || id === '') return undefined;
    ids.push(id);
  }
  return ids;
}
