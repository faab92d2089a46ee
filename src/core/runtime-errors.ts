/**
 * The runtime error catalogue: every error type an execution environment reports, beside the
 * control API's exceptions in `errors.ts`. Two kinds:
 * - invocation errors, which end an invocation or an init: the Invoke response carries them as
 *   `X-Amz-Function-Error: Unhandled` with `{"errorType", "errorMessage"}` (HTTP 200), as do the
 *   REPORT line, the platform telemetry records and asynchronous events;
 * - refusals of the Runtime, Extensions, Telemetry and Logs APIs, answered to the function's own
 *   processes with the row's HTTP status.
 * Each row says who is at fault and whether trying the invocation again may succeed.
 */
import type { ErrorFault } from './errors.js';

/** Where the error is reported. */
export type RuntimeErrorSurface = 'invocation' | 'runtime-api' | 'extensions-api';

export interface RuntimeErrorSpec {
  readonly surface: RuntimeErrorSurface;
  /** HTTP status of a refusal (invocation errors travel in a 200 Invoke response). */
  readonly status: number;
  readonly fault: ErrorFault;
  /** Whether the same invocation may succeed when tried again. */
  readonly retryable: boolean;
  readonly hint: string;
}

const invocation = (fault: ErrorFault, retryable: boolean, hint: string): RuntimeErrorSpec => ({
  surface: 'invocation',
  status: 200,
  fault,
  retryable,
  hint,
});
const refusal = (
  surface: 'runtime-api' | 'extensions-api',
  status: number,
  hint: string,
): RuntimeErrorSpec => ({ surface, status, fault: 'function', retryable: false, hint });

export const RUNTIME_ERROR_CATALOGUE = {
  // Invocation and init errors.
  Unhandled: invocation('function', true, 'the function failed without naming its error'),
  'Runtime.ExitError': invocation('function', true, 'the runtime process exited or was killed'),
  'Runtime.Unknown': invocation('function', true, 'the runtime reported an error without a type'),
  'Runtime.InvalidEntrypoint': invocation('function', false, 'no runtime or handler to start'),
  'Runtime.InvalidWorkingDirectory': invocation(
    'function',
    false,
    "an image's working directory is missing",
  ),
  'Runtime.TruncatedResponse': invocation('function', true, 'a streamed response stopped early'),
  'Sandbox.Timedout': invocation('function', true, 'the invocation or init ran out of time'),
  'Function.ResponseSizeTooLarge': invocation('function', false, 'the response passed its limit'),
  'Extension.Crash': invocation('function', true, 'an extension exited during the invocation'),
  'Extension.LaunchError': invocation('function', true, 'an extension could not be started'),
  'Extension.InitError': invocation('function', true, 'an extension reported an init error'),
  'Extension.ExitError': invocation('function', true, 'an extension reported an exit error'),
  // Runtime API refusals.
  InvalidRequestID: refusal('runtime-api', 400, 'not the current invocation'),
  InvalidStateTransition: refusal('runtime-api', 403, 'the call does not fit the lifecycle'),
  InvalidResponseModeHeader: refusal('runtime-api', 400, 'unknown response mode'),
  RequestEntityTooLarge: refusal('runtime-api', 413, 'the body passed its limit'),
  UnknownOperation: refusal('runtime-api', 404, 'no such path or method'),
  // Extensions, Telemetry and Logs API refusals.
  'Extension.MissingExtensionIdentifier': refusal('extensions-api', 403, 'no identifier header'),
  'Extension.InvalidExtensionIdentifier': refusal('extensions-api', 403, 'malformed identifier'),
  'Extension.UnknownExtensionIdentifier': refusal('extensions-api', 403, 'not registered'),
  'Extension.InvalidExtensionName': refusal('extensions-api', 403, 'name does not match a file'),
  'Extension.MissingHeader': refusal('extensions-api', 403, 'a required header is missing'),
  'Extension.InvalidEventType': refusal('extensions-api', 403, 'only INVOKE and SHUTDOWN exist'),
  'Extension.InvalidExtensionState': refusal('extensions-api', 403, 'wrong phase for the call'),
  'Extension.RegistrationClosed': refusal('extensions-api', 403, 'init is over'),
  'Extension.TooManyExtensions': refusal('extensions-api', 403, 'more than ten extensions'),
  InvalidRequestFormat: refusal('extensions-api', 403, 'the body is not a registration'),
  ValidationError: refusal('extensions-api', 400, 'a bad Telemetry API subscription'),
  'Logs.ValidationError': refusal('extensions-api', 400, 'a bad Logs API subscription'),
  'Telemetry.SubscriptionClosed': refusal('extensions-api', 403, 'subscribing after init'),
  'Logs.SubscriptionClosed': refusal('extensions-api', 403, 'subscribing after init'),
} as const satisfies Record<string, RuntimeErrorSpec>;

/** Name of a catalogued runtime error. */
export type RuntimeErrorType = keyof typeof RUNTIME_ERROR_CATALOGUE;

/** The row of `type`; undefined for a type the function chose itself (`MyError`). */
export function runtimeErrorSpec(type: string): RuntimeErrorSpec | undefined {
  return Object.hasOwn(RUNTIME_ERROR_CATALOGUE, type)
    ? RUNTIME_ERROR_CATALOGUE[type as RuntimeErrorType]
    : undefined;
}

/** The HTTP status a refusal of `type` is answered with. */
export function refusalStatus(type: RuntimeErrorType): number {
  return RUNTIME_ERROR_CATALOGUE[type].status;
}
