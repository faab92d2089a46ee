/** Renders errors in Lambda's restJson shape: status, `x-amzn-ErrorType`, `{Type, message}`. */
import { ERROR_CATALOGUE, LambdaError } from '../core/errors.js';

/** Status, headers and body of an error response. */
export interface RenderedError {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Renders a LambdaError; anything else becomes a ServiceException without internals. */
export function renderError(error: unknown, requestId: string): RenderedError {
  const lambdaError =
    error instanceof LambdaError
      ? error
      : new LambdaError(
          'ServiceException',
          `An internal error occurred (request ${requestId}); the server log has the details.`,
        );
  const spec = ERROR_CATALOGUE[lambdaError.code];
  const body: Record<string, unknown> = {
    Type: spec.fault === 'client' ? 'User' : 'Service',
    [spec.messageKey]: lambdaError.message,
  };
  const headers: Record<string, string> = {
    'x-amzn-errortype': lambdaError.code,
    'content-type': 'application/json',
  };
  if (lambdaError.extras.reason !== undefined) body['Reason'] = lambdaError.extras.reason;
  if (lambdaError.extras.retryAfterSeconds !== undefined) {
    headers['retry-after'] = String(lambdaError.extras.retryAfterSeconds);
  }
  return { status: spec.status, headers, body: JSON.stringify(body) };
}
