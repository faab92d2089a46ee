/**
 * The platform's spans of sampled invocations, for an OpenTelemetry collector: each invocation's
 * report becomes `Invoke` (from the request's arrival to the caller's answer) with its parts, as
 * X-Ray shows a Lambda function's segment — `Initialization` (a cold start's init),
 * `Invocation` (the runtime's work: its span id is the Parent the function saw, so the function's
 * own spans hang under it) and `Overhead` (after the runtime answered). An asynchronous attempt
 * adds `Dwell Time` (from the event's acceptance to the attempt) as the parent of its `Invoke`;
 * a mapping's batch adds `Batch`, the parent of its invocation's `Invoke`.
 *
 * Whether an attempt or a batch was sampled is known only once its invocation's report arrives
 * (the function's TracingConfig decides), so their start is remembered until then, in bounded
 * tables: an attempt's by its own span id, the Parent its invocation ran under, so attempts of one
 * trace never take each other's times. Nothing here waits: spans go to the exporter's buffer.
 */
import { functionArn, type Scope } from '../core/arn.js';
import type { Clock } from '../core/clock.js';
import type { InvocationReport, InvocationTrigger } from '../core/invocation-report.js';
import type { AsyncObserver, MappingBatch, MappingObserver } from '../core/platform-events.js';
import {
  isSampledHeader,
  newSpanId,
  parseXRayHeader,
  type RandomHex,
} from '../core/trace-context.js';
import type { InvocationObserver } from '../invoke/ports.js';
import type { PlatformSpan, SpanAttributes, SpanExporter, SpanKind } from './span-exporter.js';

/** Attempts waiting for their report, and sampled batch invocations waiting for their batch. */
const PENDING_LIMIT = 4096;
/**
 * How long an attempt's start waits for its report: longer than any attempt runs (an image pull's
 * 30 min deadline, then the longest timeout, 15 min). An attempt that never produces a report (a
 * throttled one, a function deleted meanwhile) is forgotten after it.
 */
const ATTEMPT_TTL_MS = 60 * 60 * 1000;
/** Resources remembered (one per function version and memory size). */
const RESOURCE_LIMIT = 1024;

/** OpenTelemetry's `faas.trigger` for each way an invocation starts. */
const FAAS_TRIGGER: Readonly<Record<InvocationTrigger, string>> = {
  sync: 'other',
  async: 'other',
  url: 'http',
  mapping: 'pubsub',
  schedule: 'timer',
};

export interface PlatformSpansDeps {
  readonly exporter: SpanExporter;
  readonly scope: Scope;
  readonly clock: Clock;
  readonly randomHex: RandomHex;
}

/** An asynchronous attempt whose report has not arrived yet. */
interface PendingAttempt {
  readonly traceId: string;
  /** The span that accepted the event (the caller's), if any. */
  readonly parentId: string | undefined;
  readonly startMs: number;
  readonly endMs: number;
}

export class PlatformSpans implements InvocationObserver, AsyncObserver, MappingObserver {
  readonly #d: PlatformSpansDeps;
  /** Attempts started, by the attempt's own span id (its report's callerSpanId), oldest first. */
  readonly #attempts = new Map<string, PendingAttempt>();
  /** Sampled mapping invocations by the span id of their batch: the batch's trace id. */
  readonly #batches = new Map<string, string>();
  /** Resources by function version and memory size, and the latest by function name. */
  readonly #resources = new Map<string, SpanAttributes>();
  readonly #latest = new Map<string, SpanAttributes>();

  constructor(deps: PlatformSpansDeps) {
    this.#d = deps;
  }

