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
import { discardRest, readBoundedBody } from './bounded-body.js';
import { guardConnections, trackConnections, type ConnectionLimits } from './connection-guard.js';
import { receiveStream } from './streamed-response.js';
import type { ExtensionsHost } from '../core/extension-protocol.js';
import { refusalStatus, type RuntimeErrorType } from '../core/runtime-errors.js';
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
  /** Caps on the connections the jail may hold (none: unlimited, for tests of the protocol). */
  readonly connections?: ConnectionLimits | undefined;
}

/**
 * How long a request's headers may take to arrive (ms). A runtime sends whole requests; a
 * connection that trickles headers is holding a descriptor, not talking. Long polls (`/next`)
 * are whole requests waiting for their answer and are not affected.
 */
const HEADERS_TIMEOUT_MS = 60_000;

const PREFIX = '/2018-06-01/runtime/';
/** Lamina's private path on which a pre-started runtime waits for its function. */
export const ASSIGNMENT_PATH = '/lamina/2026-11-01/assignment';
const NOT_ASSIGNED = 'The environment has not been assigned a function yet';
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
  readonly refused: RuntimeErrorType;
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
  /** `none`: a cold start, never assigned; `pending`: pre-started and not yet bound. */
  #assignment: 'none' | 'pending' | 'given' = 'none';
  #extensions: ExtensionsHost | undefined;
  #runtimeWaiters: Array<() => void> = [];
  readonly #destroyConnections: () => void;

  constructor(options: RuntimeApiOptions = {}) {
    this.#maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    this.#maxStreamedResponseBytes =
      options.maxStreamedResponseBytes ?? MAX_STREAMED_RESPONSE_BYTES;
    this.#server = createServer({ keepAlive: true, requestTimeout: 0 }, (req, res) => {
      this.#route(req, res);
    });
    // Idle keep-alive connections are the runtime's own, and a frozen runtime cannot notice they
    // were closed before it reuses one: they stay, within the connection cap.
    this.#server.keepAliveTimeout = 0;
    this.#server.headersTimeout = HEADERS_TIMEOUT_MS;
    // Failing to accept a connection (out of descriptors, say) must not end the server: the
    // connection is refused and the environment's runtime sees it.
    this.#server.on('error', () => undefined);
    if (options.connections !== undefined) guardConnections(this.#server, options.connections);
    this.#destroyConnections = trackConnections(this.#server);
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

  /**
   * This runtime is pre-started: until `assign` binds it, it may only wait for its assignment (and
   * open its channel); asking for work or reporting an init error is refused, so that nothing sent
   * before the function exists can count as its init or queue ahead of its runtime.
   */
  expectAssignment(): void {
    if (this.#assignment === 'none') this.#assignment = 'pending';
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
    if (res === undefined || this.#assignment !== 'pending' || res.destroyed) return false;
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
      // A waiter whose connection has just gone passes it on; none left: the next `/next` gets it.
      for (let waiter = this.#waiting.shift(); waiter !== undefined; waiter = this.#waiting.shift())
        if (waiter.deliver(event)) break;
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
    // Every accepted connection goes, upgraded and refused-upgrade ones included (the HTTP
    // server's closeAllConnections would reach only those it still parses).
    this.#destroyConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #route(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '';
    const path = url.split('?')[0] ?? '';
    if (req.method === 'GET' && path === ASSIGNMENT_PATH) {
      discardRest(req, 0);
      return this.#awaitAssignment(res);
    }
    if (isExtensionsPath(path)) return serveExtensionsApi(this.#extensions, req, res, path);
    if (!path.startsWith(PREFIX)) {
      discardRest(req, 0);
      return this.#fail(res, 'UnknownOperation', `No such path: ${path}`);
    }
    const rest = path.slice(PREFIX.length);
    if (this.#assignment === 'pending' && (rest === 'invocation/next' || rest === 'init/error')) {
      discardRest(req, 0);
      return this.#fail(res, 'InvalidStateTransition', NOT_ASSIGNED);
    }
    if (req.method === 'GET' && rest === 'invocation/next') {
      discardRest(req, 0);
      return this.#next(req, res);
    }
    if (req.method === 'POST' && rest === 'init/error') return this.#initError(req, res);
    const match = /^invocation\/([^/]+)\/(response|error)$/.exec(rest);
    if (req.method === 'POST' && match !== null) {
      let id: string;
      try {
        id = decodeURIComponent(match[1] ?? '');
      } catch {
        discardRest(req, 0);
        return this.#fail(res, 'InvalidRequestID', `Invalid request ID: ${match[1] ?? ''}`);
      }
      return this.#answer(req, res, id, match[2] === 'error');
    }
    discardRest(req, 0);
    this.#fail(res, 'UnknownOperation', `No such operation: ${req.method ?? ''} ${path}`);
  }

  #awaitAssignment(res: ServerResponse): void {
    if (this.#assignment === 'none')
      return this.#fail(res, 'InvalidStateTransition', 'The environment is not pre-started');
    if (this.#assignment === 'given' || this.#assignmentWaiter !== undefined) {
      return this.#fail(res, 'InvalidStateTransition', 'The environment is already assigned');
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

  #next(req: IncomingMessage, res: ServerResponse): void {
    // The socket, not the response, tells when the runtime is gone: a request pipelined behind
    // another has no socket yet, and its response never sees the connection close.
    const { socket } = req;
    const gone = () => this.#drop(waiter);
    const waiter: NextWaiter = {
      deliver: (event) => {
        socket.off('close', gone);
        if (socket.destroyed) return false;
        this.#deliver(res, event);
        return true;
      },
      cancel: () => socket.destroy(),
    };
    if (socket.destroyed) return;
    socket.once('close', gone);
    this.#waitForNext(waiter);
  }

  /** The runtime asks for work: the unanswered invocation again, or the next one when it comes. */
  #waitForNext(waiter: NextWaiter): void {
    // A channel's NEXT before the assignment breaks the channel (it has no way to be refused).
    if (this.#assignment === 'pending') return waiter.cancel();
    // A NEXT repeated while its channel waits is the same wait, not a second one.
    if (this.#waiting.includes(waiter)) return;
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
      return { refused: 'InvalidRequestID', message };
    }
    if (current.answered) {
      const next = isError ? 'ErrorResponseSent' : 'ResponseSent';
      return {
        refused: 'InvalidStateTransition',
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
    if ('refused' in claimed) return;
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
    if ('refused' in current) {
      discardRest(req, 0);
      return this.#fail(res, current.refused, current.message);
    }
    const mode = header(req, 'lambda-runtime-function-response-mode');
    if (!isError && mode !== undefined && mode.toLowerCase() !== 'streaming') {
      discardRest(req, 0);
      return this.#fail(
        res,
        'InvalidResponseModeHeader',
        `Invalid Lambda-Runtime-Function-Response-Mode: ${mode}`,
      );
    }
    if (!isError && mode !== undefined && current.mode === 'streaming') {
      return this.#stream(req, res, current);
    }
    readBoundedBody(req, this.#maxResponseBytes, (end) => {
      if (current.answered) {
        // Another request answered while this one's body arrived.
        const again = this.#claim(id, isError);
        if ('refused' in again) this.#fail(res, again.refused, again.message);
        return;
      }
      if (end.kind === 'too-large') return this.#tooLarge(res, current, end.bytes);
      const { body } = end;
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
        this.#payloadTooLarge(res, limit);
      } else if (end.kind !== 'truncated') {
        accepted(res);
      }
    });
    current.settle({ kind: 'stream', contentType: header(req, 'content-type'), body, ended });
  }

  /** A response or error body over the limit: the invocation fails, the runtime gets 413. */
  #tooLarge(res: ServerResponse, current: Current, bytes: number): void {
    this.#settle(current, { kind: 'too-large', bytes });
    this.#payloadTooLarge(res, this.#maxResponseBytes);
  }

  #payloadTooLarge(res: ServerResponse, limit: number): void {
    this.#fail(
      res,
      'RequestEntityTooLarge',
      `Exceeded maximum allowed payload size (${limit} bytes).`,
    );
  }

  #initError(req: IncomingMessage, res: ServerResponse): void {
    if (this.#asked) {
      discardRest(req, 0);
      return this.#fail(
        res,
        'InvalidStateTransition',
        'State transition from Ready to InitError failed',
      );
    }
    const errorType = header(req, 'lambda-runtime-function-error-type');
    readBoundedBody(req, this.#maxResponseBytes, (end) => {
      if (end.kind === 'too-large') {
        this.#payloadTooLarge(res, this.#maxResponseBytes);
        this.#onInitError?.(oversizedInitError(end.bytes, this.#maxResponseBytes));
        return;
      }
      this.#onInitError?.({ errorType, body: errorBody(end.body, errorType) });
      accepted(res);
    });
  }

  /** Refuses a call with the catalogue's status for `errorType`. */
  #fail(res: ServerResponse, errorType: RuntimeErrorType, errorMessage: string): void {
    const body = JSON.stringify({ errorMessage, errorType });
    res.writeHead(refusalStatus(errorType), {
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

/** The init failure reported for an init error body over the limit (its bytes were dropped). */
function oversizedInitError(bytes: number, limit: number): InitFailure {
  const errorType = 'Function.ResponseSizeTooLarge';
  const errorMessage = `Init error payload size (${bytes} bytes) exceeded maximum allowed payload size (${limit} bytes).`;
  return { errorType, body: Buffer.from(JSON.stringify({ errorMessage, errorType })) };
}
