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

/** How the runtime answered an invocation. */
export type RuntimeAnswer =
  | { readonly kind: 'response'; readonly body: Buffer; readonly contentType: string | undefined }
  | { readonly kind: 'error'; readonly errorType: string | undefined; readonly body: Buffer }
  | { readonly kind: 'too-large'; readonly bytes: number };

/** An init failure the runtime reported before it asked for work. */
export interface InitFailure {
  readonly errorType: string | undefined;
  readonly body: Buffer;
}
