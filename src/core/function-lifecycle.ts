/**
 * The function lifecycle as a state machine that rejects by default: creation leaves a function
 * Pending until its code is prepared; an update leaves it InProgress until prepared again. Every
 * transition not listed is an error with a name, which the service reports as AWS does.
 */
import { lambdaErrors } from './errors.js';
import type { CodeRef, FunctionStatus, FunctionVersion } from './function-model.js';

/** Something that happens to a function. */
export type LifecycleEvent =
  | { readonly kind: 'created' }
  | { readonly kind: 'update-started' }
  | { readonly kind: 'prepared' }
  | { readonly kind: 'preparation-failed'; readonly reasonCode: string; readonly reason: string };

/** Why a transition was refused. */
export type LifecycleRefusal = 'pending' | 'update-in-progress' | 'nothing-to-complete';

export type LifecycleResult =
  | { readonly ok: true; readonly status: FunctionStatus }
  | { readonly ok: false; readonly refusal: LifecycleRefusal };

const BEING_CREATED = 'The function is being created.';

/** The status of a function that has just been created. */
export const CREATED: FunctionStatus = {
  state: 'Pending',
  stateReason: BEING_CREATED,
  stateReasonCode: 'Creating',
};

/** Applies an event to a status. Pure. */
export function transition(status: FunctionStatus, event: LifecycleEvent): LifecycleResult {
  const ok = (next: FunctionStatus): LifecycleResult => ({ ok: true, status: next });
  const refuse = (refusal: LifecycleRefusal): LifecycleResult => ({ ok: false, refusal });
  const pending = status.state === 'Pending';
  const inProgress = status.lastUpdateStatus === 'InProgress';

  switch (event.kind) {
    case 'created':
      return ok(CREATED);
    case 'update-started':
      if (pending) return refuse('pending');
      if (inProgress) return refuse('update-in-progress');
      return ok({
        state: status.state,
        ...reasonOf(status),
        lastUpdateStatus: 'InProgress',
        lastUpdateStatusReason: BEING_CREATED,
        lastUpdateStatusReasonCode: 'Creating',
      });
    case 'prepared':
      if (pending || inProgress) return ok({ state: 'Active', lastUpdateStatus: 'Successful' });
      return refuse('nothing-to-complete');
    case 'preparation-failed':
      if (pending) {
        return ok({
          state: 'Failed',
          stateReason: event.reason,
          stateReasonCode: event.reasonCode,
          lastUpdateStatus: 'Failed',
          lastUpdateStatusReason: event.reason,
          lastUpdateStatusReasonCode: event.reasonCode,
        });
      }
      if (inProgress) {
        return ok({
          state: status.state,
          ...reasonOf(status),
          lastUpdateStatus: 'Failed',
          lastUpdateStatusReason: event.reason,
          lastUpdateStatusReasonCode: event.reasonCode,
        });
      }
      return refuse('nothing-to-complete');
  }
}

/** True while a preparation is owed (after create or update, before it finished). */
export function awaitsPreparation(status: FunctionStatus): boolean {
  return status.state === 'Pending' || status.lastUpdateStatus === 'InProgress';
}

function reasonOf(status: FunctionStatus): Pick<FunctionStatus, 'stateReason' | 'stateReasonCode'> {
  return status.state === 'Failed' && status.stateReason !== undefined
    ? {
        stateReason: status.stateReason,
        stateReasonCode: status.stateReasonCode ?? 'InternalError',
      }
    : {};
}

/**
 * The code an invocation of `version` runs: what was prepared for it while it is Active (during
 * an update, the code prepared before the update began). Any other state is the one "function is
 * not active" error, for synchronous and asynchronous invokes alike.
 */
export function invocableCode(version: FunctionVersion): CodeRef {
  const code = version.readyCode;
  if (version.status.state !== 'Active' || code === undefined)
    throw lambdaErrors.notActive(version.status.state);
  return code;
}
