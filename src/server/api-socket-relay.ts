/**
 * A unix socket that relays byte streams to the Lamina API's TCP port. Every environment gets it
 * bound at /run/lamina/api.sock (and relayed to 127.0.0.1:9002 inside), so functions reach the
 * Lamina API — and only it — through their own network namespace.
 */
import { chmod, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';

export class ApiSocketRelay {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  constructor(targetHost: string, targetPort: number) {
    this.#server = createServer((inbound) => {
      const outbound = connect({ host: targetHost, port: targetPort });
      for (const socket of [inbound, outbound]) {
        this.#sockets.add(socket);
        socket.once('close', () => this.#sockets.delete(socket));
        socket.on('error', () => {
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.pipe(outbound).pipe(inbound);
    });
  }

  async listen(path: string): Promise<void> {
    await rm(path, { force: true });
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(path, resolve);
    });
    await chmod(path, 0o666);
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
