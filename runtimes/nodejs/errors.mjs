// Error classes the runtime reports and the two ways errors leave the process: the Runtime API
// payload `{errorType, errorMessage, trace}` and the `\t{json}` suffix of "Invoke Error" log lines.
// Shapes follow what nodejs20.x functions produce on AWS, quirks included (non-Error throws become
// `{errorType: typeof value, errorMessage: String(value), trace: []}`).
import { createRequire } from 'node:module';

// Through require(): an ES import of a builtin builds a facade over all of its exports, start-up
// time spent for nothing (see index.mjs).
const { types } = createRequire(import.meta.url)('node:util');

/** Base of the `Runtime.*` errors; subclasses get their wire name from the prototype. */
class RuntimeError extends Error {}

export class ImportModuleError extends RuntimeError {}
export class HandlerNotFound extends RuntimeError {}
export class MalformedHandlerName extends RuntimeError {}
export class UserCodeSyntaxError extends RuntimeError {}
export class MalformedStreamingHandler extends RuntimeError {}
export class InvalidStreamingOperation extends RuntimeError {}

/** An async handler whose process ran out of work before its promise settled. */
export class NodeJsExit extends RuntimeError {
  constructor() {
    super(
      'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes',
    );
  }
}

/** Wraps the reason of an unhandled rejection; `reason` and `promise` show up in the log line. */
export class UnhandledPromiseRejection extends RuntimeError {
  constructor(reason, promise) {
    super(safeString(reason));
    this.reason = reason;
    this.promise = promise;
  }
}

// The name is on the prototype (set before any instance exists, so stacks start with it) and is
// not an own property, which keeps it out of the enumerable fields logged by toFormatted.
for (const ErrorClass of [
  ImportModuleError,
  HandlerNotFound,
  MalformedHandlerName,
  UserCodeSyntaxError,
  MalformedStreamingHandler,
  InvalidStreamingOperation,
  NodeJsExit,
  UnhandledPromiseRejection,
]) {
  ErrorClass.prototype.name = `Runtime.${ErrorClass.name}`;
}

function safeString(value) {
  if (value === undefined) return '';
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** Objects that quack like errors (from another realm, or hand-built) are reported as errors. */
function isErrorLike(value) {
  return (
    types.isNativeError(value) ||
    (value !== null &&
      typeof value === 'object' &&
      typeof value.name === 'string' &&
      typeof value.message === 'string' &&
      typeof value.stack === 'string' &&
      value.name !== '' &&
      value.message !== '' &&
      value.stack !== '')
  );
}

// DEL would be rejected in HTTP headers further down the line; Lambda percent-encodes it.
function escapeDel(text) {
  return typeof text === 'string' && text.includes('\x7F') ? text.replaceAll('\x7F', '%7F') : text;
}

/** The body POSTed to `/invocation/{id}/error` and `/init/error`. */
export function toRapidResponse(error) {
  try {
    if (isErrorLike(error)) {
      return {
        errorType: escapeDel(error.name),
        errorMessage: escapeDel(error.message),
        trace: escapeDel(error.stack).split('\n'),
      };
    }
    return { errorType: typeof error, errorMessage: error.toString(), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

/** An error type as an HTTP header value: Node refuses control and non-ASCII characters. */
export function errorTypeHeader(errorType) {
  return String(errorType).replace(/[^\t\x20-\x7e]/g, '');
}

/** Anything thrown, as an Error (used where a log line needs one). */
export function intoError(value) {
  return value instanceof Error ? value : new Error(value);
}

// Errors nested anywhere in the logged value become plain objects with their stack as lines.
function enumerableError(_key, value) {
  if (!(value instanceof Error)) return value;
  const plain = Object.assign(
    { errorType: value.name, errorMessage: value.message, code: value.code },
    value,
  );
  if (typeof value.stack === 'string') plain.stack = value.stack.split('\n');
  return plain;
}

/** The `\t{json}` text that follows "Invoke Error" and friends in Text-format log lines. */
export function toFormatted(error) {
  try {
    return '\t' + JSON.stringify(error, enumerableError);
  } catch {
    return '\t' + JSON.stringify(toRapidResponse(error));
  }
}
