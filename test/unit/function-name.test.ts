/** Function names, partial and full ARNs, and qualifiers, with AWS's recorded messages. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LambdaError } from '../../src/core/errors.js';
import {
  CREATE_NAME_PATTERN,
  NAMESPACED_NAME_PATTERN,
  parseFunctionName,
  parseNameForCreate,
} from '../../src/core/function-name.js';

const scope = { region: 'us-east-1', accountId: '000000000000' };
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function';

function failure(fn: () => unknown): LambdaError {
  try {
    fn();
  } catch (error) {
    if (error instanceof LambdaError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

describe('parseFunctionName', () => {
  const accepted: Array<[string, string | undefined, string, string | undefined]> = [
    ['my-fn', undefined, 'my-fn', undefined],
    ['my-fn:live', undefined, 'my-fn', 'live'],
    ['my-fn', '$LATEST', 'my-fn', '$LATEST'],
    ['000000000000:function:my-fn', undefined, 'my-fn', undefined],
    [`${ARN}:my-fn`, undefined, 'my-fn', undefined],
    [`${ARN}:my-fn:7`, '7', 'my-fn', '7'],
    [`${ARN}:my-fn:$LATEST`, undefined, 'my-fn', '$LATEST'],
    ['with.dots', undefined, 'with.dots', undefined],
    ['arn:aws:lambda:us-east-1:000000000000:function', undefined, 'function', undefined],
  ];
  for (const [input, qualifier, name, expectedQualifier] of accepted) {
    test(`accepts ${input} ${qualifier ?? ''}`, () => {
      assert.deepEqual(parseFunctionName(input, qualifier, scope), {
        name,
        qualifier: expectedQualifier,
      });
    });
  }

  const invalid = [
    'my-function!',
    '*',
    'invalid-account:function:my-function',
    `${ARN}:my-function:1:2`,
    'arn:aws:ec2:us-east-1:000000000000:instance:i-1',
    `${ARN}:my-function:$LATES`,
  ];
  for (const input of invalid) {
    test(`rejects ${input} with the namespaced pattern`, () => {
      const error = failure(() => parseFunctionName(input, undefined, scope));
      assert.equal(error.code, 'ValidationException');
      assert.equal(
        error.message,
        `1 validation error detected: Value '${input}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${NAMESPACED_NAME_PATTERN}`,
      );
    });
  }

  test('gathers a bad qualifier and a bad name into one message', () => {
    const error = failure(() => parseFunctionName('bad!', 'q'.repeat(129), scope));
    assert.match(
      error.message,
      /^2 validation errors detected: Value 'q+' at 'qualifier' failed to satisfy constraint: Member must have length less than or equal to 128; Value 'bad!' at 'functionName'/,
    );
  });

  test('a qualifier in the name must match the parameter', () => {
    const error = failure(() => parseFunctionName(`${ARN}:my-fn:1`, '$LATEST', scope));
    assert.equal(error.code, 'InvalidParameterValueException');
    assert.equal(
      error.message,
      'The derived qualifier from the function name does not match the specified qualifier.',
    );
  });

  test('other regions are unreachable, other accounts are denied', () => {
    const region = failure(() =>
      parseFunctionName('arn:aws:lambda:eu-west-1:000000000000:function:f', undefined, scope),
    );
    assert.equal(region.code, 'ResourceNotFoundException');
    assert.equal(
      region.message,
      "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')",
    );
    assert.equal(
      failure(() => parseFunctionName('123456789012:function:f', undefined, scope)).code,
      'AccessDeniedException',
    );
  });
});

describe('parseNameForCreate', () => {
  test('accepts a name, partial ARN and full ARN', () => {
    for (const input of ['fn', '000000000000:function:fn', `${ARN}:fn`]) {
      assert.deepEqual(parseNameForCreate(input, scope), { name: 'fn', qualifier: undefined });
    }
  });

  test('a 65-character name is InvalidParameterValueException with the length constraint', () => {
    const name = 'a'.repeat(65);
    const error = failure(() => parseNameForCreate(name, scope));
    assert.equal(error.code, 'InvalidParameterValueException');
    assert.equal(
      error.message,
      `1 validation error detected: Value '${name}' at 'functionName' failed to satisfy constraint: Member must have length less than or equal to 64`,
    );
  });

  test('dots and bad characters fail the strict create pattern', () => {
    for (const input of ['with.dots', 'invalid:function:name']) {
      const error = failure(() => parseNameForCreate(input, scope));
      assert.equal(error.code, 'ValidationException');
      assert.equal(
        error.message,
        `1 validation error detected: Value '${input}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${CREATE_NAME_PATTERN}`,
      );
    }
  });

  test('an over-long invalid ARN reports both the length and the pattern', () => {
    const input = `arn:aws:lambda:invalid-region:000000000000:function:my-function-${'a'.repeat(170)}`;
    const error = failure(() => parseNameForCreate(input, scope));
    assert.match(
      error.message,
      /^2 validation errors detected: .*less than or equal to 140; .*regular expression pattern/,
    );
  });

  test('a missing name is a not-null violation', () => {
    const error = failure(() => parseNameForCreate(undefined, scope));
    assert.equal(
      error.message,
      "1 validation error detected: Value null at 'functionName' failed to satisfy constraint: Member must not be null",
    );
  });
});
