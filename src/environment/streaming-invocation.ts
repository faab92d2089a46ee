/**
 * The application-level shape of a streamed invocation (InvokeWithResponseStream, and function
 * URLs in RESPONSE_STREAM mode): which version ran, the response's content type, its bytes as the
 * function produces them, and how it ended.
 */
import type { InvocationOutcome } from './invocation-ending.js';

// Function URLs in RESPONSE_STREAM mode read the HTTP status and headers off the body with these.
export {
  HTTP_INTEGRATION_CONTENT_TYPE,
  splitHttpIntegrationResponse,
  type HttpIntegrationPrelude,
  type HttpIntegrationResponse,
} from './http-integration-response.js';

export interface StreamingInvocation {
  /** The invocation's id (`context.awsRequestId`). */
  readonly requestId: string;
  readonly executedVersion: string;
  /**
   * The content type the function gave its response: `application/octet-stream` unless the
   * function set one, `application/vnd.awslambda.http-integration-response` after
   * `awslambda.HttpResponseStream.from` (see http-integration-response.ts), the runtime's type
   * (`application/json`) for a function that does not stream. Undefined when the invocation failed
   * before it produced a response.
   */
  readonly contentType: string | undefined;
  /**
   * The response's bytes as they arrive: one chunk for a function that does not stream, none when
   * it failed before responding. Read it to its end, then await `completion`. Reading slowly
   * holds the function's writes back (no buffering); leaving the loop early discards the rest
   * while the function runs to its end.
   */
  readonly body: AsyncIterable<Buffer>;
  /** Settles once the invocation has ended (after its REPORT line); never rejects. */
  readonly completion: Promise<StreamCompletion>;
}

export interface StreamCompletion {
  /** Undefined on success; else the error (also when it came in the middle of the stream). */
  readonly error: StreamError | undefined;
  /** The invocation's log lines (START…REPORT) when the caller asked for them. */
  readonly logTail: string | undefined;
}

export interface StreamError {
  /** `errorType` of the error payload: e.g. `Error`, `Sandbox.Timedout`, `Runtime.ExitError`. */
  readonly errorType: string;
  /** `errorMessage` of the error payload (the payload's text when it has none). */
  readonly errorMessage: string;
  /** The error payload as the runtime or the platform wrote it (JSON). */
  readonly payload: Buffer;
}

/** The error of an outcome, if it is one. */
export function streamErrorOf(outcome: InvocationOutcome): StreamError | undefined {
  if (outcome.kind === 'success') return undefined;
  const text = outcome.payload.toString('utf8');
  let errorMessage = text;
  try {
    const parsed = JSON.parse(text) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') errorMessage = parsed.errorMessage;
  } catch {
    // not JSON: the text is the message
  }
  return { errorType: outcome.errorType, errorMessage, payload: outcome.payload };
}
