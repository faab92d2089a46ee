/**
 * The port the platform's spans leave through (implemented over OTLP/HTTP by
 * observability/otlp-http-exporter.ts), and the spans themselves: finished, with times in epoch
 * milliseconds, ids as lowercase hex, and the resource (the function version) that made them.
 */

export type SpanAttributeValue = string | number | boolean;

/** Attributes by name; whole numbers are sent as integers, others as doubles. */
export type SpanAttributes = Readonly<Record<string, SpanAttributeValue>>;

/** OpenTelemetry's span kinds. */
export type SpanKind = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

export interface PlatformSpan {
  /** 32 lowercase hex digits. */
  readonly traceId: string;
  /** 16 lowercase hex digits. */
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: SpanKind;
  readonly startMs: number;
  readonly endMs: number;
  readonly attributes: SpanAttributes;
  /** Set when the work failed: the span's status is then an error with this message. */
  readonly error: string | undefined;
  /**
   * What made the span (a function version). Spans that share one resource object are sent
   * under one OTLP resource, so producers reuse the object.
   */
  readonly resource: SpanAttributes;
}

/** What an exporter did with the spans it was given, since it was made. */
export interface SpanExportCounts {
  /** Spans the collector accepted. */
  readonly exported: number;
  /** Spans dropped: past the buffer, or lost with a request that failed or timed out. */
  readonly dropped: number;
  /** Spans waiting to be sent now. */
  readonly queued: number;
}

export interface SpanExporter {
  /** Queues a span for sending; never waits and never throws (a full buffer drops it). */
  export(span: PlatformSpan): void;
  counts(): SpanExportCounts;
}
