/**
 * The error catalogue: every error Lamina reports, with the AWS exception name, the HTTP status,
 * the casing of the message member AWS uses for it, who is at fault and whether a client may retry.
 * Each protocol (control API, Runtime API, CLI) renders a `LambdaError` from this one table.
 */

/** Who caused an error: the caller, the platform, or the function's own code. */
export type ErrorFault = 'client' | 'platform' | 'function';

/** One catalogue row. `messageKey` is the body member casing of the AWS service model. */
export interface ErrorSpec {
  readonly status: number;
  readonly messageKey: 'Message' | 'message';
  readonly fault: ErrorFault;
  readonly retryable: boolean;
  readonly hint: string;
}

const row = (
  status: number,
  messageKey: 'Message' | 'message',
  fault: ErrorFault,
  retryable: boolean,
  hint: string,
): ErrorSpec => ({ status, messageKey, fault, retryable, hint });

/** Error name → specification; names are the AWS exception names sent in `x-amzn-ErrorType`. */
export const ERROR_CATALOGUE = {
  InvalidParameterValueException: row(400, 'message', 'client', false, 'a field has a bad value'),
  ValidationException: row(400, 'message', 'client', false, 'a field breaks its pattern or length'),
  InvalidRequestContentException: row(
    400,
    'message',
    'client',
    false,
    'the body is not valid JSON',
  ),
  RequestEntityTooLargeException: row(413, 'message', 'client', false, 'the request is too large'),
  RequestTooLargeException: row(413, 'message', 'client', false, 'the payload is too large'),
  UnsupportedMediaTypeException: row(415, 'message', 'client', false, 'wrong content type'),
  ResourceNotFoundException: row(404, 'Message', 'client', false, 'no such resource'),
  ProvisionedConcurrencyConfigNotFoundException: row(
    404,
    'message',
    'client',
    false,
    'no provisioned concurrency configuration',
  ),
  ResourceConflictException: row(409, 'message', 'client', true, 'exists, or is being changed'),
  ResourceInUseException: row(400, 'Message', 'client', true, 'an event source mapping is busy'),
  PreconditionFailedException: row(412, 'message', 'client', false, 'RevisionId is stale'),
  PolicyLengthExceededException: row(400, 'message', 'client', false, 'the policy is too large'),
  TooManyRequestsException: row(429, 'message', 'client', true, 'a concurrency limit was hit'),
  AccessDeniedException: row(403, 'Message', 'client', false, 'not allowed'),
  InvalidSignatureException: row(403, 'message', 'client', false, 'SigV4 signature is wrong'),
  IncompleteSignatureException: row(403, 'message', 'client', false, 'SigV4 header is malformed'),
  UnrecognizedClientException: row(403, 'message', 'client', false, 'unknown access key'),
  ExpiredTokenException: row(403, 'message', 'client', false, 'temporary key past its expiry'),
  MissingAuthenticationTokenException: row(403, 'message', 'client', false, 'no SigV4 at all'),
  UnknownOperationException: row(404, 'message', 'client', false, 'no such API path'),
  ServiceException: row(500, 'Message', 'platform', true, 'an unexpected platform error'),
  InvalidRuntimeException: row(502, 'Message', 'platform', false, 'the runtime is not installed'),
  // EventBridge Scheduler's own (its model's statuses; the body member is `Message`).
  ConflictException: row(409, 'Message', 'client', false, 'the schedule or group already exists'),
  ServiceQuotaExceededException: row(402, 'Message', 'client', false, 'a schedule quota is full'),
  InternalServerException: row(500, 'Message', 'platform', true, 'an unexpected platform error'),
} as const satisfies Record<string, ErrorSpec>;

/** Name of a catalogued error. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Extra members some errors carry on the wire (throttles: `Reason` and `Retry-After`). */
export interface ErrorExtras {
  readonly reason?: string;
  readonly retryAfterSeconds?: number;
}

/** An error destined for a client; anything else thrown is rendered as `ServiceException`. */
export class LambdaError extends Error {
  readonly code: ErrorCode;
  readonly extras: ErrorExtras;

  constructor(code: ErrorCode, message: string, extras: ErrorExtras = {}) {
    super(message);
    this.name = code;
    this.code = code;
    this.extras = extras;
  }

  /** The catalogue row of this error. */
  get spec(): ErrorSpec {
    return ERROR_CATALOGUE[this.code];
  }
}

/** Shorthand constructors for the errors raised in many places. */
export const lambdaErrors = {
  invalidParameter: (message: string) => new LambdaError('InvalidParameterValueException', message),
  validation: (message: string) => new LambdaError('ValidationException', message),
  functionNotFound: (arn: string) =>
    new LambdaError('ResourceNotFoundException', `Function not found: ${arn}`),
  conflict: (message: string) => new LambdaError('ResourceConflictException', message),
  /** The one answer to invoking a function that is not Active (Pending, Inactive, Failed). */
  notActive: (state: string) =>
    new LambdaError(
      'ResourceConflictException',
      `The operation cannot be performed at this time. The function is currently in the following state: ${state}`,
    ),
  badJson: (message = 'Could not parse request body into json') =>
    new LambdaError('InvalidRequestContentException', message),
  staleRevision: () =>
    new LambdaError(
      'PreconditionFailedException',
      'The Revision Id provided does not match the latest Revision Id. ' +
        'Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
    ),
};
