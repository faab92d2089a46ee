/**
 * Concurrency admission for an invocation (pure): reserved concurrency, then the function's
 * provisioned concurrency, then the account's unreserved pool.
 */

export interface AdmissionInput {
  /** The function's reserved concurrency, if set. */
  readonly reserved: number | undefined;
  /** Invocations of this function running now. */
  readonly functionInFlight: number;
  /**
   * Provisioned concurrency of a function without a reservation (it is set aside from the
   * unreserved pool), and how many of its invocations run on it now.
   */
  readonly provisioned: number;
  readonly provisionedInFlight: number;
  /** Invocations running now on the unreserved pool. */
  readonly unreservedInFlight: number;
  readonly accountLimit: number;
  /** Concurrency set aside: every reservation, and provisioned concurrency without one. */
  readonly reservedTotal: number;
}

export type AdmissionReason =
  'ReservedFunctionConcurrentInvocationLimitExceeded' | 'ConcurrentInvocationLimitExceeded';

/** Which concurrency an admitted invocation counts against. */
export type AdmissionLane = 'reserved' | 'provisioned' | 'unreserved';

export type AdmissionDecision =
  { readonly lane: AdmissionLane } | { readonly refused: AdmissionReason };

export function admit(input: AdmissionInput): AdmissionDecision {
  if (input.reserved !== undefined) {
    return input.functionInFlight >= input.reserved
      ? { refused: 'ReservedFunctionConcurrentInvocationLimitExceeded' }
      : { lane: 'reserved' };
  }
  if (input.provisionedInFlight < input.provisioned) return { lane: 'provisioned' };
  return input.unreservedInFlight >= input.accountLimit - input.reservedTotal
    ? { refused: 'ConcurrentInvocationLimitExceeded' }
    : { lane: 'unreserved' };
}

/** Undefined when the invocation may run, else the throttling reason AWS reports. */
export function admissionRefusal(input: AdmissionInput): AdmissionReason | undefined {
  const decision = admit(input);
  return 'refused' in decision ? decision.refused : undefined;
}
