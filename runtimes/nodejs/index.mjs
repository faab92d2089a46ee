// Lamina's Node.js runtime interface client: the process Lamina starts in each Node.js execution
// environment (`node index.mjs`, cwd = LAMBDA_TASK_ROOT). It loads the function named by _HANDLER
// and serves invocations from the Runtime API at AWS_LAMBDA_RUNTIME_API, so that unmodified AWS
// Lambda functions behave as on nodejs20.x. Plain ES modules, no dependencies, no build step.
//
// Start-up is benchmarked, and on Node 20 every extra ES module file costs close to a millisecond
// before the first `/next` (measured: six files +5 ms over `node` + node:http alone, three files
// +2.5 ms, one +1 ms). So the start-up path is this file plus errors.mjs and patch-console.mjs, in
// sections: the Runtime API client, handler loading, the invocation loop, and the start-up itself.
// response-stream.mjs is loaded only for streaming handlers.
import { createRequire } from 'node:module';
import {
  HandlerNotFound,
  ImportModuleError,
  MalformedHandlerName,
  MalformedStreamingHandler,
  NodeJsExit,
  UnhandledPromiseRejection,
  UserCodeSyntaxError,
  errorTypeHeader,
  toRapidResponse,
} from './errors.mjs';
import { logError, patchConsole, setRequestId } from './patch-console.mjs';

// Builtins come through require(): an ES import of node:fs builds a facade over every export
// (loading fs/promises and the fs streams on the way), a few ms of start-up for nothing. The same
// require() loads the function's CommonJS code.
const require = createRequire(import.meta.url);
const { Buffer } = require('node:buffer');
const { existsSync, readFileSync } = require('node:fs');
const { Agent, request } = require('node:http');
const { basename, dirname, join, resolve } = require('node:path');
const { pathToFileURL } = require('node:url');

// ---------------------------------------------------------------------------------------------
// Runtime API client. One keep-alive connection carries the whole conversation (next → response
// or error → next …), as AWS's client does; only a crashing process opens a second one, because
// the first may then be busy with a long poll or a response stream. Inside Lamina's sandbox
// (LAMINA_RUNTIME_SOCKET names the Runtime API's unix socket) the conversation goes through
// Lamina's runtime channel instead, and HTTP requests go to that socket directly.

const BASE = '/2018-06-01/runtime/';
const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';

function invocationPath(requestId, answer) {
  return `${BASE}invocation/${encodeURIComponent(requestId)}/${answer}`;
}