  ended(report: InvocationReport): void {
    const queued = report.trigger === 'async' || report.trigger === 'schedule';
    // The common case, an unsampled synchronous invocation, costs one substring search.
    if (!queued && !isSampledHeader(report.traceHeader)) return;
    const trace = parseXRayHeader(report.traceHeader);
    if (trace === undefined || trace.parentId === undefined) return;
    const attempt = queued ? this.#takeAttempt(report.callerSpanId, trace.traceId) : undefined;
    if (trace.sampled !== true) return;
    const resource = this.#resourceOf(report);
    let parent = report.callerSpanId;
    if (queued) {
      // The attempt's header named its queueing span as the parent; without the attempt's start
      // (never told of it) there is no such span to hang under.
      if (attempt === undefined || parent === undefined) parent = undefined;
      else
        this.#export({
          traceId: trace.traceId,
          spanId: parent,
          parentSpanId: attempt.parentId,
          name: 'Dwell Time',
          startMs: attempt.startMs,
          endMs: attempt.endMs,
          resource,
        });
    }
    if (report.trigger === 'mapping' && parent !== undefined)
      this.#rememberBatch(parent, trace.traceId);
    this.#invocationSpans(report, trace.traceId, trace.parentId, parent, resource);
  }

  /** A throttled request never reached an environment: no span. */
  throttled(): void {}

  received(): void {}

  attemptStarted(
    _functionName: string,
    _qualifier: string | undefined,
    ageMs: number,
    traceHeader?: string,
    eventTraceHeader?: string,
  ): void {
    const trace = parseXRayHeader(traceHeader);
    // A caller that decided against sampling needs no queueing span.
    if (trace?.parentId === undefined || trace.sampled === false) return;
    const nowMs = this.#d.clock.now();
    this.#forgetAttempts(nowMs);
    this.#attempts.set(trace.parentId, {
      traceId: trace.traceId,
      parentId: parseXRayHeader(eventTraceHeader)?.parentId,
      startMs: nowMs - ageMs,
      endMs: nowMs,
    });
  }

  dropped(): void {}

  destinationFailed(): void {}

  deadLetterFailed(): void {}

  batchDone(batch: MappingBatch): void {
    const trace = parseXRayHeader(batch.traceHeader);
    if (trace?.parentId === undefined) return;
    const traceId = this.#batches.get(trace.parentId);
    if (traceId === undefined) return;
    this.#batches.delete(trace.parentId);
    this.#export({
      traceId,
      spanId: trace.parentId,
      parentSpanId: undefined,
      name: 'Batch',
      kind: 'consumer',
      startMs: batch.startMs,
      endMs: batch.endMs,
      attributes: {
        'messaging.system': batch.source,
        'messaging.operation.type': 'process',
        'messaging.batch.message_count': batch.records,
        'lamina.mapping_uuid': batch.mappingUuid,
        ...(batch.iteratorAgeMs === undefined
          ? {}
          : { 'lamina.iterator_age_ms': batch.iteratorAgeMs }),
      },
      error: batch.outcome === 'error' ? 'the batch failed' : undefined,
      resource: this.#latest.get(batch.functionName) ?? { 'service.name': batch.functionName },
    });
  }

  /** `Invoke` and its parts for one sampled invocation. */
  #invocationSpans(
    report: InvocationReport,
    traceId: string,
    invocationId: string,
    parent: string | undefined,
    resource: SpanAttributes,
  ): void {
    const invokeId = newSpanId(this.#d.randomHex);
    const ranUntil = report.startMs + report.durationMs;
    const error =
      report.outcome === 'success'
        ? undefined
        : (report.errorType ?? (report.outcome === 'timeout' ? 'Sandbox.Timedout' : 'error'));
    const kind: SpanKind =
      report.trigger === 'sync' || report.trigger === 'url' ? 'server' : 'consumer';
    const part = { traceId, parentSpanId: invokeId, resource };
    this.#export({
      traceId,
      spanId: invokeId,
      parentSpanId: parent,
      name: 'Invoke',
      kind,
      startMs: report.receivedMs,
      endMs: Math.max(report.endMs, ranUntil),
      resource,
      attributes: this.#invokeAttributes(report),
      error,
    });
    if (report.initDurationMs !== undefined) {
      // An init that failed ran until the invocation was given up.
      const ran = report.durationMs > 0;
      const initEnd = ran ? report.startMs : report.endMs;
      this.#export({
        ...part,
        spanId: newSpanId(this.#d.randomHex),
        name: 'Initialization',
        startMs: initEnd - report.initDurationMs,
        endMs: initEnd,
        error: ran ? undefined : error,
      });
    }
    if (report.durationMs <= 0) return;
    this.#export({
      ...part,
      spanId: invocationId,
      name: 'Invocation',
      startMs: report.startMs,
      endMs: ranUntil,
      error,
    });
    if (report.endMs > ranUntil)
      this.#export({
        ...part,
        spanId: newSpanId(this.#d.randomHex),
        name: 'Overhead',
        startMs: ranUntil,
        endMs: report.endMs,
      });
  }

  #invokeAttributes(report: InvocationReport): SpanAttributes {
    return {
      'faas.invocation_id': report.requestId,
      'faas.trigger': FAAS_TRIGGER[report.trigger],
      'faas.coldstart': report.cold,
      'aws.lambda.invoked_arn': functionArn(this.#d.scope, report.functionName, report.qualifier),
      'lamina.trigger': report.trigger,
      'lamina.outcome': report.outcome,
      'lamina.duration_ms': report.durationMs,
      'lamina.billed_duration_ms': report.billedDurationMs,
      'lamina.max_memory_used_mib': report.maxMemoryUsedMiB,
      'lamina.provisioned': report.provisioned,
      ...(report.initDurationMs === undefined
        ? {}
        : { 'lamina.init_duration_ms': report.initDurationMs }),
      ...(report.errorType === undefined ? {} : { 'error.type': report.errorType }),
    };
  }

  /** Exports a span (internal, without attributes or error unless given; never ending early). */
  #export(
    span: Pick<
      PlatformSpan,
      'traceId' | 'spanId' | 'parentSpanId' | 'name' | 'startMs' | 'endMs' | 'resource'
    > &
      Partial<Pick<PlatformSpan, 'kind' | 'attributes' | 'error'>>,
  ): void {
    this.#d.exporter.export({
      kind: 'internal',
      attributes: {},
      error: undefined,
      ...span,
      endMs: Math.max(span.startMs, span.endMs),
    });
  }

  /** The resource of a function version's spans, made once (functions' own SDKs name theirs alike). */
  #resourceOf(report: InvocationReport): SpanAttributes {
    const key = `${report.functionName}\u0000${report.executedVersion}\u0000${report.memorySizeMiB}\u0000${report.architecture}`;
    const known = this.#resources.get(key);
    if (known !== undefined) return known;
    if (this.#resources.size >= RESOURCE_LIMIT) this.#resources.clear();
    const { scope } = this.#d;
    const resource: SpanAttributes = {
      'service.name': report.functionName,
      'cloud.platform': 'aws_lambda',
      'cloud.region': scope.region,
      'cloud.account.id': scope.accountId,
      'cloud.resource_id': functionArn(scope, report.functionName, undefined),
      'faas.name': report.functionName,
      'faas.version': report.executedVersion,
      'faas.max_memory': report.memorySizeMiB * 1024 * 1024,
      'host.arch': report.architecture === 'arm64' ? 'arm64' : 'amd64',
    };
    this.#resources.set(key, resource);
    // Batches name only the function: the resource of its latest invocation serves them.
    if (this.#latest.size >= RESOURCE_LIMIT) this.#latest.clear();
    this.#latest.set(report.functionName, resource);
    return resource;
  }

  /** The start of the attempt whose span the report's caller header named, if remembered. */
  #takeAttempt(spanId: string | undefined, traceId: string): PendingAttempt | undefined {
    if (spanId === undefined) return undefined;
    const attempt = this.#attempts.get(spanId);
    if (attempt === undefined) return undefined;
    this.#attempts.delete(spanId);
    return attempt.traceId === traceId ? attempt : undefined;
  }

  /** Forgets attempts too old to still report, and the oldest when the table is full. */
  #forgetAttempts(nowMs: number): void {
    for (const [spanId, attempt] of this.#attempts) {
      if (attempt.endMs > nowMs - ATTEMPT_TTL_MS && this.#attempts.size < PENDING_LIMIT) return;
      this.#attempts.delete(spanId);
    }
  }

  #rememberBatch(batchSpanId: string, traceId: string): void {
    if (this.#batches.size >= PENDING_LIMIT) {
      const oldest = this.#batches.keys().next();
      if (oldest.done !== true) this.#batches.delete(oldest.value);
    }
    this.#batches.set(batchSpanId, traceId);
  }
}
