/**
 * Serves function URL requests: finds the URL by its id (404 when there is none), answers CORS
 * preflights, applies the URL's auth type (NONE: a public resource-policy statement; AWS_IAM: a
 * SigV4 signature by Lamina's credentials), runs the function and turns its answer into HTTP.
 */
import { LambdaError } from '../core/errors.js';
import type { FunctionUrlConfig } from '../core/function-url.js';
import { LIMITS } from '../core/limits.js';
import type { IncomingRequest, Sigv4Verifier } from '../core/sigv4-verifier.js';
import type { ApiContext } from './api-types.js';
import { renderError } from './error-response.js';
import {
  corsPreflightHeaders,
  corsResponseHeaders,
  isPreflight,
  withoutCorsHeaders,
} from './function-url-cors.js';
import { buildUrlEvent, type UrlCaller, type UrlRequestFacts } from './function-url-event.js';
import { badGateway, interpretUrlResponse, type UrlResponse } from './function-url-response.js';
import { streamedUrlResponse } from './function-url-stream.js';

/** A URL request: the facts for the event plus what authentication needs. */
export interface FunctionUrlRequest extends UrlRequestFacts {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The request as it arrived, for the SigV4 check of AWS_IAM URLs. */
  readonly signed: IncomingRequest;
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
}

export class FunctionUrlHandler {
  readonly #d: FunctionUrlHandlerDeps;

  constructor(deps: FunctionUrlHandlerDeps) {
    this.#d = deps;
  }

  /** Answers one URL request; never throws for a client's mistake. */
  async handle(req: FunctionUrlRequest): Promise<UrlResponse> {
    const ctx = this.#d.context;
    const config = await ctx.functionUrls.byUrlId(req.urlId);
    if (config === undefined) {
      return errorResponse(
        req.requestId,
        new LambdaError('ResourceNotFoundException', `No function URL has the id ${req.urlId}.`),
      );
    }
    if (config.cors !== undefined && isPreflight(req.method, req.headers)) {
      return {
        status: 200,
        headers: corsPreflightHeaders(config.cors, req.headers),
        body: Buffer.alloc(0),
      };
    }
    const response = await this.#authorisedAnswer(config, req);
    if (config.cors === undefined) return response;
    return {
      ...response,
      headers: {
        ...withoutCorsHeaders(response.headers),
        ...corsResponseHeaders(config.cors, req.headers),
      },
    };
  }

  async #authorisedAnswer(
    config: FunctionUrlConfig,
    req: FunctionUrlRequest,
  ): Promise<UrlResponse> {
    const ctx = this.#d.context;
    let caller: UrlCaller | undefined;
    if (config.authType === 'NONE') {
      if (!(await ctx.permissions.isUrlPublic(config.functionName, config.qualifier))) {
        return errorResponse(
          req.requestId,
          new LambdaError('AccessDeniedException', URL_FORBIDDEN),
        );
      }
    } else if (this.#d.verifier !== undefined) {
      try {
        const verified = await this.#d.verifier.verify(req.signed);
        caller = { accessKeyId: verified.accessKeyId, accountId: ctx.scope.accountId };
      } catch (error) {
        if (!(error instanceof LambdaError)) throw error;
        const refused =
          error.code === 'MissingAuthenticationTokenException'
            ? new LambdaError('AccessDeniedException', URL_FORBIDDEN)
            : error;
        return errorResponse(req.requestId, refused);
      }
    }
    if (req.body.length > LIMITS.invokePayloadBytes) return tooLarge(req.requestId);
    const payload = Buffer.from(JSON.stringify(buildUrlEvent(req, ctx.scope.accountId, caller)));
    if (payload.length > LIMITS.invokePayloadBytes) return tooLarge(req.requestId);
    try {
      return await this.#dispatchByInvokeMode(config, req, payload);
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

function errorResponse(requestId: string, error: LambdaError): UrlResponse {
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
