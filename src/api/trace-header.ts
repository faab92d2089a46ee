/**
 * The trace an incoming request (Invoke, InvokeWithResponseStream, InvokeAsync, a function URL)
 * carries, as the X-Ray header the invocation continues: its `X-Amzn-Trace-Id`, else its W3C
 * `traceparent` converted. Malformed or hostile values count as absent (core/trace-context.ts).
 */
import { formatXRayHeader, incomingTrace } from '../core/trace-context.js';

export function traceHeaderOf(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): string | undefined {
  const trace = incomingTrace(first(headers['x-amzn-trace-id']), first(headers['traceparent']));
  return trace === undefined ? undefined : formatXRayHeader(trace);
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
