/**
 * Delivers telemetry batches to a subscriber inside a sandbox through the sandbox's inbound relay:
 * a connection to the relay's unix socket whose first line names the port inside the sandbox
 * (`docs/sandbox.md`). HTTP destinations get a POST of the JSON array to the subscribed path, TCP
 * destinations the events as NDJSON. Nothing from inside the sandbox can use this path outward.
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { TelemetryDestination } from '../core/extension-protocol.js';

/** Longest a delivery may take before it counts as failed (ms). */
const DELIVERY_TIMEOUT_MS = 30_000;

export class RelayTelemetrySender {
  readonly #socketPath: string;

  constructor(socketPath: string) {
    this.#socketPath = socketPath;
  }

  send(destination: TelemetryDestination, events: readonly string[]): Promise<void> {
    return destination.protocol === 'HTTP'
      ? this.#post(destination.port, destination.path, `[${events.join(',')}]`)
      : this.#stream(destination.port, events.map((e) => `${e}\n`).join(''));
  }

  #open(port: number): Socket {
    const socket = connect(this.#socketPath);
    socket.write(`${port}\n`);
    return socket;
  }

  #post(port: number, path: string, body: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          method: 'POST',
          path,
          headers: {
            Host: `sandbox.localdomain:${port}`,
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(body),
          },
          createConnection: () => this.#open(port),
          timeout: DELIVERY_TIMEOUT_MS,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 400) reject(new Error(`the subscriber answered ${status}`));
            else resolve();
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('the subscriber did not answer in time')));
      req.on('error', reject);
      req.end(body);
    });
  }

  #stream(port: number, ndjson: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = this.#open(port);
      socket.setTimeout(DELIVERY_TIMEOUT_MS, () => socket.destroy(new Error('timed out')));
      socket.on('error', reject);
      socket.end(ndjson, () => resolve());
    });
  }
}
