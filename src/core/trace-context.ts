/**
 * Trace context as Lambda passes it on: the AWS X-Ray header (`X-Amzn-Trace-Id`,
 * `Root=1-<8 hex>-<24 hex>;Parent=<16 hex>;Sampled=0|1`) and the W3C `traceparent`
 * (`00-<32 hex>-<16 hex>-<2 hex flags>`), parsed, formatted and converted (the Root's 8 + 24 hex
 * digits are the W3C trace id), and the sampling rule of a function's TracingConfig. Pure.
 *
 * Headers come from unauthenticated callers: anything oversized, malformed, non-hex or with
 * control characters is treated as if it were absent, and parsing does work linear in a bounded
 * length.
 */
import type { TracingMode } from './function-model.js';

/** A trace as a caller hands it over (or as Lamina continues it). */
export interface TraceContext {
  /** The trace id: 32 lowercase hex digits (X-Ray's Root without `1-` and its dashes). */
  readonly traceId: string;
  /** The caller's span (16 lowercase hex digits), the parent of what runs for it; if named. */
  readonly parentId: string | undefined;
  /** The caller's sampling decision; undefined when it left it to the receiver (`Sampled=?`). */
  readonly sampled: boolean | undefined;
}

/** Longest X-Ray header considered (real ones, with Lineage or Self, stay far below). */
export const MAX_XRAY_HEADER_CHARS = 1024;
/** Longest `traceparent` considered (a future version may append fields after the flags). */
export const MAX_TRACEPARENT_CHARS = 512;

const HEX16 = /^[0-9a-fA-F]{16}$/;
const ROOT = /^1-([0-9a-fA-F]{8})-([0-9a-fA-F]{24})$/;
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
/** Printable ASCII (and tabs around fields): anything else makes the header hostile. */
const PRINTABLE = /^[\t\x20-\x7e]*$/;
const ZEROS = /^0+$/;

/**
 * Parses an `X-Amzn-Trace-Id` value. `Root` is required; `Parent` and `Sampled` (`1`, `0`, or
 * `?` for "decide for me") are optional; other fields (`Lineage`, `Self`, …) are tolerated and
 * dropped. Keys are case-sensitive, as in AWS's SDKs; a malformed Root, Parent or Sampled makes
 * the whole header malformed (undefined).
 */
export function parseXRayHeader(value: string | undefined): TraceContext | undefined {
  if (value === undefined || value.length > MAX_XRAY_HEADER_CHARS || !PRINTABLE.test(value))
    return undefined;
  let traceId: string | undefined;
  let parentId: string | undefined;
  let sampled: boolean | undefined;
  let sawSampled = false;
  for (const field of value.split(';')) {
    const equals = field.indexOf('=');
    if (equals < 0) {
      if (field.trim() === '') continue;
      return undefined;
    }
    const key = field.slice(0, equals).trim();
    const text = field.slice(equals + 1).trim();
    if (key === 'Root') {
      if (traceId !== undefined) return undefined;
      const match = ROOT.exec(text);
      if (match === null) return undefined;
      traceId = `${match[1] ?? ''}${match[2] ?? ''}`.toLowerCase();
      if (ZEROS.test(traceId)) return undefined;
    } else if (key === 'Parent') {
      if (parentId !== undefined || !HEX16.test(text) || ZEROS.test(text)) return undefined;
      parentId = text.toLowerCase();
    } else if (key === 'Sampled') {
      if (sawSampled) return undefined;
      sawSampled = true;
      if (text === '1') sampled = true;
      else if (text === '0') sampled = false;
      else if (text !== '?') return undefined;
    }
  }
  if (traceId === undefined) return undefined;
  return { traceId, parentId, sampled };
}

/**
 * Parses a W3C `traceparent` (Trace Context level 1): lowercase hex only; version `ff`, an
 * all-zero trace or parent id, or a version 00 header with more after its flags is invalid
 * (undefined). Its sampled flag is always a decision.
 */
