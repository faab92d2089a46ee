/**
 * How an invocation ended, as pure rules: the outcome the caller sees for each runtime answer, a
 * timeout, an exit, or the end of a streamed response, and whether it kills the environment.
 */
import type { RuntimeAnswer, StreamEnd } from '../core/runtime-protocol.js';
import type { SandboxExit } from './sandbox-driver.js';

/** What an invocation produced, as the caller sees it. */
export type InvocationOutcome =
  | { readonly kind: 'success'; readonly payload: Buffer; readonly contentType: string | undefined }
  | { readonly kind: 'function-error'; readonly payload: Buffer; readonly errorType: string };

/** How an invocation ended; a failure (timeout or platform error) kills the environment. */
export interface Ending {
  readonly outcome: InvocationOutcome;
  readonly failure: 'timeout' | 'error' | undefined;
}

/** The ending of a buffered answer, a timeout or an exit. */
export function endingOf(
  requestId: string,
  timeoutSeconds: number,
  answer:
    | Exclude<RuntimeAnswer, { kind: 'stream' }>
    | { kind: 'timeout' }
    | { kind: 'exit'; exit: SandboxExit },
): Ending {
  switch (answer.kind) {
    case 'response':
      return {
        outcome: { kind: 'success', payload: answer.body, contentType: answer.contentType },
        failure: undefined,
      };
    case 'error':
      return { outcome: functionError(answer.errorType, answer.body), failure: undefined };
    case 'too-large':
      return {
        outcome: platformErrorOutcome(
          requestId,
          'Function.ResponseSizeTooLarge',
          `Response payload size (${answer.bytes} bytes) exceeded maximum allowed payload size (6291556 bytes).`,
        ),
        failure: 'error',
      };
    case 'timeout':
      return {
        outcome: platformErrorOutcome(
          requestId,
          'Sandbox.Timedout',
          `Task timed out after ${timeoutSeconds.toFixed(2)} seconds`,
        ),
        failure: 'timeout',
      };
    case 'exit':
      return {
        outcome: platformErrorOutcome(requestId, 'Runtime.ExitError', exitMessage(answer.exit)),
        failure: 'error',
      };
  }
}

/** The ending of a streamed response (its bytes went to the caller as they came). */
export function streamEndingOf(requestId: string, end: StreamEnd): Ending {
  switch (end.kind) {
    case 'complete':
      return {
        outcome: { kind: 'success', payload: Buffer.alloc(0), contentType: undefined },
        failure: undefined,
      };
    case 'error':
      return { outcome: functionError(end.errorType, end.body), failure: undefined };
    case 'too-large':
      return {
        outcome: platformErrorOutcome(
          requestId,
          'Function.ResponseSizeTooLarge',
          `Response payload size exceeded maximum allowed payload size (${end.limit} bytes).`,
        ),
        failure: 'error',
      };
    case 'truncated':
      return {
        outcome: platformErrorOutcome(
          requestId,
          'Runtime.TruncatedResponse',
          'The runtime closed the response stream before its end.',
        ),
        failure: 'error',
      };
  }
}

function functionError(errorType: string | undefined, payload: Buffer): InvocationOutcome {
  return {
    kind: 'function-error',
    payload,
    errorType: boundedErrorType(errorType ?? errorTypeOf(payload)),
  };
}

/** The longest error type kept (REPORT, records, metrics and spans carry it). */
export const MAX_ERROR_TYPE_CHARS = 128;

/**
 * An error type as the function reported it, made safe to keep: the function chooses it (up to
 * the 6 MB of an error body), so it is cut to MAX_ERROR_TYPE_CHARS printable ASCII characters
 * (others become `?`); an empty one is `Unhandled`.
 */
export function boundedErrorType(errorType: string): string {
  const kept = errorType.slice(0, MAX_ERROR_TYPE_CHARS).replace(/[^\x20-\x7e]/g, '?');
  return kept === '' ? 'Unhandled' : kept;
}

/** An error the platform reports for an invocation: `{errorType, errorMessage: "RequestId: … Error: …"}`. */
export function platformErrorOutcome(
  requestId: string,
  /** A catalogued type (core/runtime-errors.ts), or one an extension or runtime reported. */
  errorType: string,
  message: string,
): InvocationOutcome {
  const type = boundedErrorType(errorType);
  return {
    kind: 'function-error',
    errorType: type,
    payload: Buffer.from(
      JSON.stringify({
        errorType: type,
        errorMessage: `RequestId: ${requestId} Error: ${message}`,
      }),
    ),
  };
}

/** AWS's wording for a runtime that exited: `exit status 1`, `signal: killed`. */
export function exitMessage(exit: SandboxExit): string {
  const signals: Record<number, string> = {
    6: 'aborted',
    9: 'killed',
    11: 'segmentation fault',
    15: 'terminated',
  };
  if (exit.outOfMemory) return 'Runtime exited with error: signal: killed';
  if (exit.signal !== null)
    return `Runtime exited with error: signal: ${exit.signal === 'SIGKILL' ? 'killed' : exit.signal.toLowerCase()}`;
  const code = exit.code ?? 0;
  // bubblewrap reports a signal-killed runtime as 128 + the signal number.
  if (code > 128 && signals[code - 128] !== undefined)
    return `Runtime exited with error: signal: ${signals[code - 128] ?? ''}`;
  return code === 0
    ? 'Runtime exited without providing a reason'
    : `Runtime exited with error: exit status ${code}`;
}

function errorTypeOf(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errorType?: unknown };
    return typeof parsed.errorType === 'string' ? parsed.errorType : 'Unhandled';
  } catch {
    return 'Unhandled';
  }
}
