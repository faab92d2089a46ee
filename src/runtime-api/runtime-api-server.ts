/**
 * The Runtime API (2018-06-01) of one execution environment: the runtime long-polls
 * `/runtime/invocation/next`, answers on `/{id}/response` or `/{id}/error`, and reports init
 * failures on `/runtime/init/error`. State rules follow Lambda's: an id that is not the current
 * invocation's → 400 InvalidRequestID; a second answer → 403 InvalidStateTransition; `/next` while
 * an invocation is unanswered re-delivers it; responses over 6 MB → 413 and the invoke fails with
 * `Function.ResponseSizeTooLarge`. Plain node:http: this is on every invoke's path.
 *
 * Streamed responses (`Lambda-Runtime-Function-Response-Mode: streaming`) are collected into one
 * body for a `buffered` invoke (same 6 MB limit), and handed over chunk by chunk for a `streaming`
 * invoke (up to 200 MB; see streamed-response.ts).
 *
 * Lamina adds one private operation for pre-started environments: a runtime started before it is
 * bound to a function long-polls `GET /lamina/2026-11-01/assignment` and receives, once, the
 * function's environment variables (specialisation).
 *
 * The Extensions, Telemetry and Logs APIs share the address (`extensions-api.ts`).
 *
 * Lamina's own runtime clients upgrade one connection to the runtime channel (binary frames for
 * `/next`, `/response` and `/error`; see channel-frames.ts); both transports act on the same state.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type {
  InitFailure,
  InvocationEvent,
  ResponseMode,
  RuntimeAnswer,
} from '../core/runtime-protocol.js';
import { receiveStream } from './streamed-response.js';
import type { ExtensionsHost } from '../core/extension-protocol.js';
import { isExtensionsPath, serveExtensionsApi } from './extensions-api.js';
import { CHANNEL_PATH, CHANNEL_PROTOCOL } from './channel-frames.js';
import {
  asHeaderBytes,
  RuntimeChannelConnection,
  type ChannelAnswer,
  type ChannelHost,
  type NextWaiter,
} from './runtime-channel-connection.js';

export type { InitFailure, InvocationEvent, ResponseMode, RuntimeAnswer };

/** Sizes in bytes; the defaults are Lambda's 6 MB + 100 B and 200 MB. */
export interface RuntimeApiOptions {
  readonly maxResponseBytes?: number;
  /** Largest streamed response a `streaming` invoke passes on. */
  readonly maxStreamedResponseBytes?: number;
}

const PREFIX = '/2018-06-01/runtime/';
/** Lamina's private path on which a pre-started runtime waits for its function. */
export const ASSIGNMENT_PATH = '/lamina/2026-11-01/assignment';
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;
export const MAX_STREAMED_RESPONSE_BYTES = 200 * 1024 * 1024;
const ANSWERED_IDS_KEPT = 64;

interface Current {
  readonly event: InvocationEvent;
  readonly mode: ResponseMode;
  readonly settle: (answer: RuntimeAnswer) => void;
  answered: boolean;
}

/** Why an answer is refused: the Runtime API error it gets. */
interface Refusal {
  readonly status: number;
  readonly errorType: string;
  readonly message: string;
}

export class RuntimeApiServer {
  readonly #server: Server;
  readonly #maxResponseBytes: number;
  readonly #maxStreamedResponseBytes: number;
  readonly #waiting: NextWaiter[] = [];
  readonly #channels = new Set<RuntimeChannelConnection>();
  readonly #channelHost: ChannelHost;
  /** The most recent answered ids (for the "already answered" message), bounded: a warm
   * environment lives for many invocations. */
  readonly #answeredIds = new Set<string>();
  #current: Current | undefined;
  #asked = false;
  #onFirstNext: (() => void) | undefined;
  #onInitError: ((failure: InitFailure) => void) | undefined;
  #assignmentWaiter: ServerResponse | undefined;
  #onAssignmentWait: (() => void) | undefined;
  #assignment: 'pending' | 'given' = 'pending';
  #extensions: ExtensionsHost | undefined;
  #runtimeWaiters: Array<() => void> = [];

