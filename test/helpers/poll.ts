/** Waiting for a state with a deadline: reads it every 50 ms (so as not to load the server it watches). */

/** Reads a state every 50 ms until `ready` holds; fails with the last state after `deadlineMs`. */
export async function poll<T>(
  read: () => Promise<T>,
  ready: (value: T) => boolean,
  deadlineMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await read();
    if (ready(value)) return value;
    if (Date.now() > deadline)
      throw new Error(
        `${what} not ready after ${deadlineMs} ms: ${JSON.stringify(value).slice(0, 3000)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
