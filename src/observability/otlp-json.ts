/**
 * Spans as an OTLP `ExportTraceServiceRequest` in OTLP/JSON: protobuf's JSON mapping with OTLP's
 * exceptions — trace and span ids as hex strings (not base64), enums as integers, int64 values
 * (times in nanoseconds, integer attributes) as decimal strings, field names in lowerCamelCase.
 * Pure.
 */
import type { PlatformSpan, SpanAttributes, SpanKind } from '../monitoring/span-exporter.js';

/** Who produced the spans (OTLP's InstrumentationScope). */
export interface OtlpScope {
  readonly name: string;
  readonly version: string;
}

/** OTLP's `Span.SpanKind` numbers. */
const KIND: Readonly<Record<SpanKind, number>> = {
  internal: 1,
  server: 2,
  client: 3,
  producer: 4,
  consumer: 5,
};

/** OTLP's `Status.StatusCode.STATUS_CODE_ERROR` (unset, 0, is left out). */
const STATUS_ERROR = 2;

type AnyValue =
  | { readonly stringValue: string }
  | { readonly boolValue: boolean }
  | { readonly intValue: string }
  | { readonly doubleValue: number };

interface KeyValue {
  readonly key: string;
  readonly value: AnyValue;
}

/** The request body for `spans` (grouped by resource object, in the order first seen). */
export function exportTraceServiceRequest(
  spans: readonly PlatformSpan[],
  scope: OtlpScope,
): Record<string, unknown> {
  const byResource = new Map<SpanAttributes, PlatformSpan[]>();
  for (const span of spans) {
    const group = byResource.get(span.resource);
    if (group === undefined) byResource.set(span.resource, [span]);
    else group.push(span);
  }
  return {
    resourceSpans: [...byResource].map(([resource, group]) => ({
      resource: { attributes: keyValues(resource) },
      scopeSpans: [{ scope: { name: scope.name, version: scope.version }, spans: group.map(span) }],
    })),
  };
}

function span(s: PlatformSpan): Record<string, unknown> {
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    ...(s.parentSpanId === undefined ? {} : { parentSpanId: s.parentSpanId }),
    name: s.name,
    kind: KIND[s.kind],
    startTimeUnixNano: unixNanos(s.startMs),
    endTimeUnixNano: unixNanos(s.endMs),
    attributes: keyValues(s.attributes),
    status: s.error === undefined ? {} : { code: STATUS_ERROR, message: s.error },
  };
}

function keyValues(attributes: SpanAttributes): KeyValue[] {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: anyValue(value) }));
}

function anyValue(value: string | number | boolean): AnyValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Number.isSafeInteger(value)) return { intValue: String(value) };
  // JSON has no NaN or Infinity: such a value is sent as its text.
  return Number.isFinite(value) ? { doubleValue: value } : { stringValue: String(value) };
}

/**
 * Epoch milliseconds (possibly fractional) as nanoseconds in a decimal string: exact, where a
 * double would lose the last digits of today's ~1.7e18 ns.
 */
export function unixNanos(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '0';
  const whole = Math.floor(ms);
  const fraction = Math.min(999_999, Math.round((ms - whole) * 1e6));
  return (BigInt(whole) * 1_000_000n + BigInt(fraction)).toString();
}
