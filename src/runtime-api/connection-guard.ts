/**
 * Caps the connections a jail holds on one of its environment's host sockets: at most
 * `perSocket` at once there, each also charged to the server-wide ConnectionBudget; a connection
 * over either cap is closed as soon as it is accepted. With `idleMs`, a connection that carries
 * nothing either way for that long is closed (for byte relays; HTTP servers time out idle
 * keep-alive connections themselves).
 */
import type { Server, Socket } from 'node:net';
import type { ConnectionBudget } from '../core/connection-budget.js';

export interface ConnectionLimits {
  readonly perSocket: number;
  readonly budget?: ConnectionBudget | undefined;
  /** Descriptors one accepted connection costs (a relay opens a second one). */
  readonly descriptorsEach?: number;
  readonly idleMs?: number | undefined;
  /**
   * Told of every connection that ended (closed, refused over a cap, or dropped by Node before it
   * was accepted) with the bytes the server read from it: a flood of connections, or of bodies
   * read and dropped, leaves its garbage to the server's memory reclaimer.
   */
  readonly onEnded?: ((bytesRead: number) => void) | undefined;
}

/** Applies `limits` to every connection `server` accepts from now on. */
export function guardConnections(server: Server, limits: ConnectionLimits): void {
  const cost = limits.descriptorsEach ?? 1;
  // Over the per-socket cap, Node closes the accepted descriptor before it builds a Socket for it:
  // a flood of connections costs the server next to nothing.
  server.maxConnections = limits.perSocket;
  const ended = limits.onEnded;
  if (ended !== undefined) server.on('drop', () => ended(0));
  server.on('connection', (socket: Socket) => {
    if (ended !== undefined) socket.once('close', () => ended(socket.bytesRead));
    if (!(limits.budget?.tryAcquire(cost) ?? true)) {
      socket.destroy();
      return;
    }
    socket.once('close', () => limits.budget?.release(cost));
    if (limits.idleMs !== undefined) socket.setTimeout(limits.idleMs, () => socket.destroy());
  });
}

/**
 * Keeps every connection `server` accepts, so that closing it never waits on a peer: `close()` of
 * a Node server waits until every accepted connection has ended, and a connection the peer keeps
 * half-open (an upgrade refused with `end`, a silent client) would hold an environment's teardown,
 * and with it the invoke waiting on it and the server's stop. Returns what destroys them all.
 */
export function trackConnections(server: Server): () => void {
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  return () => {
    for (const socket of open) socket.destroy();
    open.clear();
  };
}
