/**
 * One runtime channel (see channel-frames.ts) on an upgraded Runtime API connection: turns NEXT,
 * RESPONSE and ERROR frames into calls on the Runtime API's state, and delivers invocations as
 * INVOKE frames. A runtime that breaks the framing loses its connection (and with it any NEXT it
 * was waiting on), as an HTTP client would on a malformed request.
 */
import type { Duplex } from 'node:stream';
import type { InvocationEvent } from '../core/runtime-protocol.js';
import { DISCARD_BYTES } from './bounded-body.js';
import { FrameReader, FrameType, frameHead, type Frame } from './channel-frames.js';

/** Something waiting for the next invocation: a pending `/next` request or a channel's NEXT. */
export interface NextWaiter {
  /** Sends the event; false when the connection is already gone (the event was not sent). */
  deliver(event: InvocationEvent): boolean;
  /** The environment is closing: the waiter's connection goes. */
  cancel(): void;
}

/** The Runtime API state a channel acts on. */
export interface ChannelHost {
  next(waiter: NextWaiter): void;
  /** The waiter's connection closed: it no longer waits. */
  drop(waiter: NextWaiter): void;
  answer(id: string, answer: ChannelAnswer): void;
}

export type ChannelAnswer =
  | { readonly kind: 'response'; readonly body: Buffer; readonly contentType: string | undefined }
  | { readonly kind: 'error'; readonly body: Buffer; readonly errorType: string | undefined }
  | { readonly kind: 'too-large'; readonly bytes: number };

export class RuntimeChannelConnection implements NextWaiter {
  readonly #socket: Duplex;
  readonly #host: ChannelHost;
  readonly #reader: FrameReader;

  constructor(socket: Duplex, host: ChannelHost, maxBodyBytes: number) {
    this.#socket = socket;
    this.#host = host;
    this.#reader = new FrameReader(
      {
        frame: (frame) => this.#frame(frame),
        oversized: (type, meta, bytes) => {
          if (type !== FrameType.response && type !== FrameType.error) return this.#broken();
          this.#host.answer(text(meta['id']), { kind: 'too-large', bytes });
          // A body far over the limit is not skipped byte by byte: the connection goes.
          if (bytes - maxBodyBytes > DISCARD_BYTES) this.#broken();
        },
        malformed: () => this.#broken(),
      },
      maxBodyBytes,
    );
    socket.on('data', (chunk: Buffer) => this.#reader.push(chunk));
    socket.on('error', () => socket.destroy());
    // A runtime that ends its side can no longer answer: the channel goes (upgraded sockets are
    // half-open, and would otherwise keep waiting for work that nobody could answer).
    socket.once('end', () => socket.destroy());
    socket.once('close', () => this.#host.drop(this));
  }

  /** Bytes that arrived with the upgrade request. */
  push(chunk: Buffer): void {
    if (chunk.length > 0) this.#reader.push(chunk);
  }

  deliver(event: InvocationEvent): boolean {
    if (this.#socket.destroyed) return false;
    const meta: Record<string, string | number> = {
      id: event.requestId,
      deadline: event.deadlineMs,
      arn: event.invokedFunctionArn,
      trace: event.traceId,
    };
    // The values `/next` would put in headers: the UTF-8 of the JSON, one byte per character.
    if (event.clientContext) meta['clientContext'] = asHeaderBytes(event.clientContext);
    if (event.cognitoIdentity) meta['cognitoIdentity'] = asHeaderBytes(event.cognitoIdentity);
    const head = frameHead(FrameType.invoke, meta, event.payload.length);
    if (event.payload.length <= 4096) {
      this.#socket.write(Buffer.concat([head, event.payload]));
    } else {
      this.#socket.cork();
      this.#socket.write(head);
      this.#socket.write(event.payload);
      this.#socket.uncork();
    }
    return true;
  }

  cancel(): void {
    this.#socket.destroy();
  }

  #frame(frame: Frame): void {
    const { meta } = frame;
    switch (frame.type) {
      case FrameType.next:
        return this.#host.next(this);
      case FrameType.response:
        return this.#host.answer(text(meta['id']), {
          kind: 'response',
          body: frame.body,
          contentType: optionalText(meta['contentType']) ?? 'application/json',
        });
      case FrameType.error:
        return this.#host.answer(text(meta['id']), {
          kind: 'error',
          body: frame.body,
          errorType: optionalText(meta['errorType']),
        });
      default:
        return this.#broken();
    }
  }

  #broken(): void {
    this.#socket.destroy();
  }
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function optionalText(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function asHeaderBytes(value: string): string {
  return Buffer.from(value, 'utf8').toString('latin1');
}
