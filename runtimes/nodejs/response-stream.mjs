// The writable a streaming handler receives as its second argument. It is a real stream.Writable
// (so pipeline() and backpressure work) over a chunked POST to `/invocation/{id}/response`; the
// POST starts on the first write (or at the end), which leaves time for setContentType and
// HttpResponseStream.from. An error ends the POST with the error in trailers instead of a body end.
import { createRequire } from 'node:module';
import { InvalidStreamingOperation, errorTypeHeader, toRapidResponse } from './errors.mjs';

// Builtins come through require(): an ES import of node:fs or node:stream builds a facade over
// every export (loading fs/promises and the stream classes), a few ms of start-up for nothing.
const require = createRequire(import.meta.url);
const { Buffer } = require('node:buffer');
const { Writable } = require('node:stream');

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

// Lambda's stream takes any value and writes non-binary ones as JSON.
function asChunk(chunk) {
  return typeof chunk === 'string' || chunk instanceof Uint8Array ? chunk : JSON.stringify(chunk);
}

/** A response stream; `open(contentType)` starts the underlying HTTP request. */
export class ResponseStream extends Writable {
  #open;
  #contentType = DEFAULT_CONTENT_TYPE;
  #request;
  #closed = false;
  #failure;

  constructor(open, highWaterMark) {
    super(highWaterMark === undefined ? undefined : { highWaterMark });
    this.#open = open;
    // The runtime reports stream errors itself (as trailers); an 'error' nobody listens to must
    // not also crash the process.
    this.on('error', () => {});
  }

  /** Sets the response's Content-Type; only possible before the first write. */
  setContentType(contentType) {
    if (this.#request !== undefined) {
      throw new InvalidStreamingOperation('Cannot set content-type, too late.');
    }
    this.#contentType = contentType;
  }

  write(chunk, encoding, callback) {
    return super.write(asChunk(chunk), encoding, callback);
  }

  end(chunk, encoding, callback) {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') {
      return super.end(chunk, encoding, callback);
    }
    return super.end(asChunk(chunk), encoding, callback);
  }

  #start() {
    if (this.#request === undefined) {
      const request = this.#open(this.#contentType);
      this.#request = request;
      // Set by HttpResponseStream.from: the prelude goes before the first byte of the body.
      if (typeof this._onBeforeFirstWrite === 'function') {
        this._onBeforeFirstWrite((data) => request.write(data));
      }
    }
    return this.#request;
  }

  _write(chunk, encoding, callback) {
    this.#start().write(chunk, encoding, callback);
  }

  _final(callback) {
    this.#close(this.#failure, callback);
  }

  _destroy(error, callback) {
    // pipeline() destroys its destination with the source's error: report it as the answer.
    this.#close(error ?? undefined, () => callback(error));
  }

  #close(error, callback) {
    if (this.#closed) {
      callback();
      return;
    }
    this.#closed = true;
    const request = this.#start();
    if (error !== undefined) {
      const payload = toRapidResponse(error);
      request.addTrailers({
        'Lambda-Runtime-Function-Error-Type': errorTypeHeader(payload.errorType),
        'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(payload)).toString(
          'base64',
        ),
      });
    }
    request.end(() => callback());
  }

  /**
   * Ends the response with `error` (after what was already written); false when the response had
   * already been closed and the error can no longer reach the caller.
   */
  fail(error) {
    if (this.#closed) return false;
    // Writes still queued go out first; _final then closes with the error.
    this.#failure = error;
    if (!this.writableEnded) this.end();
    return true;
  }
}
