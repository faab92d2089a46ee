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
