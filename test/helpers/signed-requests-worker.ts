/** The worker side of `sendInWorker`: sends the requests round after round, posts the outcomes. */
import { parentPort, workerData } from 'node:worker_threads';
import type { PreparedRequest, SentOutcome } from './signed-requests.js';

const { requests, rounds } = workerData as { requests: PreparedRequest[]; rounds: number };
const outcomes: SentOutcome[] = [];
for (let round = 0; round < rounds; round += 1) {
  for (const request of requests) {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
    });
    outcomes.push({
      status: response.status,
      type: response.headers.get('x-amzn-errortype'),
      text: (await response.text()).slice(0, 2000),
    });
  }
}
parentPort?.postMessage(outcomes);
