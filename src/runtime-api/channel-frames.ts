/**
 * Lamina's runtime channel: a binary framing of the Runtime API's hot path, used by Lamina's own
 * runtime clients instead of HTTP (custom runtimes and extensions keep HTTP). The runtime opens it
 * with an HTTP upgrade on the environment's Runtime API socket (`GET CHANNEL_PATH`, `Upgrade:
 * CHANNEL_PROTOCOL`), then both sides exchange frames:
 *
 *     u32 length (bytes after this field) | u8 type | u32 meta length | meta (UTF-8 JSON) | body
 *
 * Integers are big-endian. Runtime → platform: NEXT (no meta, no body: the equivalent of
 * `GET /next`), RESPONSE (meta `{id, contentType?}`, body = the response; the content type
 * defaults to application/json) and ERROR (meta
 * `{id, errorType?}`, body = the error document), neither of which is acknowledged. Platform →
 * runtime: INVOKE (meta `{id, deadline, arn, trace, clientContext?, cognitoIdentity?}` with the
 * header values `/next` would carry, body = the payload).
 *
 * A warm invoke is then one write each way (INVOKE; RESPONSE and NEXT together) instead of four
 * HTTP messages.
 */

export const CHANNEL_PATH = '/lamina/2026-11-01/runtime-channel';
export const CHANNEL_PROTOCOL = 'lamina-runtime-channel';

export const FrameType = {
  next: 1,
  response: 2,
  error: 3,
  invoke: 16,
} as const;

/** Largest meta document either side accepts (ids, ARNs and the two context headers). */
export const MAX_META_BYTES = 64 * 1024;
const HEAD_BYTES = 9;

export interface Frame {
  readonly type: number;
  readonly meta: Record<string, unknown>;
  readonly body: Buffer;
}

/** What a reader reports, in order, as bytes arrive. */
export interface FrameSink {
  /** A whole frame. */
  frame(frame: Frame): void;
  /** A frame whose body exceeds the limit: its bytes are skipped, not kept. */
  oversized(type: number, meta: Record<string, unknown>, bodyBytes: number): void;
  /** The peer broke the framing; the connection cannot be read further. */
  malformed(reason: string): void;
}

/** A frame's header and meta, for a body of `bodyBytes` sent right after it. */
export function frameHead(type: number, meta: object | undefined, bodyBytes: number): Buffer {
  const metaText = meta === undefined ? '' : JSON.stringify(meta);
  const metaBytes = Buffer.byteLength(metaText);
  const head = Buffer.allocUnsafe(HEAD_BYTES + metaBytes);
  head.writeUInt32BE(5 + metaBytes + bodyBytes, 0);
  head.writeUInt8(type, 4);
  head.writeUInt32BE(metaBytes, 5);
  head.write(metaText, HEAD_BYTES, 'utf8');
  return head;
}

/** One whole frame. */
export function encodeFrame(type: number, meta: object | undefined, body?: Buffer): Buffer {
  const head = frameHead(type, meta, body?.length ?? 0);
  return body === undefined ? head : Buffer.concat([head, body]);
}

/**
 * Reassembles frames from a byte stream. Bodies larger than `maxBodyBytes` are reported as
 * oversized and skipped as they pass, so a peer cannot make the reader hold more than the limit.
 */
export class FrameReader {
  readonly #sink: FrameSink;
  readonly #maxBodyBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Bytes of an oversized body still to skip. */
  #skipping = 0;
  #broken = false;

  constructor(sink: FrameSink, maxBodyBytes: number) {
    this.#sink = sink;
    this.#maxBodyBytes = maxBodyBytes;
  }

  push(chunk: Buffer): void {
    if (this.#broken) return;
    if (this.#skipping > 0) {
      const skipped = Math.min(this.#skipping, chunk.length);
      this.#skipping -= skipped;
      chunk = chunk.subarray(skipped);
      if (chunk.length === 0) return;
    }
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    while (!this.#broken && this.#skipping === 0 && this.#readOne());
  }

  /** Reads one frame from the buffered bytes; false when more bytes are needed. */
  #readOne(): boolean {
    if (this.#buffered < HEAD_BYTES) return false;
    const head = this.#peek(HEAD_BYTES);
    const length = head.readUInt32BE(0);
    const type = head.readUInt8(4);
    const metaBytes = head.readUInt32BE(5);
    if (length < 5 || metaBytes > length - 5 || metaBytes > MAX_META_BYTES) {
      this.#fail(`bad frame header (length ${length}, meta ${metaBytes})`);
      return false;
    }
    const bodyBytes = length - 5 - metaBytes;
    const oversized = bodyBytes > this.#maxBodyBytes;
    const needed = HEAD_BYTES + metaBytes + (oversized ? 0 : bodyBytes);
    if (this.#buffered < needed) return false;
    const bytes = this.#take(needed);
    let meta: Record<string, unknown> = {};
    if (metaBytes > 0) {
      try {
        const parsed: unknown = JSON.parse(
          bytes.toString('utf8', HEAD_BYTES, HEAD_BYTES + metaBytes),
        );
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          throw new Error('not an object');
        meta = parsed as Record<string, unknown>;
      } catch {
        this.#fail('frame meta is not a JSON object');
        return false;
      }
    }
    if (oversized) {
      const skippedNow = Math.min(bodyBytes, this.#buffered);
      if (skippedNow > 0) this.#take(skippedNow);
      this.#skipping = bodyBytes - skippedNow;
      this.#sink.oversized(type, meta, bodyBytes);
      return this.#skipping === 0;
    }
    this.#sink.frame({ type, meta, body: bytes.subarray(HEAD_BYTES + metaBytes) });
    return true;
  }

  #fail(reason: string): void {
    this.#broken = true;
    this.#chunks = [];
    this.#buffered = 0;
    this.#sink.malformed(reason);
  }

  /** The first `bytes` buffered bytes, without consuming them (`bytes` ≤ what is buffered). */
  #peek(bytes: number): Buffer {
    const first = this.#chunks[0];
    if (first === undefined) return Buffer.alloc(0);
    if (first.length >= bytes) return first;
    const joined = Buffer.concat(this.#chunks);
    this.#chunks = [joined];
    return joined;
  }

  /** Consumes the first `bytes` buffered bytes. */
  #take(bytes: number): Buffer {
    const joined = this.#peek(bytes);
    const taken = joined.subarray(0, bytes);
    const rest = joined.subarray(bytes);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered -= bytes;
    return taken;
  }
}
