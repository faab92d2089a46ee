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

/**
 * Polls `read` (every 50 ms, so as not to load the server it watches) until `done` holds for its
 * value, or fails after `timeoutMs`.
 */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not reached in ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
