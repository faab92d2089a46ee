// The benchmark's SDK client and function deployment (CreateFunction, then the Active waiter).
import {
  CreateFunctionCommand,
  LambdaClient,
  waitUntilFunctionActiveV2,
} from '@aws-sdk/client-lambda';
import { functionZip } from './function-zip.mjs';

export const ROLE = 'arn:aws:iam::000000000000:role/lambda-role';

/** An SDK client for the server: one attempt per call, bounded request time. */
export function sdkClient(endpoint, credentials) {
  return new LambdaClient({
    endpoint,
    region: 'us-east-1',
    credentials,
    maxAttempts: 1,
    requestHandler: { requestTimeout: 30_000, connectionTimeout: 5_000 },
  });
}

/** Creates a Node.js function from one index.js and waits (bounded) until it is Active. */
export async function deployFunction(client, name, source, { memorySize, timeout = 10 } = {}) {
  await client.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs20.x',
      Role: ROLE,
      Handler: 'index.handler',
      Code: { ZipFile: await functionZip(source) },
      MemorySize: memorySize,
      Timeout: timeout,
    }),
  );
  const result = await waitUntilFunctionActiveV2(
    { client, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { FunctionName: name },
  );
  if (result.state !== 'SUCCESS') throw new Error(`${name} did not become Active: ${result.state}`);
}
