/**
 * The Lamina API relay of one environment: a unix socket whose connections are joined to the
 * Lamina API's TCP port. Each environment gets its own (bound at /run/lamina/api.sock and relayed
 * to 127.0.0.1:9002 inside), so functions reach the Lamina API — and only it — through their own
 * network namespace, and each environment's connections are capped on their own.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { guardConnections, type ConnectionLimits } from '../runtime-api/connection-guard.js';
import { listenUnix } from '../runtime-api/listen-unix.js';

/** Where the Lamina API listens (known once the HTTP server has started). */
export type ApiTarget = () => { readonly host: string; readonly port: number } | undefined;

export class ApiSocketRelay {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  constructor(target: ApiTarget, limits: ConnectionLimits) {
    // Each relayed connection costs two descriptors here and one in the API server.
    this.#server = createServer();
    guardConnections(this.#server, { ...limits, descriptorsEach: 3 });
    this.#server.on('connection', (inbound) => this.#relay(inbound, target()));
    this.#server.on('error', () => undefined);
  }

  listen(path: string): Promise<void> {
    return listenUnix(this.#server, path);
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #relay(inbound: Socket, target: ReturnType<ApiTarget>): void {
    if (inbound.destroyed) return;
    if (target === undefined) {
      inbound.destroy();
      return;
    }
    const outbound = connect({ host: target.host, port: target.port });
    for (const socket of [inbound, outbound]) {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      socket.on('error', () => {
        inbound.destroy();
        outbound.destroy();
      });
    }
    // The jail's side gone (closed, or its idle timeout): the API side goes too. The API side
    // ending is passed on by the pipe, after what it answered (an early 403, say) is delivered.
    inbound.once('close', () => outbound.destroy());
    inbound.pipe(outbound).pipe(inbound);
  }
}
