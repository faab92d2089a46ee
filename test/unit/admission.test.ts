/** Admission decisions: reserved concurrency first, then the unreserved account pool. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { admissionRefusal, admit } from '../../src/core/admission.js';

const base = {
  functionInFlight: 0,
  provisioned: 0,
  provisionedInFlight: 0,
  unreservedInFlight: 0,
  accountLimit: 10,
  reservedTotal: 3,
};

test('reserved concurrency caps a function, 0 throttles every invoke', () => {
  assert.equal(
    admissionRefusal({ ...base, reserved: 0 }),
    'ReservedFunctionConcurrentInvocationLimitExceeded',
  );
  assert.equal(admissionRefusal({ ...base, reserved: 2, functionInFlight: 1 }), undefined);
  assert.equal(
    admissionRefusal({ ...base, reserved: 2, functionInFlight: 2 }),
    'ReservedFunctionConcurrentInvocationLimitExceeded',
  );
  // A reserved function does not draw on the unreserved pool.
  assert.equal(admissionRefusal({ ...base, reserved: 3, unreservedInFlight: 7 }), undefined);
});

test('unreserved functions share what the reservations leave', () => {
  assert.equal(
    admissionRefusal({ ...base, reserved: undefined, unreservedInFlight: 6 }),
    undefined,
  );
  assert.equal(
    admissionRefusal({ ...base, reserved: undefined, unreservedInFlight: 7 }),
    'ConcurrentInvocationLimitExceeded',
  );
});

test('provisioned concurrency of an unreserved function runs first, then spills to the pool', () => {
  const withProvisioned = { ...base, reserved: undefined, provisioned: 2, reservedTotal: 5 };
  assert.deepEqual(admit({ ...withProvisioned, provisionedInFlight: 1 }), { lane: 'provisioned' });
  assert.deepEqual(admit({ ...withProvisioned, provisionedInFlight: 2 }), { lane: 'unreserved' });
  assert.deepEqual(admit({ ...withProvisioned, provisionedInFlight: 2, unreservedInFlight: 5 }), {
    refused: 'ConcurrentInvocationLimitExceeded',
  });
  // Even with the unreserved pool exhausted, provisioned capacity still serves.
  assert.deepEqual(admit({ ...withProvisioned, unreservedInFlight: 5 }), { lane: 'provisioned' });
});
