/**
 * Reads a request body sent by a function, never holding more than a limit. Past the limit the
 * caller is told at once (to answer 413 and fail the invocation), the bytes that keep coming are
 * dropped, and once `DISCARD_BYTES` more have passed the connection is closed: a runtime that
 * sends a little too much still reads its 413, while one that streams gigabytes costs the server
 * no more than the limit plus that margin.
 */
import type { IncomingMessage } from 'node:http';

/** How much more than the limit is read (and dropped) before the connection is cut. */
export const DISCARD_BYTES = 8 * 1024 * 1024;

export type BodyEnd =
  | { readonly kind: 'complete'; readonly body: Buffer }
  /** `bytes`: what was declared (Content-Length) or seen when the limit was passed. */
  | { readonly kind: 'too-large'; readonly bytes: number };

/** Calls `onEnd` once: with the whole body, or as soon as it is known to be over `limit`. */
export function readBoundedBody(
  req: IncomingMessage,
  limit: number,
  onEnd: (end: BodyEnd) => void,
): void {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) {
    onEnd({ kind: 'too-large', bytes: declared });
    discardRest(req, 0);
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size <= limit) {
      chunks.push(chunk);
      return;
    }
    over = true;
    chunks.length = 0;
    req.off('data', onData);
    onEnd({ kind: 'too-large', bytes: size });
    discardRest(req, size - limit);
  };
  req.on('data', onData);
  req.on('end', () => {
    if (!over) onEnd({ kind: 'complete', body: Buffer.concat(chunks, size) });
  });
}

/**
 * Drops the rest of a refused body: reads on until `DISCARD_BYTES` (counting `alreadyOver`) have
 * passed, then destroys the connection.
 */
export function discardRest(req: IncomingMessage, alreadyOver: number): void {
  let dropped = alreadyOver;
  const cut = () => {
    req.socket.destroy();
  };
  if (dropped > DISCARD_BYTES) {
    cut();
    return;
  }
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DISCARD_BYTES) cut();
  });
  req.resume();
}
