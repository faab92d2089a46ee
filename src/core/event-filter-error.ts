/**
 * The one error the event-filter pattern language raises: every part of the compiler (the
 * pattern walker and each operator's argument parser) rejects through it, so a caller catches a
 * single type and can answer Lambda's `Invalid filter pattern definition.` with the reason.
 * Kept apart from the compiler so the operator modules can raise it without importing it back.
 */

/** An invalid pattern; the message is EventBridge's reason, short and safe to show the caller. */
export class FilterPatternError extends Error {
  override name = 'FilterPatternError';
}

/** Throws a FilterPatternError with EventBridge's `reason`; typed `never` for use in expressions. */
export function rejectPattern(reason: string): never {
  throw new FilterPatternError(reason);
}