function jsonHeaders(body) {
  return { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
}

// The Runtime API going away means the environment is being torn down: nothing to report to.
function abandon(error) {
  process.stderr.write(`Lambda runtime: Runtime API request failed: ${error?.message ?? error}\n`);
  process.exit(1);
}

/**
 * Talks to `AWS_LAMBDA_RUNTIME_API` (`host:port`, `[v6]:port`) over plain HTTP/1.1, or to the
 * same API on the unix socket `socketPath` when one is given.
 */
class RuntimeApiClient {
  #target;
  #agent = new Agent({ keepAlive: true, maxSockets: 1 });
  #nextOptions;

  constructor(address, socketPath) {
    const colon = address.lastIndexOf(':');
    this.#target = socketPath
      ? { socketPath }
      : {
          host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'),
          port: Number(address.slice(colon + 1)),
        };
    this.#nextOptions = this.#options('GET', `${BASE}invocation/next`, undefined);
  }

  #options(method, path, headers, agent = this.#agent) {
    return { ...this.#target, agent, method, path, headers };
  }

  // A keep-alive socket may have been closed by the peer just before reuse; the request never
  // reached the server then, so it is sent again once on a fresh connection.
  #send(options, body, onResponse, retried = false) {
    const req = request(options, onResponse);
    req.on('error', (error) => {
      if (!retried && req.reusedSocket && error.code === 'ECONNRESET') {
        this.#send(options, body, onResponse, true);
      } else {
        abandon(error);
      }
    });
    req.end(body);
  }

  // Answers are acknowledged with 202; 4xx (stale id, too large) still lets the loop go on,
  // 5xx means the environment is broken and the runtime must exit.
  #post(path, body, headers, done) {
    this.#send(this.#options('POST', path, headers), body, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode >= 500) abandon(new Error(`${path} answered ${res.statusCode}`));
        else done(res.statusCode);
      });
    });
  }

  /** Long-polls for the next invocation; calls `onInvocation(headers, body)`, never times out. */
  next(onInvocation) {
    this.#send(this.#nextOptions, undefined, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        if (res.statusCode !== 200) {
          abandon(new Error(`/next answered ${res.statusCode} ${body.toString()}`));
        } else {
          onInvocation(res.headers, body.toString());
        }
      });
    });
  }

  /**
   * A pre-started runtime (LAMINA_PRESTARTED=1) boots before it is bound to a function: it waits
   * here for its assignment, the function's environment variables, then starts like any other.
   */
  assignment() {
    return new Promise((resolve) => {
      this.#send(
        this.#options('GET', '/lamina/2026-11-01/assignment', undefined),
        undefined,
        (res) => {
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('end', () => {
            const body = Buffer.concat(chunks).toString();
            if (res.statusCode !== 200)
              abandon(new Error(`assignment answered ${res.statusCode} ${body}`));
            else resolve(JSON.parse(body).environment);
          });
        },
      );
    });
  }

  /** Posts an already serialised JSON result to `/invocation/{id}/response`. */
  postResponse(requestId, body, done) {
    this.#post(invocationPath(requestId, 'response'), body, jsonHeaders(body), done);
  }

  /** Posts `{errorType, errorMessage, trace}` to `/invocation/{id}/error` (no error-type header). */
  postError(requestId, payload, done) {
    const body = JSON.stringify(payload);
    this.#post(invocationPath(requestId, 'error'), body, jsonHeaders(body), done);
  }

  /**
   * Starts a streamed `/invocation/{id}/response` (chunked; errors go in trailers). Returns the
   * request to write to; `done(statusCode)` runs once the Runtime API has answered.
   */
  openResponseStream(requestId, contentType, done) {
    const req = request(
      this.#options('POST', invocationPath(requestId, 'response'), {
        'Lambda-Runtime-Function-Response-Mode': 'streaming',
        'Transfer-Encoding': 'chunked',
        Trailer: [ERROR_TYPE_HEADER, 'Lambda-Runtime-Function-Error-Body'],
        'Content-Type': contentType,
      }),
      (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode));
      },
    );
    req.on('error', abandon);
    return req;
  }

  /**
   * Reports a fatal error on a connection of its own, then exits with `exitCode`: to the current
   * invocation when there is one, else as an init error (with the error-type header).
   */
  reportAndExit(requestId, payload, exitCode) {
    const body = JSON.stringify(payload);
    const headers = jsonHeaders(body);
    let path = `${BASE}init/error`;
    if (requestId === undefined) headers[ERROR_TYPE_HEADER] = errorTypeHeader(payload.errorType);
    else path = invocationPath(requestId, 'error');
    const exit = () => process.exit(exitCode);
    const req = request(this.#options('POST', path, headers, false), (res) => {
      res.resume();
      res.on('end', exit);
    });
    req.on('error', exit);
    req.end(body);
  }

  /**
   * Upgrades a connection of its own to Lamina's runtime channel; resolves with the socket and the
   * bytes that came with the upgrade. The platform offers it whenever it names the socket, so a
   * refusal is fatal rather than a reason to fall back.
   */
  openChannel() {
    return new Promise((resolve) => {
      const headers = { Connection: 'Upgrade', Upgrade: CHANNEL_PROTOCOL };
      const req = request(this.#options('GET', CHANNEL_PATH, headers, false));
      req.on('upgrade', (res, socket, head) => resolve({ socket, head }));
      req.on('response', (res) => {
        res.resume();
        abandon(new Error(`the runtime channel was refused (${res.statusCode})`));
      });
      req.on('error', abandon);
      req.end();
    });
  }
}

