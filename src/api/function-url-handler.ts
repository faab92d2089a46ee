/**
 * Serves function URL requests in two steps. From the head alone (`admit`, before the body is
 * read): finds the URL by its id (404 when there is none), answers CORS preflights, and applies the
 * URL's auth type as far as the head goes (NONE: a public resource-policy statement; AWS_IAM: a
 * known key, in time, as `Sigv4Verifier.authenticate` checks it). With the body (`handle`): the
 * AWS_IAM signature is completed with the body's hash, the function runs and its answer becomes
 * HTTP.
 */
import { LambdaError } from '../core/errors.js';
import type { FunctionUrlConfig } from '../core/function-url.js';
import { LIMITS } from '../core/limits.js';
import type { PendingSignature, RequestHead, Sigv4Verifier } from '../core/sigv4-verifier.js';
import type { ApiContext } from './api-types.js';
import { renderError } from './error-response.js';
import {
  corsPreflightHeaders,
  corsResponseHeaders,
  isPreflight,
  withoutCorsHeaders,
} from './function-url-cors.js';
import { buildUrlEvent, type UrlCaller, type UrlRequestFacts } from './function-url-event.js';
import {
  badGateway,
  interpretUrlResponse,
  type BufferedUrlResponse,
  type UrlResponse,
} from './function-url-response.js';
import { streamedUrlResponse } from './function-url-stream.js';
import { traceHeaderOf } from './trace-header.js';

/** What a URL request's head tells, before its body is read. */
export interface UrlRequestHead {
  readonly urlId: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly requestId: string;
  /** The head as it arrived (the URL before any Host rewrite), for the SigV4 check. */
  readonly signed: RequestHead;
}

/** A URL request answered from its head: no such URL, a preflight, or refused by its auth type. */
export interface UrlAnswered {
  readonly kind: 'answered';
  readonly answer: BufferedUrlResponse;
}

/** A URL request let on to its body: its URL, and the AWS_IAM signature still to complete. */
export interface UrlAdmitted {
  readonly kind: 'admitted';
  readonly config: FunctionUrlConfig;
  readonly pending: PendingSignature | undefined;
}

export type UrlAdmission = UrlAnswered | UrlAdmitted;

/** A URL request with its body: the facts for the event plus what authentication needs. */
export interface FunctionUrlRequest extends UrlRequestFacts {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** How many body bytes arrived (`body` is empty when they were over the limit). */
  readonly receivedBytes: number;
  /** Hex SHA-256 of the body, to complete an AWS_IAM signature. */
  readonly payloadSha256Hex: string;
}

/** The message AWS answers for a URL request its auth type refuses. */
export const URL_FORBIDDEN =
  'Forbidden. For troubleshooting Function URL authorization issues, see: ' +
  'https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html';

/** What the URL handler uses besides the API context. */
export interface FunctionUrlHandlerDeps {
  readonly context: ApiContext;
  /** Undefined with `--auth none`: AWS_IAM URLs then accept unsigned requests too. */
  readonly verifier: Sigv4Verifier | undefined;
  /**
   * Whether the signer of an AWS_IAM request may invoke the URL (`lambda:InvokeFunctionUrl`,
   * its identity and the function's resource policy): the refusal's message, or undefined.
   */
  readonly authorize?:
    | ((
        accessKeyId: string,
        config: FunctionUrlConfig,
        sourceIp: string,
      ) => Promise<string | undefined>)
    | undefined;
}

export class FunctionUrlHandler {
  readonly #d: FunctionUrlHandlerDeps;

  constructor(deps: FunctionUrlHandlerDeps) {
    this.#d = deps;
  }

