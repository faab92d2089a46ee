/**
 * The launcher process (see process-launcher.ts): starts the programs the server asks for and
 * hands the server its ends of their pipes, then tells it their pid and how they ended. It imports
 * Node.js alone, so that it starts fast and stays small (its forks are cheap); it exits when the
 * server's channel closes, and with it every sandbox (bubblewrap dies with its parent).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { LaunchRequest, LauncherReply } from './launcher-protocol.js';

function reply(message: LauncherReply, handle?: Socket): void {
  if (handle === undefined) process.send?.(message);
  else process.send?.(message, handle);
}

/**
 * Keeps this process from reading a pipe before its handle has gone to the server (each handle
 * waits for the one before it to be acknowledged): Node.js starts reading a child's pipes at once
 * (the `_handle` is Node's own; no public call stops that read), and resumes them when the child
 * exits. Whatever the program writes meanwhile waits in the pipe for the server.
 */
function holdUnread(socket: Socket): void {
  const handle = (socket as unknown as { _handle?: { readStop(): number; reading: boolean } })
    ._handle;
  if (handle !== undefined) {
    handle.reading = false;
    handle.readStop();
  }
  socket.readable = false;
}

function launch(request: LaunchRequest): void {
  const opened: number[] = [];
  try {
    const stdio = request.stdio.map((entry) => {
      if (entry === 'ignore' || entry === 'pipe') return entry;
      const file = openSync(entry.path, 'r');
      opened.push(file);
      return file;
    });
    const child = spawn(request.program, request.args, {
      env: request.env,
      stdio: stdio,
    });
    const pipes: Array<[number, Socket]> = [];
    request.stdio.forEach((entry, fd) => {
      const socket = (child.stdio as unknown[])[fd] as Socket | null | undefined;
      if (entry === 'pipe' && socket) {
        holdUnread(socket);
        pipes.push([fd, socket]);
      }
    });
    child.once('error', (error) => {
      for (const [, socket] of pipes) socket.destroy();
      reply({ type: 'failed', id: request.id, message: error.message });
    });
    if (child.pid === undefined) return;
    // In this order: every pipe, then started; exited can only follow.
    for (const [fd, socket] of pipes) reply({ type: 'fd', id: request.id, fd }, socket);
    reply({ type: 'started', id: request.id, pid: child.pid });
    child.once('exit', (code, signal) =>
      reply({ type: 'exited', id: request.id, code, signal: signal ?? null }),
    );
  } catch (error) {
    reply({ type: 'failed', id: request.id, message: (error as Error).message });
  } finally {
    for (const file of opened) closeSync(file);
  }
}

process.on('message', (message: LaunchRequest) => {
  if (message.type === 'launch') launch(message);
});
process.on('disconnect', () => process.exit(0));
