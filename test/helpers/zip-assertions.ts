/** Assertions on the errors that refuse an archive. */
import assert from 'node:assert/strict';
import { LambdaError } from '../../src/core/errors.js';

export const UNZIP_FAILED =
  'Could not unzip uploaded file. Please check your file, then try to upload again.';

/** Rejects with the "Could not unzip" error (and, if given, a reason matching `reason`). */
export async function assertUnsafe(promise: Promise<unknown>, reason?: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof LambdaError, `not a LambdaError: ${String(error)}`);
    assert.equal(error.code, 'InvalidParameterValueException');
    assert.ok(error.message.startsWith(UNZIP_FAILED), error.message);
    if (reason !== undefined) assert.match(error.message, reason);
    return true;
  });
}

/** Rejects with the size-limit error and its exact message. */
export async function assertTooBig(promise: Promise<unknown>, limit: number): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof LambdaError, `not a LambdaError: ${String(error)}`);
    assert.equal(error.code, 'InvalidParameterValueException');
    assert.equal(error.message, `Unzipped size must be smaller than ${limit} bytes`);
    return true;
  });
}
