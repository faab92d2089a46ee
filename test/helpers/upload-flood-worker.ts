/** The worker side of `floodInWorker`: runs the waves and posts every outcome back. */
import { parentPort, workerData } from 'node:worker_threads';
import { rawUpload, type UploadOutcome } from './raw-upload.js';
import type { FloodWave } from './upload-flood.js';

const { endpoint, waves } = workerData as { endpoint: string; waves: FloodWave[] };
const outcomes: UploadOutcome[] = [];
for (const wave of waves) {
  outcomes.push(...(await Promise.all(wave.map((init) => rawUpload(endpoint, init)))));
}
parentPort?.postMessage(outcomes);
