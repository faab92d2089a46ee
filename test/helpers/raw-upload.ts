/**
 * Uploads over a raw TCP connection, so a test sees what the server does while a body is still on
 * its way: the request head is written, then the body in chunks, each only once the previous one
 * was taken by the kernel, until the body is sent or the server answers (or, with `trickle`, only
 * the first chunk). The outcome says how many body bytes the kernel had accepted when the answer
 * arrived, and whether the server closed the connection.
 */
import { connect } from 'node:net';

export interface UploadInit {
  readonly method?: string;
  readonly path: string;
  /** Headers besides host and content-length. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The Content-Length announced (and, unless `trickle`, sent). */
  readonly contentLength: number;
  /** What is sent as the body (its first `contentLength` bytes); default: that many `A`s. */
  readonly body?: Buffer;
  /** Send one chunk, then wait for the answer (a slow client, as far as the server can tell). */
  readonly trickle?: boolean;
  /** Fails the upload when no answer came within this time (default 30 s). */
  readonly deadlineMs?: number;
  /** Gives the upload up (the connection is closed and the promise rejects). */
  readonly signal?: AbortSignal;
  /** Called once the head and the first chunk were taken by the kernel. */
  readonly onBodyStarted?: () => void;
}

export interface UploadOutcome {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Body bytes the kernel had taken when the answer's head arrived. */
  readonly sentAtAnswer: number;
  /** Whether the whole body had been taken by then. */
  readonly sentWholeBody: boolean;
  /** Whether the server closed the connection (it closes after refusing a body it did not read). */
  readonly closedByServer: boolean;
}

const CHUNK = Buffer.alloc(256 * 1024, 'A');

/** Uploads to `endpoint` (`http://host:port`) as `init` says. */
export function rawUpload(endpoint: string, init: UploadInit): Promise<UploadOutcome> {
  const url = new URL(endpoint);
  const head =
    `${init.method ?? 'POST'} ${init.path} HTTP/1.1\r\n` +
    Object.entries({ host: url.host, ...init.headers, 'content-length': `${init.contentLength}` })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('') +
    '\r\n';
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    let sent = 0;
    let sentAtAnswer: number | undefined;
    let received = Buffer.alloc(0);
    let answer: { status: number; headers: Record<string, string>; bodyAt: number } | undefined;
    let serverEnded = false;
    const deadline = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${init.deadlineMs ?? 30_000} ms (${sent} bytes sent)`));
    }, init.deadlineMs ?? 30_000);

    const finish = () => {
      clearTimeout(deadline);
      if (answer === undefined) {
        reject(new Error(`the connection closed without an answer (${sent} bytes sent)`));
        return;
      }
      resolve({
        status: answer.status,
        headers: answer.headers,
        body: received.subarray(answer.bodyAt).toString('utf8'),
        sentAtAnswer: sentAtAnswer ?? sent,
        sentWholeBody: (sentAtAnswer ?? sent) >= init.contentLength,
        closedByServer: serverEnded,
      });
    };
    socket.on('data', (data: Buffer) => {
      received = Buffer.concat([received, data]);
      if (answer === undefined) {
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        sentAtAnswer = sent;
        const [statusLine = '', ...lines] = received
          .subarray(0, end)
          .toString('latin1')
          .split('\r\n');
        const headers: Record<string, string> = {};
        for (const line of lines) {
          const at = line.indexOf(':');
          headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
        }
        answer = { status: Number(statusLine.split(' ')[1]), headers, bodyAt: end + 4 };
      }
      const length = Number(answer.headers['content-length'] ?? NaN);
      if (received.length - answer.bodyAt >= length && answer.headers['connection'] !== 'close') {
        socket.destroy();
        finish();
      }
    });
    socket.on('end', () => {
      // The server has said all it will: done, whatever the client still had to send.
      serverEnded = true;
      socket.destroy();
    });
    // Writing into a connection the server reset fails; what matters is what was answered.
    socket.on('error', () => (serverEnded = true));
    socket.on('close', finish);
    init.signal?.addEventListener('abort', () => {
      socket.destroy();
      clearTimeout(deadline);
      reject(new Error('upload given up'));
    });
    socket.write(head);
    const pump = () => {
      if (answer !== undefined || socket.destroyed || sent >= init.contentLength) return;
      if (init.trickle === true && sent > 0) return;
      const size = Math.min(CHUNK.length, init.contentLength - sent);
      const chunk =
        init.body === undefined ? CHUNK.subarray(0, size) : init.body.subarray(sent, sent + size);
      socket.write(chunk, (error) => {
        if (error !== undefined && error !== null) return;
        if (sent === 0) init.onBodyStarted?.();
        sent += size;
        pump();
      });
    };
    pump();
  });
}
