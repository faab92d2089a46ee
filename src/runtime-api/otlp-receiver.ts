/**
 * The OTLP/HTTP endpoint of one execution environment (with `--otlp-endpoint`): a plain node:http
 * server on the environment's `otlp.sock`, which the jail reaches at 127.0.0.1:9003 (the
 * function's OTEL_EXPORTER_OTLP_ENDPOINT). It takes `POST /v1/traces`, `/v1/metrics` and
 * `/v1/logs` with a protobuf or JSON body (gzipped or not), hands each whole body to the
 * forwarder and answers at once: 200 with an empty `Export…ServiceResponse` when it is queued,
 * 200 with a partial-success warning when it was dropped for lack of room (a 503 would make
 * OTLP clients retry with back-off inside the function, so a slow collector would slow it after
 * all). Everything else is refused: other paths 404, other methods 405, other media types or
 * encodings 415, bodies over 4 MiB 413.
 *
 * The function is hostile: bodies are bounded while they are read (charged to the forwarder's
 * room as they arrive, never as declared, so a body that trickles holds only what it sent),
 * headers are bounded in size and number and must arrive within 10 s, a body within 10 s of its
 * headers, and the jail's connections are capped (ConnectionLimits).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { discardRest } from './bounded-body.js';
import { guardConnections, trackConnections, type ConnectionLimits } from './connection-guard.js';
import { listenUnix } from './listen-unix.js';
import type { OtlpIntake } from './otlp-forwarder.js';
import { exportResponse, formatOf, gzippedOf, signalOfPath, type OtlpFormat } from './otlp-wire.js';

/** The largest body a function may post (bytes, as sent: gzipped bodies are not inflated). */
export const OTLP_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** How long a request's headers may take to arrive (ms). */
const HEADERS_TIMEOUT_MS = 10_000;
/**
 * How long a body may take once its headers arrived (ms): an exporter sends its body at once, and
 * what a slow one sent is held (counted against the room of every environment) until it ends.
 */
const BODY_TIMEOUT_MS = 10_000;
/** How long a whole request may take to arrive (ms): node's own check, behind the two above. */
const REQUEST_TIMEOUT_MS = HEADERS_TIMEOUT_MS + BODY_TIMEOUT_MS;
/** How often those two are checked (ms). */
const TIMEOUT_CHECK_MS = 2_000;
/**
 * How long a connection may carry nothing before it is closed (ms). Idle keep-alive connections
 * are otherwise kept, as the Runtime API keeps them: a frozen function cannot notice one closing
 * before it reuses it, and its exporter would then wait to retry. The connection cap bounds them.
 */
const IDLE_MS = 10 * 60 * 1000;
const MAX_HEADER_BYTES = 16 * 1024;
const MAX_HEADERS = 64;

/** What a function is told when its body was dropped for lack of room. */
export const DROPPED_WARNING =
  'Lamina dropped this export: no room to queue it for the collector (a slow or unreachable ' +
  'collector, or too much sent at once); the drop is counted';

export interface OtlpReceiverOptions {
  /** The environment whose jail posts here (its room is counted apart from the others'). */
  readonly environmentId: string;
  readonly intake: OtlpIntake;
  /** Caps on the connections the jail may hold (none: unlimited, for tests of the protocol). */
  readonly connections?: ConnectionLimits | undefined;
  /** Default OTLP_MAX_BODY_BYTES. */
  readonly maxBodyBytes?: number;
  /** How long a body may take once its headers arrived (ms; default 10 s, at most that). */
  readonly bodyTimeoutMs?: number;
}

export class OtlpReceiver {
  readonly #server: Server;
  readonly #id: string;
  readonly #intake: OtlpIntake;
  readonly #maxBodyBytes: number;
  readonly #bodyTimeoutMs: number;
  readonly #destroyConnections: () => void;