// Lamina's runtime channel: the same conversation in binary frames on one upgraded connection,
// `u32 length | u8 type | u32 meta length | meta JSON | body` (big-endian), so that a warm invoke
// is one write each way. NEXT asks for work, INVOKE brings it, RESPONSE and ERROR answer (they are
// not acknowledged: the next INVOKE is the platform's answer). The socket is referenced only while
// a NEXT waits, so that between invocations it never holds the event loop open.
const CHANNEL_PATH = '/lamina/2026-11-01/runtime-channel';
const CHANNEL_PROTOCOL = 'lamina-runtime-channel';
const FRAME_NEXT = 1;
const FRAME_RESPONSE = 2;
const FRAME_ERROR = 3;
const FRAME_INVOKE = 16;
const FRAME_HEAD = 9;
const NEXT_FRAME = Buffer.from([0, 0, 0, 5, FRAME_NEXT, 0, 0, 0, 0]);

class RuntimeChannelClient {
  #socket;
  #http;
  #chunks = [];
  #buffered = 0;
  #onInvocation;

  /** `http` serves what the channel does not carry (assignment, streams, fatal reports). */
  constructor({ socket, head }, http) {
    this.#socket = socket;
    this.#http = http;
    socket.unref();
    socket.on('data', (chunk) => this.#receive(chunk));
    socket.on('error', abandon);
    socket.on('close', () => abandon(new Error('the runtime channel closed')));
    if (head.length > 0) this.#receive(head);
  }

  assignment() {
    return this.#http.assignment();
  }

  next(onInvocation) {
    this.#onInvocation = onInvocation;
    this.#socket.ref();
    this.#socket.write(NEXT_FRAME);
  }

  // The answer and the NEXT that follows it (`done` asks for the next invocation) leave in one write.
  postResponse(requestId, body, done) {
    this.#answer(FRAME_RESPONSE, { id: requestId }, body, done);
  }

  postError(requestId, payload, done) {
    this.#answer(FRAME_ERROR, { id: requestId }, JSON.stringify(payload), done);
  }

  openResponseStream(requestId, contentType, done) {
    return this.#http.openResponseStream(requestId, contentType, done);
  }

  reportAndExit(requestId, payload, exitCode) {
    this.#http.reportAndExit(requestId, payload, exitCode);
  }

  #answer(type, meta, body, done) {
    const metaText = JSON.stringify(meta);
    const metaBytes = Buffer.byteLength(metaText);
    const bodyBytes = Buffer.byteLength(body);
    const frame = Buffer.allocUnsafe(FRAME_HEAD + metaBytes + bodyBytes);
    frame.writeUInt32BE(5 + metaBytes + bodyBytes, 0);
    frame[4] = type;
    frame.writeUInt32BE(metaBytes, 5);
    frame.write(metaText, FRAME_HEAD, 'utf8');
    frame.write(body, FRAME_HEAD + metaBytes, 'utf8');
    this.#socket.cork();
    this.#socket.write(frame);
    done(202);
    this.#socket.uncork();
  }