  /** Decides what the head alone can; never throws for a client's mistake. */
  async admit(head: UrlRequestHead): Promise<UrlAdmission> {
    const ctx = this.#d.context;
    const config = await ctx.functionUrls.byUrlId(head.urlId);
    if (config === undefined) {
      return answered(
        errorResponse(
          head.requestId,
          new LambdaError('ResourceNotFoundException', `No function URL has the id ${head.urlId}.`),
        ),
      );
    }
    if (config.cors !== undefined && isPreflight(head.method, head.headers)) {
      return answered({
        status: 200,
        headers: corsPreflightHeaders(config.cors, head.headers),
        body: Buffer.alloc(0),
      });
    }
    if (config.authType === 'NONE') {
      if (!(await ctx.permissions.isUrlPublic(config.functionName, config.qualifier))) {
        return this.#refused(config, head, new LambdaError('AccessDeniedException', URL_FORBIDDEN));
      }
      return { kind: 'admitted', config, pending: undefined };
    }
    if (this.#d.verifier === undefined) return { kind: 'admitted', config, pending: undefined };
    try {
      const pending = this.#d.verifier.authenticate(head.signed);
      // The verifier also takes the other services signed for at the API (IAM, STS, …); a URL
      // takes only a `lambda` scope, as on AWS.
      if (pending.service !== 'lambda')
        throw new LambdaError(
          'InvalidSignatureException',
          "Credential should be scoped to correct service: 'lambda'. ",
        );
      return { kind: 'admitted', config, pending };
    } catch (error) {
      if (!(error instanceof LambdaError)) throw error;
      const refused =
        error.code === 'MissingAuthenticationTokenException'
          ? new LambdaError('AccessDeniedException', URL_FORBIDDEN)
          : error;
      return this.#refused(config, head, refused);
    }
  }

  /** Answers an admitted URL request once its body is in; never throws for a client's mistake. */
  async handle(req: FunctionUrlRequest, admitted: UrlAdmitted): Promise<UrlResponse> {
    return withCors(admitted.config, req.headers, await this.#answer(admitted, req));
  }

  #refused(config: FunctionUrlConfig, head: UrlRequestHead, error: LambdaError): UrlAnswered {
    return answered(withCors(config, head.headers, errorResponse(head.requestId, error)));
  }

  async #answer(admitted: UrlAdmitted, req: FunctionUrlRequest): Promise<UrlResponse> {
    const ctx = this.#d.context;
    let caller: UrlCaller | undefined;
    if (admitted.pending !== undefined && this.#d.verifier !== undefined) {
      try {
        const verified = await this.#d.verifier.complete(admitted.pending, req.payloadSha256Hex);
        caller = { accessKeyId: verified.accessKeyId, accountId: ctx.scope.accountId };
        const refusal = await this.#d.authorize?.(
          verified.accessKeyId,
          admitted.config,
          req.sourceIp,
        );
        if (refusal !== undefined)
          return errorResponse(
            req.requestId,
            new LambdaError('AccessDeniedException', URL_FORBIDDEN),
          );
      } catch (error) {
        if (!(error instanceof LambdaError)) throw error;
        return errorResponse(req.requestId, error);
      }
    }
    if (req.receivedBytes > LIMITS.invokePayloadBytes) return tooLarge(req.requestId);
    const payload = Buffer.from(JSON.stringify(buildUrlEvent(req, ctx.scope.accountId, caller)));
    if (payload.length > LIMITS.invokePayloadBytes) return tooLarge(req.requestId);
    try {
      return await this.#dispatchByInvokeMode(admitted.config, req, payload);
    } catch (error) {
      if (error instanceof LambdaError) return errorResponse(req.requestId, error);
      throw error;
    }
  }

  /**
   * The one place where the URL's InvokeMode chooses how the function runs and is answered:
   * BUFFERED through Invoke (payload format 2.0 answer), RESPONSE_STREAM through the streaming
   * invoke, passed on to the client as the function writes it (function-url-stream.ts).
   */
  async #dispatchByInvokeMode(
    config: FunctionUrlConfig,
    req: FunctionUrlRequest,
    payload: Buffer,
  ): Promise<UrlResponse> {
    const request = {
      requestId: req.requestId,
      functionName: config.functionName,
      qualifier: config.qualifier,
      payload,
      clientContext: undefined,
      logTail: false,
      trigger: 'url' as const,
      traceHeader: traceHeaderOf(req.headers),
    };
    const { invocations } = this.#d.context;
    switch (config.invokeMode ?? 'BUFFERED') {
      case 'RESPONSE_STREAM':
        return streamedUrlResponse(await invocations.invokeStreaming(request));
      case 'BUFFERED': {
        const result = await invocations.invoke(request);
        if (result.outcome.kind === 'function-error') return badGateway();
        return interpretUrlResponse(result.outcome.payload) ?? badGateway();
      }
    }
  }
}

function answered(answer: BufferedUrlResponse): UrlAnswered {
  return { kind: 'answered', answer };
}

/** The URL's CORS headers on an answer (the function's own Access-Control-* dropped). */
function withCors<R extends UrlResponse>(
  config: FunctionUrlConfig,
  requestHeaders: FunctionUrlRequest['headers'],
  response: R,
): R {
  if (config.cors === undefined) return response;
  return {
    ...response,
    headers: {
      ...withoutCorsHeaders(response.headers),
      ...corsResponseHeaders(config.cors, requestHeaders),
    },
  };
}

function errorResponse(requestId: string, error: LambdaError): BufferedUrlResponse {
  const rendered = renderError(error, requestId);
  // URL errors carry only the message, as AWS sends them: `{"Message": "…"}`.
  const body = Buffer.from(JSON.stringify({ Message: error.message }));
  return { status: rendered.status, headers: rendered.headers, body };
}

function tooLarge(requestId: string): UrlResponse {
  return errorResponse(
    requestId,
    new LambdaError(
      'RequestTooLargeException',
      `Request must be smaller than ${LIMITS.invokePayloadBytes} bytes for the InvokeFunctionUrl operation`,
    ),
  );
}
