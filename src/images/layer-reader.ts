/**
 * Reads one layer blob as a sequence of tar entries: gunzip (node:zlib) when the media type says
 * so, then tar-stream, with backpressure all the way (an entry's data flows only as fast as the
 * consumer writes it). Every failure is classified once, by the stream it came from: an error of
 * the blob stream itself is passed on unchanged (the caller's download failed), a broken gzip
 * stream or a broken tar is an `InvalidImage` refusal. Whatever happens, all three streams are
 * destroyed when the reading stops, so no descriptor outlives a failed pull.
 *
 * Decompression work is bounded too: the bytes fed to the tar parser may not run ahead of what
 * the entries seen so far declare (plus a fixed allowance per entry for headers), so a gzip bomb
 * of zeros or of oversized PAX records is refused after a few megabytes, not after terabytes.
 */
import type { Readable } from 'node:stream';
import { createGunzip, type Gunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { ImagePullError } from '../functions/image-store.js';
import { invalidImage } from './invalid-image.js';

/** One tar entry: its header (PAX records and GNU long names applied) and its data. */
export interface LayerEntry {
  readonly header: tar.Header;
  /** The entry's bytes; a stream failure surfaces here already classified. */
  readonly data: AsyncIterable<Uint8Array>;
}

type EntryStream = tar.ExtractEvents['entry'][1];

/** Tar bytes allowed per entry for its headers (ustar, PAX, GNU long names, padding). */
const HEADER_ALLOWANCE_BYTES = 16 * 1024;
/** Tar bytes allowed on top, for trailing zero blocks and an odd large PAX record. */
const SLACK_BYTES = 4 * 1024 * 1024;

const GZIP_TYPES = new Set([
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
]);
const TAR_TYPES = new Set([
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.docker.image.rootfs.diff.tar',
]);

/** Whether `mediaType` is gzip-compressed; refuses any type other than tar and tar+gzip. */
export function isGzipLayer(mediaType: string): boolean {
  if (GZIP_TYPES.has(mediaType)) return true;
  if (TAR_TYPES.has(mediaType)) return false;
  throw invalidImage(`the layer's media type ${JSON.stringify(mediaType)} is not supported`);
}

export class LayerReader {
  readonly #compressed: Readable;
  readonly #gunzip: Gunzip | undefined;
  readonly #extract = tar.extract();
  /** How many tar bytes the entries declared so far, not counting their headers. */
  readonly #declaredBytes: () => number;
  #entries = 0;
  #failure: Error | undefined = undefined;
  #closing = false;

  /**
   * `declaredBytes` reports the data bytes of the entries handed out so far (the unpacker's
   * budget charges), which is what lets the tar bytes grow.
   */
  constructor(compressed: Readable, gzip: boolean, declaredBytes: () => number) {
    this.#compressed = compressed;
    this.#declaredBytes = declaredBytes;
    compressed.on('error', (error) => this.#fail(error));
    if (gzip) {
      const gunzip = createGunzip();
      gunzip.on('error', (error) =>
        this.#fail(invalidImage(`the layer is not a valid gzip stream (${error.message})`)),
      );
      compressed.pipe(gunzip);
      this.#gunzip = gunzip;
    }
    this.#extract.on('error', (error) => this.#fail(asTarError(error)));
  }

  /**
   * The first stream failure (already classified), if any: when an entry's data stops because a
   * stream broke, this is the reason to report rather than the entry's own error.
   */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** The entries in order; each one's data must be read to the end (or not at all for folders). */
  async *entries(): AsyncGenerator<LayerEntry, void, undefined> {
    const feeding = this.#feed(this.#gunzip ?? this.#compressed);
    try {
      for await (const entry of this.#extract) {
        this.#entries += 1;
        yield { header: entry.header, data: this.#data(entry) };
      }
    } catch (error) {
      throw this.#failure ?? asTarError(error);
    } finally {
      this.#closing = true;
      this.#destroyAll();
      await feeding;
    }
    if (this.#failure !== undefined) throw this.#failure;
  }

  async *#data(entry: EntryStream): AsyncGenerator<Uint8Array, void, undefined> {
    try {
      for await (const chunk of entry) {
        if (!(chunk instanceof Uint8Array)) throw new TypeError('tar entry data is not bytes');
        yield chunk;
      }
    } catch (error) {
      // The entry stops because the tar parser did: report why the parser stopped.
      throw this.#failure ?? asTarError(error);
    }
  }

  async #feed(input: Readable): Promise<void> {
    let fed = 0;
    try {
      for await (const chunk of input) {
        if (!(chunk instanceof Uint8Array)) throw new TypeError('the layer stream yields no bytes');
        const allowed =
          this.#declaredBytes() + this.#entries * HEADER_ALLOWANCE_BYTES + SLACK_BYTES;
        if (fed > allowed) {
          this.#fail(invalidImage('the layer holds more data than its tar headers declare'));
          return;
        }
        fed += chunk.byteLength;
        if (!this.#extract.write(chunk)) await drainedOrClosed(this.#extract);
        if (this.#extract.destroying || this.#extract.destroyed) return;
      }
      this.#extract.end(null);
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #fail(error: Error): void {
    if (this.#closing || this.#failure !== undefined) return;
    this.#failure = error;
    this.#destroyAll();
  }

  #destroyAll(): void {
    this.#compressed.destroy();
    this.#gunzip?.destroy();
    this.#extract.destroy(this.#failure ?? null);
  }
}

function asTarError(error: unknown): Error {
  if (error instanceof ImagePullError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (message === 'Unexpected end of data') {
    return invalidImage("the layer's tar archive ends in the middle of an entry");
  }
  return invalidImage(`the layer is not a tar archive (${message})`);
}

function drainedOrClosed(extract: tar.Extract): Promise<void> {
  if (extract.destroying || extract.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      extract.off('drain', done);
      extract.off('close', done);
      resolve();
    };
    extract.on('drain', done);
    extract.on('close', done);
  });
}
