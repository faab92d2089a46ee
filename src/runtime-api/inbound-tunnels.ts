/**
 * Connections into an environment's own loopback, for delivering telemetry to subscribers that
 * listen inside the jail. The platform owns the unix socket (it creates it in the environment's
 * folder, which the jail cannot write); the jail's relay connects out to it and keeps one
 * connection waiting (`docs/sandbox.md`, section 5). To reach port P inside, the platform takes a
 * waiting connection and writes `P\n`; the relay joins it to 127.0.0.1:P, and the connection is
 * used once. Nothing is ever found by path in a folder the jail could touch, and a jail can use
 * this socket only to offer connections into itself.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { ConnectionLimits } from './connection-guard.js';
import { guardConnections, trackConnections } from './connection-guard.js';
import { listenUnix } from './listen-unix.js';

/** How long a delivery waits for the jail to offer a connection (ms). */
const OFFER_TIMEOUT_MS = 30_000;

export class InboundTunnels {
  readonly #server: Server;
  /** Connections the jail offered that nobody has taken yet, oldest first. */
  readonly #idle: Socket[] = [];
  readonly #waiting: Array<(socket: Socket | undefined) => void> = [];
  #closed = false;
  readonly #destroyConnections: () => void;

  constructor(limits: ConnectionLimits) {
    this.#server = createServer({ pauseOnConnect: true });
    guardConnections(this.#server, limits);
    this.#destroyConnections = trackConnections(this.#server);
    this.#server.on('connection', (socket) => this.#offered(socket));
    this.#server.on('error', () => undefined);
  }

  listen(path: string): Promise<void> {
    return listenUnix(this.#server, path);
  }

  /** A connection joined to 127.0.0.1:`port` inside the jail (rejects after 30 s without one). */
  open(port: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const take = (socket: Socket | undefined) => {
        clearTimeout(timer);
        if (socket === undefined) return reject(new Error('the environment is closing'));
        socket.write(`${port}\n`);
        socket.resume();
        resolve(socket);
      };
      const timer = setTimeout(() => {
        const at = this.#waiting.indexOf(take);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(new Error('the environment offered no connection in time'));
      }, OFFER_TIMEOUT_MS);
      const socket = this.#idle.shift();
      if (socket !== undefined) take(socket);
      else if (this.#closed) take(undefined);
      else this.#waiting.push(take);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const take of this.#waiting.splice(0)) take(undefined);
    this.#idle.splice(0);
    // Connections in use for a delivery, or offered and idle: none may hold the close.
    this.#destroyConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #offered(socket: Socket): void {
    if (socket.destroyed) return;
    socket.on('error', () => socket.destroy());
    const waiting = this.#waiting.shift();
    if (waiting !== undefined) return waiting(socket);
    this.#idle.push(socket);
    socket.once('close', () => {
      const at = this.#idle.indexOf(socket);
      if (at >= 0) this.#idle.splice(at, 1);
    });
  }
}
