/**
 * CloudWatch Logs' errors and how they go on the wire (awsJson1_1): `{"__type": name, "message":
 * text}` with `application/x-amz-json-1.1`, HTTP 400 for everything the caller did (AWS answers
 * even ResourceNotFoundException with 400) and 500 for the platform's own failures. Errors met
 * before the service ran (a signature, a size, an access check) arrive as LambdaErrors and keep
 * their names.
 */
import { LambdaError } from '../core/errors.js';
import type { RpcAnswer } from './rpc-service.js';

/** The exception names the Logs API answers with. */
export type LogsErrorCode =
  | 'InvalidParameterException'
  | 'ResourceNotFoundException'
  | 'ValidationException'
  | 'SerializationException'
  | 'UnknownOperationException'
  | 'ThrottlingException'
  | 'ServiceUnavailableException';

export class LogsError extends Error {
  readonly code: LogsErrorCode;

  constructor(code: LogsErrorCode, message: string) {
    super(message);
    this.name = code;
    this.code = code;
  }
}

/** The errors raised in several places, with AWS's words. */
export const logsErrors = {
  invalidParameter: (message: string) => new LogsError('InvalidParameterException', message),
  groupNotFound: () =>
    new LogsError('ResourceNotFoundException', 'The specified log group does not exist.'),
  streamNotFound: () =>
    new LogsError('ResourceNotFoundException', 'The specified log stream does not exist.'),
  invalidToken: () =>
    new LogsError('InvalidParameterException', 'The specified nextToken is invalid.'),
  serialization: (message: string) => new LogsError('SerializationException', message),
  throttled: () => new LogsError('ThrottlingException', 'Rate exceeded'),
};

export const LOGS_CONTENT_TYPE = 'application/x-amz-json-1.1';

/** A successful answer with a JSON body (an empty one for operations without output). */
export function logsAnswer(body: unknown, requestId: string): RpcAnswer {
  return {
    status: 200,
    headers: { 'content-type': LOGS_CONTENT_TYPE, 'x-amzn-requestid': requestId },
    body: body === undefined ? '' : JSON.stringify(body),
  };
}

/** Any error as the Logs API answers it; unknown ones become ServiceUnavailableException. */
export function renderLogsError(error: unknown, requestId: string): RpcAnswer {
  let type: string;
  let message: string;
  let status = 400;
  if (error instanceof LogsError) {
    type = error.code;
    message = error.message;
    if (error.code === 'ServiceUnavailableException') status = 500;
  } else if (error instanceof LambdaError && error.spec.fault === 'client') {
    type = error.code;
    message = error.message;
  } else {
    type = 'ServiceUnavailableException';
    message = 'The service cannot complete the request.';
    status = 500;
  }
  return {
    status,
    headers: {
      'content-type': LOGS_CONTENT_TYPE,
      'x-amzn-requestid': requestId,
      'x-amzn-errortype': type,
    },
    body: JSON.stringify({ __type: type, message }),
  };
}
