/**
 * Answers a request whose body is still arriving, without reading the rest of it. Node's own way
 * (`Connection: close`) would first read and discard the rest of the body, then reset the
 * connection the moment the answer is handed to the kernel, and a client still busy sending often
 * loses the answer to that reset (it sees EPIPE or ECONNRESET instead of the 403 or 429). So the
 * answer is written on the socket directly, the socket is no longer read (what the client still
 * sends waits in the kernel's small receive window), it is half-closed after the answer, and it is
 * destroyed `LINGER_MS` later, or when the server closes: long enough for the client to read the
 * answer, short enough that a flood of refused uploads holds nothing for long.
 */
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** How long a refused connection stays open (unread) for its client to read the answer. */
export const LINGER_MS = 2000;

/** Connections answered early and not yet destroyed, to destroy when the server closes. */
export class LingeringSockets {
  readonly #sockets = new Set<Socket>();

  /** Half-closes `socket` now and destroys it after `LINGER_MS`. */
  add(socket: Socket): void {
    this.#sockets.add(socket);
    const timer = setTimeout(() => socket.destroy(), LINGER_MS).unref();
    socket.once('close', () => {
      clearTimeout(timer);
      this.#sockets.delete(socket);
    });
    socket.end();
  }

  destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy();
  }
}

/** Sends `status`, the reply's headers plus `headers`, and `body`, then lets the connection go. */
export function answerBeforeBody(
  request: FastifyRequest,
  reply: FastifyReply,
  lingering: LingeringSockets,
  answer: {
    readonly status: number;
    readonly headers: Readonly<Record<string, string | readonly string[]>>;
    readonly body: string | Buffer;
  },
): FastifyReply {
  void reply.hijack();
  const socket = request.raw.socket;
  // Stop reading: the rest of the body is neither parsed nor buffered.
  socket.pause();
  if (socket.destroyed) return reply;
  const body = Buffer.from(answer.body);
  const headers: Record<string, string | number | readonly string[] | undefined> = {
    ...reply.getHeaders(),
    ...answer.headers,
    date: new Date().toUTCString(),
    'content-length': body.length,
    connection: 'close',
  };
  let head = `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) {
      // Written by hand, so checked by hand: a line break would split the answer.
      if (!/[\r\n]/.test(String(one))) head += `${name}: ${one}\r\n`;
    }
  }
  socket.write(`${head}\r\n`);
  socket.write(body);
  lingering.add(socket);
  return reply;
}