  constructor(options: RuntimeApiOptions = {}) {
    this.#maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    this.#maxStreamedResponseBytes =
      options.maxStreamedResponseBytes ?? MAX_STREAMED_RESPONSE_BYTES;
    this.#server = createServer({ keepAlive: true, requestTimeout: 0 }, (req, res) => {
      this.#route(req, res);
    });
    this.#server.keepAliveTimeout = 0;
    this.#server.headersTimeout = 0;
    this.#server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#upgrade(req, socket, head),
    );
    this.#channelHost = {
      next: (waiter) => this.#waitForNext(waiter),
      drop: (waiter) => this.#drop(waiter),
      answer: (id, answer) => this.#channelAnswer(id, answer),
    };
  }

  /** Listens on a unix socket path, or on `host:port` (port 0 picks one); returns the address. */
  async listen(target: { path: string } | { host: string; port: number }): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      if ('path' in target) this.#server.listen(target.path, resolve);
      else this.#server.listen(target.port, target.host, resolve);
    });
    const address = this.#server.address();
    if (typeof address === 'string' || address === null) return address ?? '';
    return address.family === 'IPv6'
      ? `[${address.address}]:${address.port}`
      : `${address.address}:${address.port}`;
  }

  /** Called once, when the runtime first asks for work (its init has finished). */
  onFirstNext(listener: () => void): void {
    this.#onFirstNext = listener;
    if (this.#asked) listener();
  }

  /** Called when the runtime posts `/runtime/init/error`. */
  onInitError(listener: (failure: InitFailure) => void): void {
    this.#onInitError = listener;
  }

  /** Called once a pre-started runtime waits for its assignment (it has booted). */
  onAssignmentWait(listener: () => void): void {
    this.#onAssignmentWait = listener;
    if (this.#assignmentWaiter !== undefined) listener();
  }

  /**
   * Binds a waiting pre-started runtime to a function: answers its assignment request with the
   * function's environment. False when no runtime is waiting (it died or was never pre-started).
   */
  assign(environment: Readonly<Record<string, string>>): boolean {
    const res = this.#assignmentWaiter;
    if (res === undefined || this.#assignment === 'given' || res.destroyed) return false;
    this.#assignment = 'given';
    this.#assignmentWaiter = undefined;
    const body = JSON.stringify({ environment });
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
    return true;
  }

  /**
   * Hands an invocation to the runtime; resolves with its answer (in `streaming` mode, a streamed
   * response as soon as it starts). One at a time.
   */
  invoke(event: InvocationEvent, mode: ResponseMode = 'buffered'): Promise<RuntimeAnswer> {
    if (this.#current !== undefined && !this.#current.answered) {
      return Promise.reject(new Error('the environment is already running an invocation'));
    }
    return new Promise<RuntimeAnswer>((settle) => {
      this.#current = { event, mode, settle, answered: false };
      this.#waiting.shift()?.deliver(event);
    });
  }

  #rememberAnswered(id: string): void {
    this.#answeredIds.add(id);
    if (this.#answeredIds.size > ANSWERED_IDS_KEPT) {
      const oldest = this.#answeredIds.values().next().value;
      if (oldest !== undefined) this.#answeredIds.delete(oldest);
    }
  }

  /** How many runtime channels are open (diagnostics: which transport the runtime uses). */
  get openChannels(): number {
    return this.#channels.size;
  }

  /** Serves the Extensions, Telemetry and Logs APIs through `host` from now on. */
  attachExtensions(host: ExtensionsHost): void {
    this.#extensions = host;
  }

  /** Resolves once the runtime has answered the current invocation and waits on `/next` again. */
  runtimeWaiting(): Promise<void> {
    if (this.#isRuntimeWaiting()) return Promise.resolve();
    return new Promise((resolve) => this.#runtimeWaiters.push(resolve));
  }

  #isRuntimeWaiting(): boolean {
    return this.#waiting.length > 0 && (this.#current === undefined || this.#current.answered);
  }

  /** Closes the server and every connection (the environment is gone). */
  async close(): Promise<void> {
    for (const waiter of this.#waiting.splice(0)) waiter.cancel();
    for (const channel of this.#channels) channel.cancel();
    this.#assignmentWaiter?.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #route(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '';
    const path = url.split('?')[0] ?? '';
    if (req.method === 'GET' && path === ASSIGNMENT_PATH) return this.#awaitAssignment(res);
    if (isExtensionsPath(path)) return serveExtensionsApi(this.#extensions, req, res, path);
    if (!path.startsWith(PREFIX))
      return this.#fail(res, 404, 'UnknownOperation', `No such path: ${path}`);
    const rest = path.slice(PREFIX.length);
    if (req.method === 'GET' && rest === 'invocation/next') return this.#next(res);
    if (req.method === 'POST' && rest === 'init/error') return this.#initError(req, res);
    const match = /^invocation\/([^/]+)\/(response|error)$/.exec(rest);
    if (req.method === 'POST' && match !== null) {
      let id: string;
      try {
        id = decodeURIComponent(match[1] ?? '');
      } catch {
        req.resume();
        return this.#fail(res, 400, 'InvalidRequestID', `Invalid request ID: ${match[1] ?? ''}`);
      }
      return this.#answer(req, res, id, match[2] === 'error');
    }
    this.#fail(res, 404, 'UnknownOperation', `No such operation: ${req.method ?? ''} ${path}`);
  }

  #awaitAssignment(res: ServerResponse): void {
    if (this.#assignment === 'given' || this.#assignmentWaiter !== undefined) {
      return this.#fail(res, 403, 'InvalidStateTransition', 'The environment is already assigned');
    }
    this.#assignmentWaiter = res;
    res.once('close', () => {
      if (this.#assignmentWaiter === res) this.#assignmentWaiter = undefined;
    });
    this.#onAssignmentWait?.();
  }

  /** Opens the runtime channel on an upgrade request for it; refuses any other upgrade. */
  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '').split('?')[0];
    const protocol = header(req, 'upgrade')?.toLowerCase();
    if (req.method !== 'GET' || path !== CHANNEL_PATH || protocol !== CHANNEL_PROTOCOL) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${CHANNEL_PROTOCOL}\r\n\r\n`,
    );
    const channel = new RuntimeChannelConnection(socket, this.#channelHost, this.#maxResponseBytes);
    this.#channels.add(channel);
    socket.once('close', () => this.#channels.delete(channel));
    channel.push(head);
  }

  #next(res: ServerResponse): void {
    const waiter: NextWaiter = {
      deliver: (event) => this.#deliver(res, event),
      cancel: () => res.destroy(),
    };
    res.once('close', () => this.#drop(waiter));
    this.#waitForNext(waiter);
  }

  /** The runtime asks for work: the unanswered invocation again, or the next one when it comes. */
  #waitForNext(waiter: NextWaiter): void {
    if (!this.#asked) {
      this.#asked = true;
      this.#onFirstNext?.();
    }
    const current = this.#current;
    if (current !== undefined && !current.answered) {
      waiter.deliver(current.event);
      return;
    }
    this.#waiting.push(waiter);
    if (this.#isRuntimeWaiting()) for (const wake of this.#runtimeWaiters.splice(0)) wake();
  }

  #drop(waiter: NextWaiter): void {
    const at = this.#waiting.indexOf(waiter);
    if (at >= 0) this.#waiting.splice(at, 1);
  }

  /** The current invocation, if `id` may answer it now. */
  #claim(id: string, isError: boolean): Current | Refusal {
    const current = this.#current;
    if (current === undefined || current.event.requestId !== id) {
      const message = this.#answeredIds.has(id)
        ? `Invalid request ID: ${id} has already been answered`
        : `Invalid request ID: ${id} is not the current invocation`;
      return { status: 400, errorType: 'InvalidRequestID', message };
    }
    if (current.answered) {
      const next = isError ? 'ErrorResponseSent' : 'ResponseSent';
      return {
        status: 403,
        errorType: 'InvalidStateTransition',
        message: `State transition from ResponseSent to ${next} failed`,
      };
    }
    return current;
  }

  /** Settles the current invocation with a whole answer. */
  #settle(current: Current, answer: Exclude<RuntimeAnswer, { kind: 'stream' }>): void {
    current.answered = true;
    this.#rememberAnswered(current.event.requestId);
    current.settle(answer);
  }

  /** An answer from the runtime channel; refused ones are dropped (the channel has no replies). */
  #channelAnswer(id: string, answer: ChannelAnswer): void {
    const claimed = this.#claim(id, answer.kind === 'error');
    if ('status' in claimed) return;
    if (answer.kind === 'error') {
      this.#settle(claimed, {
        kind: 'error',
        errorType: answer.errorType,
        body: errorBody(answer.body, answer.errorType),
      });
    } else {
      this.#settle(claimed, answer);
    }
  }

  #deliver(res: ServerResponse, event: InvocationEvent): void {
    const headers: Record<string, string | number> = {
      'Content-Type': 'application/json',
      'Content-Length': event.payload.length,
      'Lambda-Runtime-Aws-Request-Id': event.requestId,
      'Lambda-Runtime-Deadline-Ms': String(event.deadlineMs),
      'Lambda-Runtime-Invoked-Function-Arn': event.invokedFunctionArn,
      'Lambda-Runtime-Trace-Id': event.traceId,
    };
    // Header values travel as bytes: send the UTF-8 of the JSON (node writes latin1 one-to-one).
    if (event.clientContext)
      headers['Lambda-Runtime-Client-Context'] = asHeaderBytes(event.clientContext);
    if (event.cognitoIdentity)
      headers['Lambda-Runtime-Cognito-Identity'] = asHeaderBytes(event.cognitoIdentity);
    res.writeHead(200, headers);
    res.end(event.payload);
  }

  #answer(req: IncomingMessage, res: ServerResponse, id: string, isError: boolean): void {
    const current = this.#claim(id, isError);
    if ('status' in current) {
      req.resume();
      return this.#fail(res, current.status, current.errorType, current.message);
    }
    const mode = header(req, 'lambda-runtime-function-response-mode');
    if (!isError && mode !== undefined && mode.toLowerCase() !== 'streaming') {
      req.resume();
      return this.#fail(
        res,
        400,
        'InvalidResponseModeHeader',
        `Invalid Lambda-Runtime-Function-Response-Mode: ${mode}`,
      );
    }
    if (!isError && mode !== undefined && current.mode === 'streaming') {
      return this.#stream(req, res, current);
    }
    const declared = Number(header(req, 'content-length') ?? NaN);
    if (!isError && declared > this.#maxResponseBytes)
      return this.#tooLarge(req, res, current, declared);
    const chunks: Buffer[] = [];
    let size = 0;
    let aborted = false;
    req.on('data', (chunk: Buffer) => {
      if (aborted) return;
      size += chunk.length;
      if (!isError && size > this.#maxResponseBytes) {
        aborted = true;
        this.#tooLarge(req, res, current, size);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (aborted || current.answered) return;
      const body = Buffer.concat(chunks);
      const trailerType = req.trailers['lambda-runtime-function-error-type'];
      if (isError) {
        const errorType = header(req, 'lambda-runtime-function-error-type');
        this.#settle(current, { kind: 'error', errorType, body: errorBody(body, errorType) });
      } else if (trailerType !== undefined) {
        const encoded = req.trailers['lambda-runtime-function-error-body'] ?? '';
        this.#settle(current, {
          kind: 'error',
          errorType: trailerType,
          body: Buffer.from(encoded, 'base64'),
        });
      } else {
        this.#settle(current, {
          kind: 'response',
          body,
          contentType: header(req, 'content-type'),
        });
      }
      accepted(res);
    });
  }

  /** Hands a streamed response over as it arrives; the runtime gets its answer at the end. */
  #stream(req: IncomingMessage, res: ServerResponse, current: Current): void {
    current.answered = true;
    this.#rememberAnswered(current.event.requestId);
    const limit = this.#maxStreamedResponseBytes;
    const { body, ended } = receiveStream(req, limit, (end) => {
      if (res.headersSent || res.destroyed) return;
      if (end.kind === 'too-large') {
        this.#fail(
          res,
          413,
          'RequestEntityTooLarge',
          `Exceeded maximum allowed payload size (${limit} bytes).`,
        );
      } else if (end.kind !== 'truncated') {
        accepted(res);
      }
    });
    current.settle({ kind: 'stream', contentType: header(req, 'content-type'), body, ended });
  }

  #tooLarge(req: IncomingMessage, res: ServerResponse, current: Current, bytes: number): void {
    this.#settle(current, { kind: 'too-large', bytes });
    this.#fail(
      res,
      413,
      'RequestEntityTooLarge',
      `Exceeded maximum allowed payload size (${this.#maxResponseBytes} bytes).`,
    );
    req.resume();
  }

  #initError(req: IncomingMessage, res: ServerResponse): void {
    if (this.#asked) {
      req.resume();
      return this.#fail(
        res,
        403,
        'InvalidStateTransition',
        'State transition from Ready to InitError failed',
      );
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const errorType = header(req, 'lambda-runtime-function-error-type');
      this.#onInitError?.({ errorType, body: errorBody(Buffer.concat(chunks), errorType) });
      accepted(res);
    });
  }

  #fail(res: ServerResponse, status: number, errorType: string, errorMessage: string): void {
    const body = JSON.stringify({ errorMessage, errorType });
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
    });
    res.end(body);
  }
}

function accepted(res: ServerResponse): void {
  const body = '{"status":"OK"}';
  res.writeHead(202, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** The error payload: the runtime's body, or one built from the error-type header. */
function errorBody(body: Buffer, errorType: string | undefined): Buffer {
  if (body.length > 0) return body;
  const type = errorType ?? 'Runtime.Unknown';
  return Buffer.from(JSON.stringify({ errorMessage: `Unhandled ${type}`, errorType: type }));
}
