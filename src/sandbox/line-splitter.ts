/**
 * Splits a process's output into log lines in linear time, never holding more than one line's
 * worth of bytes: a line ends at `\n`, or is cut at `MAX_LINE_BYTES` (Lambda cuts log events at
 * 256 KB) when it runs longer. Runtimes write one record per line and replace the newlines inside
 * a record with `\r`, which stay part of the record.
 *
 * Bytes are split, then decoded: a cut never falls inside a UTF-8 character.
 */
import type { Readable } from 'node:stream';
import type { OutputGate } from '../environment/sandbox-driver.js';
import type { OutputRate } from './output-rate.js';

/** Longest log line, in bytes (Lambda's 256 KB log event size). */
export const MAX_LINE_BYTES = 256 * 1024;

const NEWLINE = 0x0a;

export class LineSplitter {
  readonly #onLine: (line: string) => void;
  readonly #maxBytes: number;
  /** The current line's pieces so far, and their total length (always below `#maxBytes`). */
  #pieces: Buffer[] = [];
  #bytes = 0;

  constructor(onLine: (line: string) => void, maxBytes = MAX_LINE_BYTES) {
    this.#onLine = onLine;
    this.#maxBytes = maxBytes;
  }

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start);
      const end = newline === -1 ? chunk.length : newline;
      this.#add(chunk.subarray(start, end));
      if (newline === -1) return;
      this.#emit();
      start = newline + 1;
    }
  }

  /** The output ended: a last line without a newline is still a line. */
  end(): void {
    if (this.#bytes > 0) this.#emit();
  }

  /** Adds bytes of the current line, cutting it each time it reaches the limit. */
  #add(bytes: Buffer): void {
    let rest = bytes;
    while (this.#bytes + rest.length > this.#maxBytes) {
      // A cut that would split a character leaves it for the next line (at worst, 3 bytes short).
      const room = cutPoint(rest, this.#maxBytes - this.#bytes);
      this.#pieces.push(rest.subarray(0, room));
      this.#bytes += room;
      this.#emit();
      rest = rest.subarray(room);
    }
    if (rest.length > 0) {
      this.#pieces.push(rest);
      this.#bytes += rest.length;
    }
  }

  #emit(): void {
    const pieces = this.#pieces;
    const line =
      pieces.length === 1
        ? (pieces[0] as Buffer).toString('utf8')
        : Buffer.concat(pieces, this.#bytes).toString('utf8');
    this.#pieces = [];
    this.#bytes = 0;
    this.#onLine(line);
  }
}

/**
 * How many of `bytes`' first bytes fit in `room` without splitting a UTF-8 character: the cut
 * moves back over continuation bytes (10xxxxxx) to the start of the character it would split.
 */
export function cutPoint(bytes: Buffer, room: number): number {
  if (room >= bytes.length) return bytes.length;
  let cut = room;
  // At most three continuation bytes follow a lead byte.
  for (let back = 0; back < 3 && cut > 0 && ((bytes[cut] as number) & 0xc0) === 0x80; back += 1)
    cut -= 1;
  return cut;
}

/**
 * Feeds a stream's bytes through a LineSplitter. The stream is paused while `gate` is closed (the
 * lines' consumer falls behind) and while `rate` says the environment has printed its share, so
 * the process writing it blocks instead of its output piling up or taking the server's time.
 */
export function splitLines(
  stream: Readable,
  onLine: (line: string) => void,
  gate?: OutputGate,
  rate?: OutputRate,
): LineSplitter {
  const splitter = new LineSplitter(onLine);
  let waiting = false;
  const resume = () => {
    waiting = false;
    stream.resume();
  };
  stream.on('data', (chunk: Buffer) => {
    splitter.push(chunk);
    if (waiting) return;
    const delayMs = rate?.take(chunk.length) ?? 0;
    const closed = gate !== undefined && gate.closed;
    if (delayMs === 0 && !closed) return;
    waiting = true;
    stream.pause();
    const afterGate = () => (closed && gate !== undefined ? gate.whenOpen(resume) : resume());
    if (delayMs > 0) setTimeout(afterGate, delayMs).unref();
    else afterGate();
  });
  stream.on('end', () => splitter.end());
  stream.on('error', () => splitter.end());
  return splitter;
}
