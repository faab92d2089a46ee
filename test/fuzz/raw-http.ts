/**
 * Sends bytes that need not be HTTP over a plain socket (TCP or unix), half-closes, and reads
 * whatever comes back until the server closes the connection or the deadline passes. The answer
 * is read loosely: every status line and error type found in it, since pipelined or malformed
 * requests may be answered more than once.
 */
import { connect, type Socket } from 'node:net';

export type SocketTarget =
  { readonly host: string; readonly port: number } | { readonly path: string };

export interface RawAnswer {
  /** Every HTTP status line found in the answer, in order. */
  readonly statuses: readonly number[];
  /** `x-amzn-ErrorType` headers and `errorType` members found in the answer. */
  readonly errorTypes: readonly string[];
  /** The server neither closed nor finished answering before the deadline. */
  readonly timedOut: boolean;
  /** The connection could not be made at all (the target is gone). */
  readonly refused: boolean;
  /** The start of the answer, for reports. */
  readonly head: string;
}

const STATUS_LINE = /HTTP\/1\.[01] (\d{3})/g;
const ERROR_TYPE = /x-amzn-errortype: *([^\r\n]+)|"errorType" *: *"([^"]*)"/gi;
/** Enough of an answer to read its status lines and error types from. */
const MAX_KEPT_BYTES = 64 * 1024;

export function openSocket(target: SocketTarget): Socket {
  return 'path' in target ? connect({ path: target.path }) : connect(target.port, target.host);
}

/** Writes `chunks` one write each (so that parsers see them split), then ends the write side. */
export function sendRaw(
  target: SocketTarget,
  chunks: readonly Buffer[],
  timeoutMs: number,
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = openSocket(target);
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let connected = false;
    let done = false;
    const finish = (timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(readAnswer(Buffer.concat(kept), timedOut, !connected));
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    socket.on('connect', () => {
      connected = true;
      for (const chunk of chunks) socket.write(chunk);
      socket.end();
    });
    socket.on('data', (chunk: Buffer) => {
      if (keptBytes < MAX_KEPT_BYTES) {
        kept.push(chunk);
        keptBytes += chunk.length;
      }
    });
    // A reset after (or instead of) an answer is an answer: what came back is what counts.
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

export function readAnswer(bytes: Buffer, timedOut: boolean, refused: boolean): RawAnswer {
  const text = bytes.toString('latin1');
  const statuses = [...text.matchAll(STATUS_LINE)].map((m) => Number(m[1]));
  const errorTypes = [...text.matchAll(ERROR_TYPE)].map((m) => (m[1] ?? m[2] ?? '').trim());
  return { statuses, errorTypes, timedOut, refused, head: text.slice(0, 600) };
}
