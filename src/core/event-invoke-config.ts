/**
 * Asynchronous-invocation settings (EventInvokeConfig) of one function version or alias, their
 * defaults and limits, and the destination ARN rules PutFunctionEventInvokeConfig checks.
 */

/** The stored settings; an unset field falls back to `ASYNC_DEFAULTS` when events run. */
export interface EventInvokeConfig {
  readonly functionName: string;
  /** `$LATEST`, a published version number or an alias name. */
  readonly qualifier: string;
  /** 0–2; undefined: not set (AWS then retries twice). */
  readonly maximumRetryAttempts: number | undefined;
  /** 60–21,600 s; undefined: not set (six hours). */
  readonly maximumEventAgeSeconds: number | undefined;
  /** Destination ARN for successful events. */
  readonly onSuccess: string | undefined;
  /** Destination ARN for events that failed or expired. */
  readonly onFailure: string | undefined;
  readonly lastModifiedMs: number;
}

/** What applies when a function has no EventInvokeConfig (or leaves a field unset). */
export const ASYNC_DEFAULTS = {
  maximumRetryAttempts: 2,
  maximumEventAgeSeconds: 21_600,
} as const;

/** The ranges AWS accepts. */
export const ASYNC_LIMITS = {
  maximumRetryAttempts: { min: 0, max: 2 },
  maximumEventAgeSeconds: { min: 60, max: 21_600 },
} as const;

/** The pattern of `DestinationConfig.*.Destination`, as AWS prints it in validation messages. */
export const DESTINATION_PATTERN =
  '$|kafka://([^.]([a-zA-Z0-9\\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)';

const DESTINATION_RE =
  /^(?:|kafka:\/\/[^.][a-zA-Z0-9_.-]{0,248}|arn:aws[a-zA-Z0-9-]*:[a-zA-Z0-9-]+:(?:(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d)?:(?:\d{12})?:.*)$/;

/** Whether a destination matches AWS's pattern (an empty string does, and means "none"). */
export function isDestinationArn(value: string): boolean {
  return DESTINATION_RE.test(value);
}

/** The service part of a destination (`lambda`, `sqs`, `sns`, `events`, `s3`, `kafka`, …). */
export function destinationService(arn: string): string {
  if (arn.startsWith('kafka://')) return 'kafka';
  return arn.split(':')[2] ?? '';
}

/** Services AWS delivers asynchronous invocation records to. */
export const AWS_DESTINATION_SERVICES = ['lambda', 'sqs', 'sns', 'events', 's3', 'kafka'] as const;
