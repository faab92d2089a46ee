/** Concurrency admission for an invocation (pure): reserved concurrency, then the account pool. */

export interface AdmissionInput {
  /** The function's reserved concurrency, if set. */
  readonly reserved: number | undefined;
  /** Invocations of this function running now. */
  readonly functionInFlight: number;
  /** Invocations of functions without reserved concurrency running now. */
  readonly unreservedInFlight: number;
  readonly accountLimit: number;
  /** Sum of every function's reserved concurrency. */
  readonly reservedTotal: number;
}

export type AdmissionReason =
  'ReservedFunctionConcurrentInvocationLimitExceeded' | 'ConcurrentInvocationLimitExceeded';

/** Undefined when the invocation may run, else the throttling reason AWS reports. */
export function admissionRefusal(input: AdmissionInput): AdmissionReason | undefined {
  if (input.reserved !== undefined) {
    return input.functionInFlight >= input.reserved
      ? 'ReservedFunctionConcurrentInvocationLimitExceeded'
      : undefined;
  }
  return input.unreservedInFlight >= input.accountLimit - input.reservedTotal
    ? 'ConcurrentInvocationLimitExceeded'
    : undefined;
}
