/**
 * A relay of one environment: a unix socket whose connections are joined to one TCP address on
 * the host. The Lamina API relay (bound at /run/lamina/api.sock, reached at 127.0.0.1:9002
 * inside) and each allow-listed host service (`--function-allow`, bound at
 * /run/lamina/host-<port>.sock, reached at host.lamina.internal:<port>) are one each, so functions
 * reach those addresses — and only them — on the host, and each environment's connections are
 * capped on their own.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { guardConnections, type ConnectionLimits } from '../runtime-api/connection-guard.js';
import { listenUnix } from '../runtime-api/listen-unix.js';

/** Where connections go (the Lamina API's is known once the HTTP server has started). */
export type RelayTarget = () => { readonly host: string; readonly port: number } | undefined;

/**
 * The local ports of the host-side connections every relay opens. A connection on one of them
 * comes from inside an environment although its peer is loopback: what trusts loopback clients
 * (`/metrics` without a token) asks this first.
 */
export class RelayedPorts {
  readonly #ports = new Set<number>();

  has(port: number | undefined): boolean {
    return port !== undefined && this.#ports.has(port);
  }

  add(port: number): void {
    this.#ports.add(port);
  }

  delete(port: number): void {
    this.#ports.delete(port);
  }
}

export class SocketRelay {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  readonly #relayed: RelayedPorts | undefined;

  constructor(target: RelayTarget, limits: ConnectionLimits, relayed?: RelayedPorts) {
    this.#relayed = relayed;
    // Each relayed connection costs two descriptors here (and one in the API server).
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

  #relay(inbound: Socket, target: ReturnType<RelayTarget>): void {
    if (inbound.destroyed) return;
    if (target === undefined) {
      inbound.destroy();
      return;
    }
    const outbound = connect({ host: target.host, port: target.port });
    for (const socket of [inbound, outbound]) {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    }
    inbound.on('error', () => {
      inbound.destroy();
      outbound.destroy();
    });
    // The host side failed (it answered early and closed, and a write met the reset, say): what
    // it answered is already written to the jail's side and is delivered before it ends; what the
    // jail still sends is read and dropped until it closes (or its idle timeout).
    outbound.on('error', () => {
      inbound.unpipe(outbound);
      outbound.destroy();
      inbound.end();
      inbound.resume();
    });
    // The jail's side gone (closed, or its idle timeout): the host side goes too. The host side
    // ending is passed on by the pipe, after what it answered (an early 403, say) is delivered.
    inbound.once('close', () => outbound.destroy());
    outbound.pipe(inbound);
    // Nothing of the jail's is sent before the connection's local port is known as relayed.
    outbound.once('connect', () => {
      const port = outbound.localPort;
      if (port !== undefined) {
        this.#relayed?.add(port);
        outbound.once('close', () => this.#relayed?.delete(port));
      }
      inbound.pipe(outbound);
    });
  }
}
