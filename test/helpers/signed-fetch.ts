/** Lamina's own API paths (those the SDK has no command for), signed like the CLI signs them. */
import { LaminaApiClient } from '../../src/cli/lamina-api-client.js';
import { TEST_CREDENTIALS } from './server-process.js';

export async function signedJson(
  endpoint: string,
  method: 'GET' | 'POST',
  path: string,
): Promise<{ status: number; json: unknown }> {
  const client = new LaminaApiClient({
    endpoint,
    region: 'us-east-1',
    credentials: TEST_CREDENTIALS,
  });
  return client.request(method, path);
}
