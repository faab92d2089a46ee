// Replaces console.* so every record is one log line the platform can attribute to an invocation:
// Text `<ISO time>\t<requestId>\t<LEVEL>\t<message>` (newlines in the message become \r) or JSON
// `{"timestamp","level","requestId","message"...}`, filtered by AWS_LAMBDA_LOG_LEVEL. Everything
// that can be decided once (format, target, level) is decided here, not on each call: this runs on
// every console.log of every invocation.
import { createRequire } from 'node:module';
import { intoError, toFormatted } from './errors.mjs';

// Builtins come through require(): an ES import of node:fs or node:stream builds a facade over
// every export (loading fs/promises and the stream classes), a few ms of start-up for nothing.
const require = createRequire(import.meta.url);
const { Buffer } = require('node:buffer');
const { writeSync } = require('node:fs');
const { format } = require('node:util');

// Priority orders the levels; mask is OR'd into the telemetry frame type (as Lambda does).
const LEVELS = {
  TRACE: { name: 'TRACE', priority: 1, mask: 0b00100 },
  DEBUG: { name: 'DEBUG', priority: 2, mask: 0b01000 },
  INFO: { name: 'INFO', priority: 3, mask: 0b01100 },
  WARN: { name: 'WARN', priority: 4, mask: 0b10000 },
  ERROR: { name: 'ERROR', priority: 5, mask: 0b10100 },
  FATAL: { name: 'FATAL', priority: 6, mask: 0b11000 },
};

// Kept on globalThis under the symbols AWS's client uses, where other tooling (SST's live
// bridge, for one) reads and writes the current request id.
const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');
const TENANT_ID = Symbol.for('aws.lambda.runtime.tenantId');

/** Records the invocation the following log lines belong to. */
export function setRequestId(requestId, tenantId) {
  globalThis[REQUEST_ID] = requestId;
  globalThis[TENANT_ID] = tenantId;
}

function textMessage(message, params) {
  // util.format(x) for a lone string is x; skip the call on the most common shape.
  return params.length === 0 && typeof message === 'string' ? message : format(message, ...params);
}

function textLine(level, message, params) {
  const line = `${new Date().toISOString()}\t${globalThis[REQUEST_ID]}\t${level.name}\t${textMessage(message, params)}`;
  return line.includes('\n') ? line.replaceAll('\n', '\r') : line;
}

// Errors anywhere inside a lone logged value are serialised with their type and stack.
function jsonErrorReplacer(_key, value) {
  if (!(value instanceof Error)) return value;
  return Object.assign(
    {
      errorType: value.constructor?.name ?? 'UnknownError',
      errorMessage: value.message,
      stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
    },
    value,
  );
}

function jsonLine(level, message, params, timestamp = new Date().toISOString()) {
  const record = { timestamp, level: level.name, requestId: globalThis[REQUEST_ID] };
  const tenantId = globalThis[TENANT_ID];
  if (tenantId !== undefined && tenantId !== null) record.tenantId = tenantId;
  if (params.length === 0) {
    // A lone value is kept as structured JSON (objects stay objects).
    record.message = message;
    try {
      return JSON.stringify(record, jsonErrorReplacer);
    } catch {
      record.message = format(message);
      return JSON.stringify(record);
    }
  }
  record.message = format(message, ...params);
  for (const param of [message, ...params]) {
    if (param instanceof Error) {
      record.errorType = param.constructor?.name ?? 'UnknownError';
      record.errorMessage = param.message;
      record.stackTrace = typeof param.stack === 'string' ? param.stack.split('\n') : [];
      break;
    }
  }
  return JSON.stringify(record);
}

// Records go to fd 1 with a synchronous write: whole, in order with the runtime's own answers, and
// without building process.stdout (about a millisecond of start-up) unless user code asks for it.
// Once anything touches process.stdout, libuv makes fd 1 non-blocking, so a write can then fail
// with EAGAIN while the platform drains the pipe; from then on the stream, which queues, takes the
// lines until its queue is empty again, so records never overtake each other.
let fallback;

function writeStdout(line) {
  if (fallback === undefined || fallback.writableLength === 0) {
    // Up to PIPE_BUF (4096) bytes the kernel writes all or nothing; 1024 UTF-16 units fit.
    if (line.length <= 1024) {
      try {
        writeSync(1, line);
        return;
      } catch {
        // handed to the stream below
      }
    } else {
      const bytes = Buffer.from(line, 'utf8');
      let offset = 0;
      try {
        while (offset < bytes.length) offset += writeSync(1, bytes, offset);
        return;
      } catch {
        line = bytes.subarray(offset);
      }
    }
  }
  fallback ??= process.stdout;
  fallback.write(line);
}

function stdoutWriter(render) {
  return (level, message, params) => writeStdout(render(level, message, params) + '\n');
}

// `_LAMBDA_TELEMETRY_LOG_FD` framing: [u32 type|level][u32 length][u64 µs timestamp] + message.
function fdWriter(fd, json) {
  const header = Buffer.alloc(16);
  const type = json ? 0xa55a0002 : 0xa55a0003;
  return (level, message, params) => {
    const now = new Date();
    const text = json
      ? jsonLine(level, message, params, now.toISOString())
      : `${now.toISOString()}\t${globalThis[REQUEST_ID]}\t${level.name}\t${textMessage(message, params)}\n`;
    const bytes = Buffer.from(text, 'utf8');
    header.writeUInt32BE((type | level.mask) >>> 0, 0);
    header.writeUInt32BE(bytes.length, 4);
    header.writeBigUInt64BE(BigInt(now.getTime()) * 1000n, 8);
    writeSync(fd, header);
    writeSync(fd, bytes);
  };
}

const ignore = () => {};

/** How the runtime logs its own errors: `label \t{json}` in Text, the error itself in JSON. */
export let logError = ignore;

/**
 * Patches the global console from the environment (AWS_LAMBDA_LOG_FORMAT, AWS_LAMBDA_LOG_LEVEL,
 * _LAMBDA_TELEMETRY_LOG_FD, which is consumed and removed as Lambda does).
 */
export function patchConsole(env) {
  const json = env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON';
  let write;
  if (env._LAMBDA_TELEMETRY_LOG_FD !== undefined) {
    write = fdWriter(Number.parseInt(env._LAMBDA_TELEMETRY_LOG_FD, 10), json);
    delete env._LAMBDA_TELEMETRY_LOG_FD;
  } else {
    write = stdoutWriter(json ? jsonLine : textLine);
  }
  const threshold = LEVELS[env.AWS_LAMBDA_LOG_LEVEL?.toUpperCase()] ?? LEVELS.TRACE;
  const method = (level) =>
    level.priority >= threshold.priority
      ? (message, ...params) => write(level, message, params)
      : ignore;

  console.trace = method(LEVELS.TRACE);
  console.debug = method(LEVELS.DEBUG);
  console.info = method(LEVELS.INFO);
  console.log = console.info;
  console.warn = method(LEVELS.WARN);
  console.error = method(LEVELS.ERROR);
  console.fatal = method(LEVELS.FATAL);

  const error = console.error;
  logError = json
    ? (_label, err) => error(intoError(err))
    : (label, err) => error(label, toFormatted(intoError(err)));
}