  constructor(options: OtlpReceiverOptions) {
    this.#id = options.environmentId;
    this.#intake = options.intake;
    this.#maxBodyBytes = options.maxBodyBytes ?? OTLP_MAX_BODY_BYTES;
    this.#bodyTimeoutMs = Math.min(options.bodyTimeoutMs ?? BODY_TIMEOUT_MS, BODY_TIMEOUT_MS);
    this.#server = createServer(
      {
        keepAlive: true,
        headersTimeout: HEADERS_TIMEOUT_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
        connectionsCheckingInterval: TIMEOUT_CHECK_MS,
        maxHeaderSize: MAX_HEADER_BYTES,
      },
      (req, res) => this.#receive(req, res),
    );
    this.#server.keepAliveTimeout = 0;
    this.#server.timeout = IDLE_MS;
    this.#server.maxHeadersCount = MAX_HEADERS;
    // Failing to accept a connection (out of descriptors, say) must not end the server.
    this.#server.on('error', () => undefined);
    if (options.connections !== undefined) guardConnections(this.#server, options.connections);
    this.#destroyConnections = trackConnections(this.#server);
  }

  listen(path: string): Promise<void> {
    return listenUnix(this.#server, path);
  }

  /** Stops listening and ends every connection (what was queued stays with the forwarder). */
  async close(): Promise<void> {
    this.#destroyConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #receive(req: IncomingMessage, res: ServerResponse): void {
    const signal = signalOfPath(req.url);
    if (signal === undefined) return refuse(req, res, 404, 'Not Found');
    if (req.method !== 'POST')
      return refuse(req, res, 405, 'Method Not Allowed', { Allow: 'POST' });
    const format = formatOf(req.headers['content-type']);
    const gzipped = gzippedOf(req.headers['content-encoding']);
    if (format === undefined || gzipped === undefined)
      return refuse(
        req,
        res,
        415,
        'Unsupported Media Type: application/x-protobuf or application/json, gzip or no encoding',
      );
    const lengthHeader = req.headers['content-length'];
    const declared = lengthHeader === undefined ? undefined : Number(lengthHeader);
    const max = this.#maxBodyBytes;
    if (declared !== undefined && declared > max) {
      this.#intake.dropped('tooLarge');
      return refuse(req, res, 413, `Payload Too Large: at most ${max} bytes`);
    }

    const hold = this.#intake.hold(this.#id);
    const chunks: Buffer[] = [];
    let size = 0;
    let reading = true;
    const stop = () => {
      reading = false;
      clearTimeout(deadline);
      chunks.length = 0;
      req.off('data', onData);
      hold.release();
    };
    const dropForRoom = () => {
      stop();
      this.#intake.dropped('full');
      answer(res, format, DROPPED_WARNING);
      discardRest(req, 0);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        stop();
        this.#intake.dropped('tooLarge');
        respond(res, 413, `Payload Too Large: at most ${max} bytes`);
        discardRest(req, size - max);
        return;
      }
      // Charged as it comes, declared length or not: a length announced and never sent holds
      // nothing, so trickling bodies cannot take the room of every other environment.
      if (!hold.grow(chunk.length)) return dropForRoom();
      chunks.push(chunk);
    };
    // A body still arriving at its deadline is given up: 408, and the connection closed.
    const deadline = setTimeout(() => {
      if (!reading) return;
      stop();
      respond(res, 408, 'Request Timeout: the body took too long', { Connection: 'close' });
      res.once('finish', () => req.socket.destroy());
    }, this.#bodyTimeoutMs);
    deadline.unref();
    req.on('data', onData);
    req.once('end', () => {
      if (!reading) return;
      reading = false;
      clearTimeout(deadline);
      const body = Buffer.concat(chunks, size);
      chunks.length = 0;
      const queued = this.#intake.forward(hold, { signal, format, gzipped, body });
      answer(res, format, queued ? undefined : DROPPED_WARNING);
    });
    // Cut off (the connection closed, or the request timed out) before the end: nothing is sent.
    req.once('close', () => {
      if (reading) stop();
    });
  }
}

/** 200 with the OTLP answer in the request's encoding (see exportResponse). */
function answer(res: ServerResponse, format: OtlpFormat, warning?: string): void {
  if (res.headersSent || res.destroyed) return;
  const { contentType, body } = exportResponse(format, warning);
  res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': body.length });
  res.end(body);
}

function respond(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const body = Buffer.from(message);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': body.length,
  });
  res.end(body);
}

/** Refuses a request before its body is read; the body is then dropped (see discardRest). */
function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  respond(res, status, message, headers);
  discardRest(req, 0);
}
