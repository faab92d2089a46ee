/** The function lifecycle state machine: allowed transitions and named refusals. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CREATED, awaitsPreparation, transition } from '../../src/core/function-lifecycle.js';
import type { FunctionStatus } from '../../src/core/function-model.js';

const ACTIVE: FunctionStatus = { state: 'Active', lastUpdateStatus: 'Successful' };
const failed = {
  kind: 'preparation-failed',
  reasonCode: 'InvalidZipFileException',
  reason: 'bad',
} as const;

function apply(
  status: FunctionStatus,
  event: Parameters<typeof transition>[1],
): FunctionStatus | string {
  const result = transition(status, event);
  return result.ok ? result.status : result.refusal;
}

test('created functions are Pending with the reason AWS gives', () => {
  assert.deepEqual(CREATED, {
    state: 'Pending',
    stateReason: 'The function is being created.',
    stateReasonCode: 'Creating',
  });
  assert.ok(awaitsPreparation(CREATED));
});

test('preparation moves Pending to Active and Successful', () => {
  assert.deepEqual(apply(CREATED, { kind: 'prepared' }), ACTIVE);
  assert.ok(!awaitsPreparation(ACTIVE));
});

test('updates start only from a settled function', () => {
  assert.equal(apply(CREATED, { kind: 'update-started' }), 'pending');
  const inProgress = apply(ACTIVE, { kind: 'update-started' });
  assert.deepEqual(inProgress, {
    state: 'Active',
    lastUpdateStatus: 'InProgress',
    lastUpdateStatusReason: 'The function is being created.',
    lastUpdateStatusReasonCode: 'Creating',
  });
  assert.equal(
    apply(inProgress as FunctionStatus, { kind: 'update-started' }),
    'update-in-progress',
  );
  assert.deepEqual(apply(inProgress as FunctionStatus, { kind: 'prepared' }), ACTIVE);
});

test('failures: a failed creation is Failed; a failed update keeps the state', () => {
  assert.deepEqual(apply(CREATED, failed), {
    state: 'Failed',
    stateReason: 'bad',
    stateReasonCode: 'InvalidZipFileException',
    lastUpdateStatus: 'Failed',
    lastUpdateStatusReason: 'bad',
    lastUpdateStatusReasonCode: 'InvalidZipFileException',
  });
  const inProgress = apply(ACTIVE, { kind: 'update-started' }) as FunctionStatus;
  assert.deepEqual(apply(inProgress, failed), {
    state: 'Active',
    lastUpdateStatus: 'Failed',
    lastUpdateStatusReason: 'bad',
    lastUpdateStatusReasonCode: 'InvalidZipFileException',
  });
  const failedFunction = apply(CREATED, failed) as FunctionStatus;
  assert.equal(
    (apply(failedFunction, { kind: 'update-started' }) as FunctionStatus).lastUpdateStatus,
    'InProgress',
  );
});

test('completing when nothing is owed is refused', () => {
  assert.equal(apply(ACTIVE, { kind: 'prepared' }), 'nothing-to-complete');
  assert.equal(apply(ACTIVE, failed), 'nothing-to-complete');
});
