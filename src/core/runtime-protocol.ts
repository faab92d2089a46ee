/** What the platform and a runtime exchange over the Runtime API, independent of transport. */

/** What the runtime receives from `/next`. */
export interface InvocationEvent {
  readonly requestId: string;
  /** The Invoke payload, delivered byte for byte (`{}` when the caller sent nothing). */
  readonly payload: Buffer;
  readonly deadlineMs: number;
  readonly invokedFunctionArn: string;
  readonly traceId: string;
  /** Decoded client-context JSON, when the caller sent one. */
  readonly clientContext?: string | undefined;
  readonly cognitoIdentity?: string | undefined;
}

/**
 * How the caller takes the answer: `buffered` collects a streamed response (up to the buffered
 * limit) into one body; `streaming` hands a streamed response over as soon as the runtime starts
 * it (`Lambda-Runtime-Function-Response-Mode: streaming`), up to the streaming limit.
 */
export type ResponseMode = 'buffered' | 'streaming';

/** How a streamed response ended. */
export type StreamEnd =
  /** The runtime sent the final chunk without error trailers. */
  | { readonly kind: 'complete'; readonly bytes: number }
  /** The runtime reported an error in the trailers (type, and the decoded error body). */
  | {
      readonly kind: 'error';
      readonly errorType: string | undefined;
      readonly body: Buffer;
      readonly bytes: number;
    }
  /** The stream passed the limit: the rest was refused. */
  | { readonly kind: 'too-large'; readonly bytes: number; readonly limit: number }
  /** The connection closed before the final chunk. */
  | { readonly kind: 'truncated'; readonly bytes: number };

/** How the runtime answered an invocation. */
export type RuntimeAnswer =
  | { readonly kind: 'response'; readonly body: Buffer; readonly contentType: string | undefined }
  | { readonly kind: 'error'; readonly errorType: string | undefined; readonly body: Buffer }
  | { readonly kind: 'too-large'; readonly bytes: number }
  /**
   * A streamed response, in `streaming` mode only: the body yields the chunks as they arrive (it
   * is paused while nobody reads, which holds back the runtime) and ends when the stream does;
   * `ended` then says how.
   */
  | {
      readonly kind: 'stream';
      readonly contentType: string | undefined;
      readonly body: AsyncIterable<Buffer>;
      readonly ended: Promise<StreamEnd>;
    };

/** An init failure the runtime reported before it asked for work. */
export interface InitFailure {
  readonly errorType: string | undefined;
  readonly body: Buffer;
}
