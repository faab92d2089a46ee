/**
 * Delivers telemetry batches to a subscriber inside a sandbox through connections into the
 * sandbox's loopback (InboundTunnels: a connection the jail offered, joined to the subscriber's
 * port; `docs/sandbox.md`). HTTP destinations get a POST of the JSON array to the subscribed
 * path, TCP destinations the events as NDJSON.
 */
import { request } from 'node:http';
import type { Socket } from 'node:net';
import type { TelemetryDestination } from '../core/extension-protocol.js';

/** Longest a delivery may take before it counts as failed (ms). */
const DELIVERY_TIMEOUT_MS = 30_000;

export class RelayTelemetrySender {
  readonly #connect: (port: number) => Promise<Socket>;

  /** `connect` opens a connection to a port on the sandbox's own loopback. */
  constructor(connect: (port: number) => Promise<Socket>) {
    this.#connect = connect;
  }

  send(destination: TelemetryDestination, events: readonly string[]): Promise<void> {
    return destination.protocol === 'HTTP'
      ? this.#post(destination.port, destination.path, `[${events.join(',')}]`)
      : this.#stream(destination.port, events.map((e) => `${e}\n`).join(''));
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
          createConnection: (_options, created: (error: Error | null, socket: Socket) => void) => {
            this.#connect(port).then(
              (socket) => created(null, socket),
              (error: unknown) => created(error as Error, undefined as unknown as Socket),
            );
            return undefined;
          },
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
    return this.#connect(port).then(
      (socket) =>
        new Promise((resolve, reject) => {
          socket.setTimeout(DELIVERY_TIMEOUT_MS, () => socket.destroy(new Error('timed out')));
          socket.on('error', reject);
          socket.end(ndjson, () => resolve());
        }),
    );
  }
}