  #receive(chunk) {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    while (this.#buffered >= FRAME_HEAD) {
      if (this.#chunks[0].length < FRAME_HEAD) this.#chunks = [Buffer.concat(this.#chunks)];
      const length = this.#chunks[0].readUInt32BE(0);
      if (this.#buffered < 4 + length) return;
      let data = this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks);
      const metaBytes = data.readUInt32BE(5);
      const meta = JSON.parse(data.toString('utf8', FRAME_HEAD, FRAME_HEAD + metaBytes));
      const body = data.toString('utf8', FRAME_HEAD + metaBytes, 4 + length);
      const type = data[4];
      data = data.subarray(4 + length);
      this.#chunks = data.length > 0 ? [data] : [];
      this.#buffered = data.length;
      if (type !== FRAME_INVOKE) abandon(new Error(`unexpected runtime channel frame ${type}`));
      this.#socket.unref();
      const onInvocation = this.#onInvocation;
      this.#onInvocation = undefined;
      onInvocation(
        {
          'lambda-runtime-aws-request-id': meta.id,
          'lambda-runtime-deadline-ms': String(meta.deadline),
          'lambda-runtime-invoked-function-arn': meta.arn,
          'lambda-runtime-trace-id': meta.trace,
          'lambda-runtime-client-context': meta.clientContext,
          'lambda-runtime-cognito-identity': meta.cognitoIdentity,
        },
        body,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Handler loading: `_HANDLER` is `[dir/]module.path.to.fn`. Files are tried in Lambda's order:
// extensionless via require, `.js` via require unless the nearest package.json says
// "type":"module", `.js` via import() if it does, `.mjs` via import(), `.cjs` via require, then
// Node's own resolution from the task root (node_modules, NODE_PATH). Failures become the
// Runtime.* init errors Lambda reports. The `awslambda` global is installed first: user code may
// call streamifyResponse while it loads.

const STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HIGH_WATER_MARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';
const PRELUDE_DELIMITER = new Uint8Array(8);

/** Turns a response stream into a function-URL HTTP response: JSON prelude, 8 NULs, body. */
class HttpResponseStream {
  static from(underlyingStream, prelude) {
    underlyingStream.setContentType(HTTP_INTEGRATION_CONTENT_TYPE);
    // Serialised now: the prelude must not change (or contain NUL) once the handler moves on.
    const metadata = JSON.stringify(prelude);
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadata);
      write(PRELUDE_DELIMITER);
    };
    return underlyingStream;
  }
}

function streamifyResponse(handler, options) {
  handler[STREAMING] = 'response';
  if (typeof options?.highWaterMark === 'number') {
    handler[HIGH_WATER_MARK] = Number.parseInt(options.highWaterMark, 10);
  }
  return handler;
}

/** Defines globalThis.awslambda unless AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA opts out. */
function installAwslambdaGlobal(env) {
  const optOut = env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (optOut === '1' || optOut === 'true') return;
  globalThis.awslambda = { streamifyResponse, HttpResponseStream };
}

function requireIfExists(path) {
  return existsSync(path) ? require(path) : undefined;
}

async function importIfExists(path) {
  return existsSync(path) ? import(pathToFileURL(path).href) : undefined;
}

// The nearest package.json decides; a node_modules folder or the root ends the search.
function isModulePackage(folder) {
  for (;;) {
    if (folder.endsWith('/node_modules')) return false;
    const manifest = join(folder, 'package.json');
    if (existsSync(manifest)) {
      try {
        return JSON.parse(readFileSync(manifest, 'utf8'))?.type === 'module';
      } catch (error) {
        console.warn(
          `${manifest} cannot be read, it will be ignored for ES module detection purposes.`,
          error,
        );
        return false;
      }
    }
    const parent = dirname(folder);
    if (parent === folder) return false;
    folder = parent;
  }
}

async function loadModule(taskRoot, moduleRoot, moduleName) {
  const base = resolve(taskRoot, moduleRoot, moduleName);
  const extensionless = requireIfExists(base);
  if (extensionless) return extensionless;
  const esmPackage = existsSync(base + '.js') && isModulePackage(dirname(base + '.js'));
  if (!esmPackage) {
    const commonJs = requireIfExists(base + '.js');
    if (commonJs) return commonJs;
  }
  const loaded =
    (esmPackage && (await importIfExists(base + '.js'))) ||
    (await importIfExists(base + '.mjs')) ||
    requireIfExists(base + '.cjs');
  if (loaded) return loaded;
  // require() alone would resolve relative to this file; Lambda resolves from the task root.
  return require(require.resolve(moduleName, { paths: [taskRoot, resolve(taskRoot, moduleRoot)] }));
}

/** The handler's metadata the loop needs: how to call it and how to answer. */
function handlerMetadata(handler) {
  const streaming = handler[STREAMING];
  if (
    streaming !== undefined &&
    streaming !== null &&
    streaming !== false &&
    streaming !== 'response'
  ) {
    throw new MalformedStreamingHandler('Only response streaming is supported.');
  }
  const highWaterMark = Number.parseInt(handler[HIGH_WATER_MARK], 10);
  return {
    handler,
    streaming: streaming === 'response',
    highWaterMark: Number.isNaN(highWaterMark) ? undefined : highWaterMark,
    isAsync: handler.constructor?.name === 'AsyncFunction',
  };
}

/**
 * Loads the handler named by `handlerString` from `taskRoot`; resolves with the function and its
 * metadata, or rejects with Runtime.MalformedHandlerName / ImportModuleError /
 * UserCodeSyntaxError / HandlerNotFound, or with whatever the module threw while loading.
 */
async function loadHandler(taskRoot, handlerString) {
  if (handlerString.includes('..')) {
    throw new MalformedHandlerName(
      `'${handlerString}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const file = basename(handlerString);
  const moduleRoot = handlerString.slice(0, handlerString.indexOf(file));
  const dot = file.indexOf('.');
  if (dot < 0) throw new MalformedHandlerName('Bad handler');
  const moduleName = file.slice(0, dot);
  const path = file.slice(dot + 1);

  let userModule;
  try {
    userModule = await loadModule(taskRoot, moduleRoot, moduleName);
  } catch (error) {
    if (error instanceof SyntaxError) throw new UserCodeSyntaxError(error);
    if (error?.code === 'MODULE_NOT_FOUND') throw new ImportModuleError(error);
    throw error;
  }

  let handler = userModule;
  for (const key of path.split('.')) handler = handler && handler[key];
  if (!handler) throw new HandlerNotFound(`${handlerString} is undefined or not exported`);
  if (typeof handler !== 'function') {
    throw new HandlerNotFound(`${handlerString} is not a function`);
  }
  return handlerMetadata(handler);
}

// ---------------------------------------------------------------------------------------------
// The invocation loop. Completion follows Lambda's rules: a returned promise answers as soon as it
// settles; callback(null, x) answers when the event loop drains (or at once when
// context.callbackWaitsForEmptyEventLoop is false); a handler that never answers gets `null`, or
// Runtime.NodeJsExit when it was an async function. "Drains" is observed with process
// 'beforeExit', which fires only once nothing (timers, sockets) is left: the Runtime API socket
// is idle and unref'd between requests, so it never holds the loop open by itself.

const ignore = () => {};

function isThenable(value) {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof value.then === 'function'
  );
}

// Header bytes reach us as Latin-1 characters; the Runtime API sends the JSON as UTF-8.
function parseJsonHeader(value, name) {
  if (value === undefined) return undefined;
  // eslint-disable-next-line no-control-regex -- the test is "anything outside ASCII"
  const text = /[^\x00-\x7f]/.test(value) ? Buffer.from(value, 'latin1').toString('utf8') : value;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`Cannot parse ${name} as json: ${error.toString()}`);
  }
}

// JSON.stringify(undefined | function | symbol) is undefined, which Lambda answers as null.
function serialize(result) {
  return JSON.stringify(result === undefined ? null : result) ?? 'null';
}

/** Runs invocations one after another for one loaded handler. */
class RuntimeLoop {
  #client;
  #environment;
  #handler;
  #isAsync = false;
  #streaming = false;
  #highWaterMark;
  #ResponseStream;
  #requestId;
  #crashing = false;
  #onDrain = ignore;

  /** `env`: the process environment, read once (function name, version, memory, log names). */
  constructor(client, env) {
    this.#client = client;
    this.#environment = {
      functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
      functionName: env.AWS_LAMBDA_FUNCTION_NAME,
      memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    };
    process.on('beforeExit', () => {
      const action = this.#onDrain;
      this.#onDrain = ignore;
      action();
    });
  }

  /**
   * Reports an error that escaped the handler (uncaught exception, unhandled rejection) for the
   * latest invocation, or as an init error before the first one, then exits with `exitCode`.
   */
  crash(error, exitCode) {
    if (this.#crashing) return;
    this.#crashing = true;
    this.#client.reportAndExit(this.#requestId, toRapidResponse(error), exitCode);
  }

  /** Starts asking for invocations; `loaded` comes from loadHandler. */
  async start(loaded) {
    this.#handler = loaded.handler;
    this.#isAsync = loaded.isAsync;
    this.#streaming = loaded.streaming;
    this.#highWaterMark = loaded.highWaterMark;
    // Only streaming functions pay for loading the stream code, and they pay before the first event.
    if (loaded.streaming) {
      const streams = await import('./response-stream.mjs');
      this.#ResponseStream = streams.ResponseStream;
    }
    this.#next();
  }

  #next = () => {
    this.#client.next(this.#invoke);
  };

  #invoke = (headers, body) => {
    const requestId = headers['lambda-runtime-aws-request-id'];
    this.#requestId = requestId;
    setRequestId(requestId, headers['lambda-runtime-aws-tenant-id']);
    const traceId = headers['lambda-runtime-trace-id'];
    if (traceId) process.env._X_AMZN_TRACE_ID = traceId;
    else delete process.env._X_AMZN_TRACE_ID;
    if (this.#streaming) this.#invokeStreaming(requestId, headers, body);
    else this.#invokeBuffered(requestId, headers, body);
  };

  // Adds the environment and per-invocation fields, in the order Lambda's context has them.
  #fillContext(context, requestId, headers) {
    const environment = this.#environment;
    const deadline = Number(headers['lambda-runtime-deadline-ms']);
    context.functionVersion = environment.functionVersion;
    context.functionName = environment.functionName;
    context.memoryLimitInMB = environment.memoryLimitInMB;
    context.logGroupName = environment.logGroupName;
    context.logStreamName = environment.logStreamName;
    context.clientContext = parseJsonHeader(
      headers['lambda-runtime-client-context'],
      'ClientContext',
    );
    context.identity = parseJsonHeader(
      headers['lambda-runtime-cognito-identity'],
      'CognitoIdentity',
    );
    context.invokedFunctionArn = headers['lambda-runtime-invoked-function-arn'];
    context.awsRequestId = requestId;
    context.tenantId = headers['lambda-runtime-aws-tenant-id'];
    context.getRemainingTimeInMillis = () => deadline - Date.now();
    return context;
  }

  #invokeBuffered(requestId, headers, body) {
    const client = this.#client;
    const next = this.#next;
    let finished = false; // callback, succeed, fail, done: the first call wins
    let completed = false; // an answer has been posted
    let waitForEmptyEventLoop = true;

    const postError = (error) => {
      logError('Invoke Error', error);
      client.postError(requestId, toRapidResponse(error), next);
    };
    const complete = (result) => {
      if (completed) {
        console.error(
          'Invocation has already been reported as done. Cannot call complete more than once per invocation.',
        );
        return;
      }
      completed = true;
      let json;
      try {
        json = serialize(result);
      } catch {
        postError(new Error('Unable to stringify response body'));
        return;
      }
      client.postResponse(requestId, json, next);
    };
    const finish = (error, result, waitForDrain) => {
      if (finished) return;
      finished = true;
      this.#onDrain = ignore;
      if (error !== undefined && error !== null) postError(error);
      else if (waitForDrain && waitForEmptyEventLoop) this.#onDrain = () => complete(result);
      else complete(result);
    };
    const callback = (error, result) => finish(error, result, true);

    // Nothing answered by the time the process runs out of work.
    this.#onDrain = this.#isAsync
      ? () => {
          completed = true;
          postError(new NodeJsExit());
        }
      : () => {
          completed = true;
          client.postResponse(requestId, 'null', next);
        };

    try {
      const context = this.#fillContext(
        {
          get callbackWaitsForEmptyEventLoop() {
            return waitForEmptyEventLoop;
          },
          set callbackWaitsForEmptyEventLoop(value) {
            waitForEmptyEventLoop = value;
          },
          succeed: (result) => finish(null, result, false),
          fail: (error) => finish(error ?? 'handled', null, false),
          done: (error, result) => finish(error, result, false),
        },
        requestId,
        headers,
      );
      const result = this.#handler(JSON.parse(body), context, callback);
      if (isThenable(result)) {
        result.then(
          (value) => finish(null, value, false),
          (error) => finish(error ?? 'handled', null, false),
        );
      }
    } catch (error) {
      callback(error);
    }
  }

  #invokeStreaming(requestId, headers, body) {
    let waitForEmptyEventLoop = true;
    let settled = false; // the handler's promise settled (or was given up on)
    let answered = false; // the Runtime API acknowledged the streamed response

    const proceed = () => {
      if (!settled || !answered) return;
      if (waitForEmptyEventLoop) this.#onDrain = this.#next;
      else {
        this.#onDrain = ignore;
        this.#next();
      }
    };
    const settle = () => {
      settled = true;
      proceed();
    };
    const stream = new this.#ResponseStream(
      (contentType) =>
        this.#client.openResponseStream(requestId, contentType, () => {
          answered = true;
          proceed();
        }),
      this.#highWaterMark,
    );
    const fail = (error) => {
      logError('Invoke Error', error);
      stream.fail(error);
    };

    this.#onDrain = () => {
      if (!settled) {
        fail(new NodeJsExit());
        settle();
      } else if (!stream.writableFinished) {
        fail('Response stream is not finished.');
      }
    };

    let result;
    try {
      const context = this.#fillContext(
        {
          get callbackWaitsForEmptyEventLoop() {
            return waitForEmptyEventLoop;
          },
          set callbackWaitsForEmptyEventLoop(value) {
            waitForEmptyEventLoop = value;
          },
        },
        requestId,
        headers,
      );
      result = this.#handler(JSON.parse(body), stream, context);
    } catch (error) {
      fail(error);
      settle();
      return;
    }
    if (!isThenable(result)) {
      fail('Streaming does not support non-async handlers.');
      settle();
      return;
    }
    result.then(
      (value) => {
        if (value !== undefined) console.warn('Streaming handlers ignore return values.');
        settle();
      },
      (error) => {
        fail(error);
        settle();
      },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Start-up.

const channelSocket = process.env.LAMINA_RUNTIME_SOCKET;
delete process.env.LAMINA_RUNTIME_SOCKET;
const http = new RuntimeApiClient(
  process.env.AWS_LAMBDA_RUNTIME_API ?? '127.0.0.1:9001',
  channelSocket,
);
const channel = channelSocket ? http.openChannel() : undefined;
if (process.env.LAMINA_PRESTARTED === '1') {
  const assigned = await http.assignment();
  // Only what changes is written. Deleting TZ, even for a moment, makes V8 look for the host's
  // time zone, which took 6–14 ms of CPU inside a jail (measured): most of a specialised init.
  for (const name of Object.keys(process.env)) if (!(name in assigned)) delete process.env[name];
  for (const [name, value] of Object.entries(assigned))
    if (process.env[name] !== value) process.env[name] = value;
  delete process.env.LAMINA_RUNTIME_SOCKET;
}
const client = channel === undefined ? http : new RuntimeChannelClient(await channel, http);
const env = process.env;
patchConsole(env);
const loop = new RuntimeLoop(client, env);

// Errors nobody caught: reported for the running invocation (or as the init error), then exit
// with the codes Lambda's client uses.
process.on('uncaughtException', (error) => {
  logError('Uncaught Exception', error);
  loop.crash(error, 129);
});
process.on('unhandledRejection', (reason, promise) => {
  const error = new UnhandledPromiseRejection(reason, promise);
  logError('Unhandled Promise Rejection', error);
  loop.crash(error, 128);
});

installAwslambdaGlobal(env);

let loaded;
try {
  loaded = await loadHandler(env.LAMBDA_TASK_ROOT ?? process.cwd(), env._HANDLER ?? '');
} catch (error) {
  logError('Uncaught Exception', error);
  client.reportAndExit(undefined, toRapidResponse(error), 129);
}

if (loaded !== undefined) await loop.start(loaded);
