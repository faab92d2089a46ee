/**
 * CloudWatch's errors, each with its Query-protocol code (`<Code>` in XML, and the
 * `x-amzn-query-error` header of JSON answers), the shape id the JSON protocol puts in `__type`,
 * and its HTTP status (from the service model's awsQueryError traits).
 */

export class CloudWatchError extends Error {
  constructor(
    /** The Query code (`InvalidParameterValue`). */
    readonly code: string,
    /** The JSON `__type` (`com.amazonaws.cloudwatch#InvalidParameterValueException`). */
    readonly shape: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const CLOUDWATCH = 'com.amazonaws.cloudwatch#';
const CORAL_SERVICE = 'com.amazon.coral.service#';

export const cloudWatchErrors = {
  invalidParameterValue: (message: string) =>
    new CloudWatchError(
      'InvalidParameterValue',
      `${CLOUDWATCH}InvalidParameterValueException`,
      400,
      message,
    ),
  invalidParameterCombination: (message: string) =>
    new CloudWatchError(
      'InvalidParameterCombination',
      `${CLOUDWATCH}InvalidParameterCombinationException`,
      400,
      message,
    ),
  missingParameter: (message: string) =>
    new CloudWatchError(
      'MissingParameter',
      `${CLOUDWATCH}MissingRequiredParameterException`,
      400,
      message,
    ),
  invalidNextToken: (message: string) =>
    new CloudWatchError('InvalidNextToken', `${CLOUDWATCH}InvalidNextToken`, 400, message),
  /** A value outside the model's constraints (`1 validation error detected: …`). */
  validation: (message: string) =>
    new CloudWatchError(
      'ValidationError',
      'com.amazon.coral.validate#ValidationException',
      400,
      message,
    ),
  /** A body that is not JSON, or not a form. */
  serialization: (message: string) =>
    new CloudWatchError(
      'SerializationException',
      `${CORAL_SERVICE}SerializationException`,
      400,
      message,
    ),
  unknownOperation: (operation: string) =>
    new CloudWatchError(
      'InvalidAction',
      `${CORAL_SERVICE}UnknownOperationException`,
      400,
      `Could not find operation ${operation} for version 2010-08-01`,
    ),
  internal: () =>
    new CloudWatchError(
      'InternalServiceError',
      `${CLOUDWATCH}InternalServiceFault`,
      500,
      'An internal error occurred; the server log has the details.',
    ),
};

/**
 * The model's constraint message, AWS's way: `1 validation error detected: Value 'x' at 'path'
 * failed to satisfy constraint: Member must …` (the value cut short when long).
 */
export function constraintError(value: unknown, path: string, constraint: string): CloudWatchError {
  return cloudWatchErrors.validation(
    `1 validation error detected: Value '${shown(value)}' at '${path}' failed to satisfy constraint: ${constraint}`,
  );
}

function shown(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
