/**
 * Runs waves of raw uploads on a worker thread, so that sending them (hundreds of megabytes pushed
 * through loopback sockets, which costs the sending thread kernel time) does not hold up the test's
 * own event loop while it measures a victim's latency: what is measured is the server's doing.
 */
import { Worker } from 'node:worker_threads';
import type { UploadInit, UploadOutcome } from './raw-upload.js';

/** Uploads without a body of their own (the worker sends `A`s), one wave after the other. */
export type FloodWave = ReadonlyArray<Omit<UploadInit, 'body' | 'signal' | 'onBodyStarted'>>;

/** Sends each wave's uploads at once, waits for their answers, then sends the next wave. */
export function floodInWorker(
  endpoint: string,
  waves: readonly FloodWave[],
): Promise<UploadOutcome[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./upload-flood-worker.js', import.meta.url), {
      workerData: { endpoint, waves },
    });
    worker.once('message', (outcomes: UploadOutcome[]) => resolve(outcomes));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the upload worker exited with ${code}`));
    });
  });
}
