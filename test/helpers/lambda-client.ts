/** An AWS SDK Lambda client pointed at a test server. */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { TEST_CREDENTIALS } from './server-process.js';

export function lambdaClient(endpoint: string, credentials = TEST_CREDENTIALS): LambdaClient {
  return new LambdaClient({
    endpoint,
    region: 'us-east-1',
    credentials,
    maxAttempts: 1,
  });
}

export const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';

/** The AWS error a call failed with (name, message, HTTP status); throws if it succeeded. */
export async function failureOf(
  promise: Promise<unknown>,
): Promise<{ name: string; message: string; status: number | undefined }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}
