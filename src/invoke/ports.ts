/** What the invocation engine needs from the rest of the platform (implemented by the server). */
import type { InvocationReport, InvocationThrottle } from '../core/invocation-report.js';
import type { ResolvedFunction } from '../environment/ports.js';

/** Finds the function an Invoke names (throws the API's not-found / conflict errors). */
export interface FunctionResolver {
  resolve(functionName: string, qualifier: string | undefined): Promise<ResolvedFunction>;
}

/**
 * Hears how each invocation ended and each throttle (records, metrics, usage, spans). Called on
 * the event loop after the caller has its answer: it must be quick, and it must not throw.
 */
export interface InvocationObserver {
  ended(report: InvocationReport): void;
  throttled(throttle: InvocationThrottle): void;
}
