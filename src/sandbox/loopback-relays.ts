/**
 * What a jail's shell does with socat, done in the server's process for environments that run
 * without a jail: a loopback TCP port relayed to a unix socket (the Runtime API and the Lamina API
 * on their own ports, as a jail has them on 9001 and 9002), and an inbound tunnel that keeps one
 * connection offered to the platform's inbound socket and joins it to the loopback port named on
 * its first line (see runtime-api/inbound-tunnels.ts).
 */
import { connect, createServer, type Socket } from 'node:net';

/** A listening relay; `close` stops it and ends its connections. */
export interface LoopbackRelay {
  readonly port: number;
  close(): void;
}

/** Pipes two sockets into each other; either ending or failing ends both. */
function join(a: Socket, b: Socket): void {
  const end = () => {
    a.destroy();
    b.destroy();
  };
  a.on('error', end).on('close', end);
  b.on('error', end).on('close', end);
  a.pipe(b);
  b.pipe(a);
}

/** Listens on 127.0.0.1 (a free port) and relays each connection to the unix socket `path`. */
export async function openLoopbackRelay(path: string): Promise<LoopbackRelay> {
  const open = new Set<Socket>();
  const server = createServer((socket) => {
    const upstream = connect(path);
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    join(socket, upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.on('error', () => undefined);
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the relay has no port');
  return {
    port: address.port,
    close: () => {
      server.close();
      for (const socket of open) socket.destroy();
    },
  };
}

/** How long a refused or failed offer waits before the next (ms), as the jail's tunnel does. */
const RETRY_MS = 1000;
/** The most a first line (a port number) may take. */
const MAX_LINE = 16;

/**
 * Keeps one connection offered to the inbound socket `path`, one after another: each is joined to
 * 127.0.0.1:<port> once the platform names the port. Returns what stops offering.
 */
export function offerInbound(path: string): { close(): void } {
  let closed = false;
  let current: Socket | undefined;
  let retry: NodeJS.Timeout | undefined;
  const again = (delayMs: number) => {
    if (closed) return;
    retry = setTimeout(offer, delayMs);
    retry.unref();
  };
  const offer = () => {
    const socket = connect(path);
    current = socket;
    let line = '';
    let joined = false;
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (current === socket) current = undefined;
      again(joined ? 0 : RETRY_MS);
    });
    const onData = (chunk: Buffer) => {
      line += chunk.toString('latin1');
      const newline = line.indexOf('\n');
      if (newline < 0) {
        if (line.length > MAX_LINE) socket.destroy();
        return;
      }
      socket.off('data', onData);
      socket.pause();
      const port = Number(line.slice(0, newline));
      if (!Number.isInteger(port) || port < 1 || port > 65_535) return void socket.destroy();
      joined = true;
      const rest = Buffer.from(line.slice(newline + 1), 'latin1');
      const inside = connect(port, '127.0.0.1');
      if (rest.length > 0) inside.write(rest);
      join(socket, inside);
      socket.resume();
    };
    socket.on('data', onData);
  };
  offer();
  return {
    close: () => {
      closed = true;
      clearTimeout(retry);
      current?.destroy();
    },
  };
}
