/**
 * The AWS services other than IAM and STS that share `POST /` with them (CloudWatch Logs, CloudWatch
 * metrics): each says which requests are its own (by `X-Amz-Target`, or by a Query form's
 * `Version`), the SigV4 signing name it is called with, and answers in its own protocol. The
 * caller's access is checked by the service, per operation, through `authorize`.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** What a service sees of a request at `POST /`. */
export interface RpcRequest {
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly requestId: string;
  /**
   * Refuses (throws AWS's AccessDeniedException, as a LambdaError) unless the caller may take
   * `action` on `resource`; the account's root and unauthenticated servers are always allowed.
   */
  readonly authorize: (action: string, resource: string) => Promise<void>;
}

/** A whole answer: status, headers and body. */
export interface RpcAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface RpcService {
  /** The service in the SigV4 scope (`logs`, `monitoring`). */
  readonly signingName: string;
  /** Largest request body taken, in bytes. */
  readonly bodyLimit: number;
  /** Whether a `POST /` request is this service's (from its head and, for Query forms, its body). */
  claims(headers: IncomingHttpHeaders, body: Buffer | undefined): boolean;
  /** Answers a request (errors too, in the service's own shape). */
  handle(request: RpcRequest): Promise<RpcAnswer>;
  /** The service's answer to an error met before `handle` ran (a signature, a size). */
  renderError(error: unknown, headers: IncomingHttpHeaders, requestId: string): RpcAnswer;
}

/** The service a `POST /` request is for, if not IAM or STS. */
export function rpcServiceOf(
  services: readonly RpcService[],
  headers: IncomingHttpHeaders,
  body: Buffer | undefined,
  signedService: string | undefined,
): RpcService | undefined {
  for (const service of services) {
    if (signedService === service.signingName || service.claims(headers, body)) return service;
  }
  return undefined;
}
