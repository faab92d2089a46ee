/**
 * Receives a streamed `/invocation/{id}/response` (`Lambda-Runtime-Function-Response-Mode:
 * streaming`, chunked, errors in the trailers `Lambda-Runtime-Function-Error-Type` and
 * `Lambda-Runtime-Function-Error-Body` = base64 of the error JSON) and passes its chunks on as they
 * arrive. Back-pressure is end to end: while the reader of `body` falls behind, the request is
 * paused, so the runtime's writes wait instead of the platform buffering them.
 */
import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import type { StreamEnd } from '../core/runtime-protocol.js';
import { discardRest } from './bounded-body.js';

export interface ReceivedStream {
  readonly body: Readable;
  readonly ended: Promise<StreamEnd>;
}

/**
 * Passes `req`'s body on through `body`, at most `limit` bytes; `onEnd` runs once, with how the
 * stream ended (to answer the runtime). A reader that stops reading (destroys `body`) lets the rest
 * be discarded, so the runtime can finish.
 */
export function receiveStream(
  req: IncomingMessage,
  limit: number,
  onEnd: (end: StreamEnd) => void,
): ReceivedStream {
  const body = new PassThrough();
  body.on('error', () => undefined);
  let bytes = 0;
  let settled = false;
  let resolveEnded!: (end: StreamEnd) => void;
  const ended = new Promise<StreamEnd>((resolve) => {
    resolveEnded = resolve;
  });
  const settle = (end: StreamEnd) => {
    if (settled) return;
    settled = true;
    body.end();
    onEnd(end);
    resolveEnded(end);
  };
  body.on('close', () => {
    if (req.isPaused()) req.resume();
  });
  req.on('data', (chunk: Buffer) => {
    if (settled) return;
    bytes += chunk.length;
    if (bytes > limit) {
      settle({ kind: 'too-large', bytes, limit });
      discardRest(req, bytes - limit);
      return;
    }
    if (body.destroyed) return;
    if (!body.write(chunk)) {
      req.pause();
      body.once('drain', () => req.resume());
    }
  });
  req.on('end', () => {
    const errorType = req.trailers['lambda-runtime-function-error-type'];
    if (errorType === undefined) {
      settle({ kind: 'complete', bytes });
      return;
    }
    const encoded = req.trailers['lambda-runtime-function-error-body'];
    const decoded = Buffer.from(encoded ?? '', 'base64');
    settle({
      kind: 'error',
      errorType,
      body:
        decoded.length > 0
          ? decoded
          : Buffer.from(JSON.stringify({ errorMessage: `Unhandled ${errorType}`, errorType })),
      bytes,
    });
  });
  req.on('close', () => settle({ kind: 'truncated', bytes }));
  return { body, ended };
}
