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

/**
 * Reads a state now and again after every change `subscribe` reports, until `ready` holds (no
 * polling); fails with the last state after `deadlineMs`.
 */
export function untilChanged<T>(
  read: () => Promise<T>,
  ready: (value: T) => boolean,
  subscribe: (listener: () => void) => () => void,
  deadlineMs = 30_000,
  what = 'condition',
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let last: T | undefined;
    let reading = false;
    let again = false;
    let settled = false;
    const finish = (outcome: () => void) => {
      settled = true;
      unsubscribe();
      clearTimeout(deadline);
      outcome();
    };
    const check = () => {
      if (settled) return;
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      read().then(
        (value) => {
          reading = false;
          last = value;
          if (ready(value)) finish(() => resolve(value));
          else if (again) {
            again = false;
            check();
          }
        },
        (error: unknown) =>
          finish(() => reject(error instanceof Error ? error : new Error(String(error)))),
      );
    };
    const unsubscribe = subscribe(check);
    const deadline = setTimeout(
      () =>
        finish(() =>
          reject(
            new Error(
              `${what} not ready after ${deadlineMs} ms: ${JSON.stringify(last).slice(0, 3000)}`,
            ),
          ),
        ),
      deadlineMs,
    );
    check();
  });
}
