/**
 * Connections that have not sent a request are not "idle" to Node (`closeIdleConnections` leaves
 * them), so one client that connects and stays silent — from outside, or a frozen function
 * through its API relay — would hold a stopping server open until Node's own timeouts. This
 * tracks them and closes them when the server starts to close; connections with a request under
 * way finish it, as before.
 */
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

export function closeSilentConnectionsOnClose(app: FastifyInstance): void {
  const silent = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    silent.add(socket);
    socket.once('close', () => silent.delete(socket));
  });
  app.server.on('request', (request: { socket: Socket }) => silent.delete(request.socket));
  app.addHook('preClose', (done) => {
    for (const socket of silent) socket.destroy();
    silent.clear();
    done();
  });
}