export function parseTraceparent(value: string | undefined): TraceContext | undefined {
  if (value === undefined || value.length > MAX_TRACEPARENT_CHARS) return undefined;
  const match = TRACEPARENT.exec(value.trim());
  if (match === null) return undefined;
  const [, version, traceId, parentId, flags, rest] = match;
  if (version === undefined || traceId === undefined || parentId === undefined) return undefined;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (ZEROS.test(traceId) || ZEROS.test(parentId)) return undefined;
  return { traceId, parentId, sampled: (parseInt(flags ?? '00', 16) & 1) === 1 };
}

/**
 * The trace an incoming request carries: its X-Ray header when that is valid, else its
 * `traceparent`; undefined when neither is.
 */
export function incomingTrace(
  xrayHeader: string | undefined,
  traceparent: string | undefined,
): TraceContext | undefined {
  return parseXRayHeader(xrayHeader) ?? parseTraceparent(traceparent);
}

/** X-Ray's Root for a trace id: `1-<first 8 hex>-<last 24 hex>`. */
export function xrayRoot(traceId: string): string {
  return `1-${traceId.slice(0, 8)}-${traceId.slice(8)}`;
}

/**
 * The `X-Amzn-Trace-Id` value of a trace: `Root=…`, then `Parent=…` and `Sampled=0|1` when known
 * (an undecided trace carries no Sampled field).
 */
export function formatXRayHeader(trace: TraceContext): string {
  let header = `Root=${xrayRoot(trace.traceId)}`;
  if (trace.parentId !== undefined) header += `;Parent=${trace.parentId}`;
  if (trace.sampled !== undefined) header += `;Sampled=${trace.sampled ? '1' : '0'}`;
  return header;
}

/** The W3C `traceparent` of a trace with a parent (version 00; unsampled unless decided so). */
export function formatTraceparent(trace: TraceContext & { readonly parentId: string }): string {
  return `00-${trace.traceId}-${trace.parentId}-${trace.sampled === true ? '01' : '00'}`;
}

/**
 * Whether an invocation is sampled: a caller's decision stands in both modes; without one,
 * Active samples and PassThrough does not. (AWS samples Active functions' undecided requests at
 * 1 per second plus 5% of the rest; Lamina samples them all.)
 */
export function sampledFor(callerDecision: boolean | undefined, mode: TracingMode): boolean {
  return callerDecision ?? mode === 'Active';
}

/** Hex digits from a random source (`bytes` random bytes, two digits each). */
export type RandomHex = (bytes: number) => string;

/** A new trace id: the epoch second (8 hex digits, as X-Ray's Root has it) and 96 random bits. */
export function newTraceId(nowMs: number, randomHex: RandomHex): string {
  const seconds = Math.floor(nowMs / 1000)
    .toString(16)
    .padStart(8, '0')
    .slice(-8);
  return `${seconds}${randomHex(12)}`;
}

/** A new span id: 64 random bits, never all zero (an invalid id). */
export function newSpanId(randomHex: RandomHex): string {
  for (;;) {
    const id = randomHex(8);
    if (!ZEROS.test(id)) return id;
  }
}

/**
 * The trace header an invocation runs with (`_X_AMZN_TRACE_ID`, `Lambda-Runtime-Trace-Id`, the
 * Telemetry API's `tracing`): the caller's trace (a new one without), a new Parent — the
 * platform's span for this invocation — and the sampling decision of `sampledFor`. `callerHeader`
 * is an X-Ray header; a malformed one counts as none.
 */
export function invocationTraceHeader(
  callerHeader: string | undefined,
  mode: TracingMode,
  nowMs: number,
  randomHex: RandomHex,
): string {
  const caller = parseXRayHeader(callerHeader);
  return formatXRayHeader({
    traceId: caller?.traceId ?? newTraceId(nowMs, randomHex),
    parentId: newSpanId(randomHex),
    sampled: sampledFor(caller?.sampled, mode),
  });
}

/**
 * A copy of a trace under a new parent span (its id and decision kept): what a platform part that
 * shows as its own span (an asynchronous attempt's queueing, a mapping's batch) hands on.
 */
export function childTraceHeader(trace: TraceContext, spanId: string): string {
  return formatXRayHeader({ ...trace, parentId: spanId });
}

/** Whether a header (one Lamina formatted) says Sampled=1, without parsing the rest. */
export function isSampledHeader(header: string): boolean {
  return header.includes(';Sampled=1');
}
