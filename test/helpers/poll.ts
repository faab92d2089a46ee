/** Waiting for a state with a deadline: reads it every 50 ms (so as not to load the server it watches). */
import { readFile } from 'node:fs/promises';
import { mountPointsOf } from '../../src/sandbox/mountinfo.js';

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

/**
 * Waits until nothing is mounted under `prefix` (a killed server's watchdog unmounts its run
 * folder and ephemeral file systems in the background), up to `deadlineMs`.
 */
export async function mountsGone(
  prefix: string,
  deadlineMs = 15_000,
  what?: string,
): Promise<void> {
  await poll(
    async () =>
      mountPointsOf(await readFile('/proc/self/mountinfo', 'utf8')).filter((point) =>
        point.startsWith(prefix),
      ),
    (left) => left.length === 0,
    deadlineMs,
    what ?? `nothing mounted under ${prefix}`,
  );
}
