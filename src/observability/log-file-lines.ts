/**
 * Reading the lines of one log stream file (`{"t": epochMs, "m": message}` per line, as
 * FileLogStore writes them) without loading it: forward or backward from a byte offset in chunks,
 * and a binary search for the first line at or after a time (streams are written in time order).
 * The file is opened for each chunk and closed again, so a merge over many streams holds no
 * descriptors, and a stream deleted under a reader simply ends. A line longer than MAX_LINE_BYTES
 * (none is written so long) is passed over as unreadable rather than held in memory, and so is a
 * line that does not parse (the half line of a crash).
 */
import { open } from 'node:fs/promises';

/** Longest line kept in memory, in bytes (a message is cut at 256 KB before it is escaped). */
export const MAX_LINE_BYTES = 4 * 1024 * 1024;

/** One line of a stream file: its bytes [offset, end), and its event when it parses. */
export interface StreamLine {
  readonly offset: number;
  readonly end: number;
  readonly event: { readonly timestampMs: number; readonly message: string } | undefined;
}

/** Reads up to `length` bytes at `position` (fewer at the end; none if the file is gone). */
export async function readAt(path: string, position: number, length: number): Promise<Buffer> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (isMissing(error)) return Buffer.alloc(0);
    throw error;
  }
  try {
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The start of a stored line up to its message's first character. */
const LINE_HEAD = /^\{"t":(-?\d{1,16}),"m":"/;

/**
 * The event of a stored line, or undefined when it is not one. Most messages need no unescaping
 * (no quote, backslash or control character): those are cut out of the line as they are, which
 * costs a third of parsing it, since a filter reads every line of its range.
 */
export function parseStoredLine(text: string): StreamLine['event'] {
  const head = LINE_HEAD.exec(text);
  if (head !== null && text.endsWith('"}') && !text.includes('\\', head[0].length))
    return { timestampMs: Number(head[1]), message: text.slice(head[0].length, -2) };
  try {
    const parsed = JSON.parse(text) as { t?: unknown; m?: unknown } | null;
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const { t, m } = parsed;
    if (typeof t !== 'number' || !Number.isFinite(t) || typeof m !== 'string') return undefined;
    return { timestampMs: t, message: m };
  } catch {
    return undefined;
  }
}

/** The timestamp at the start of a line's bytes (`{"t":123,`), without parsing the rest. */
function leadingTime(bytes: Buffer): number | undefined {
  const match = /^\{"t":(-?\d{1,16})[,}]/.exec(bytes.toString('latin1', 0, 32));
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** Lines from a byte offset to the end of the file, in chunks. */
export class ForwardLines {
  readonly #path: string;
  readonly #chunkBytes: number;
  /** File position of the first unconsumed byte. */
  #position: number;
  #buffer: Buffer = Buffer.alloc(0);
  #ended = false;
  /** Bytes read from disk so far. */
  scannedBytes = 0;

  constructor(path: string, from: number, chunkBytes = 64 * 1024) {
    this.#path = path;
    this.#position = from;
    this.#chunkBytes = chunkBytes;
  }

  /** Where the next line starts. */
  get position(): number {
    return this.#position;
  }

  /** The next complete line, or undefined at the end (a line still being written is not one). */
  async next(): Promise<StreamLine | undefined> {
    let discarding = false;
    let discardFrom = this.#position;
    for (;;) {
      const newline = this.#buffer.indexOf(0x0a);
      if (newline >= 0) {
        const offset = discarding ? discardFrom : this.#position;
        const text = discarding ? undefined : this.#buffer.toString('utf8', 0, newline);
        this.#position += newline + 1;
        this.#buffer = this.#buffer.subarray(newline + 1);
        return {
          offset,
          end: this.#position,
          event: text === undefined ? undefined : parseStoredLine(text),
        };
      }
      if (this.#ended) return undefined;
      if (this.#buffer.length >= MAX_LINE_BYTES) {
        // Too long to keep: skip to its end, and report it as unreadable.
        if (!discarding) discardFrom = this.#position;
        discarding = true;
        this.#position += this.#buffer.length;
        this.#buffer = Buffer.alloc(0);
      }
      const want = growingRead(this.#chunkBytes, this.#buffer.length);
      const chunk = await readAt(this.#path, this.#position + this.#buffer.length, want);
      this.scannedBytes += chunk.length;
      if (chunk.length === 0) {
        this.#ended = true;
        if (discarding) return undefined;
      } else
        this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    }
  }
}

/** Lines before a byte offset, newest first, in chunks. */
export class BackwardLines {
  readonly #path: string;
  readonly #chunkBytes: number;
  /** File position of the first byte of the buffer. */
  #bufferStart: number;
  /** Unconsumed bytes [bufferStart, end). */
  #buffer: Buffer = Buffer.alloc(0);
  #end: number;
  #trimmed = false;
  /** Whether the end of the current line was let go (a line too long to hold). */
  #dropped = false;
  scannedBytes = 0;

  constructor(path: string, from: number, chunkBytes = 64 * 1024) {
    this.#path = path;
    this.#end = from;
    this.#bufferStart = from;
    this.#chunkBytes = chunkBytes;
  }

  /** Where the lines not yet read end (the start of the last line returned). */
  get position(): number {
    return this.#end;
  }

  /** The end of the last complete line before the starting offset (a line being written is not). */
  async boundary(): Promise<number> {
    if (!this.#trimmed) await this.#trimPartialTail();
    return this.#end;
  }

  /** The line before the position, or undefined at the start of the file. */
  async previous(): Promise<StreamLine | undefined> {
    if (!this.#trimmed) await this.#trimPartialTail();
    for (;;) {
      if (this.#end <= 0) return undefined;
      // The line ends at #end; while its newline is still held, the search starts before it.
      const last = this.#dropped ? this.#buffer.length - 1 : this.#buffer.length - 2;
      const newline = last >= 0 ? this.#buffer.lastIndexOf(0x0a, last) : -1;
      if (newline >= 0 || this.#bufferStart === 0) {
        const start = newline + 1;
        const offset = this.#bufferStart + start;
        const readable = !this.#dropped && this.#end - offset <= MAX_LINE_BYTES;
        const text = readable
          ? this.#buffer.toString('utf8', start, this.#buffer.length - 1)
          : undefined;
        const line: StreamLine = {
          offset,
          end: this.#end,
          event: text === undefined ? undefined : parseStoredLine(text),
        };
        this.#buffer = this.#buffer.subarray(0, start);
        this.#dropped = false;
        this.#end = offset;
        return line;
      }
      if (this.#buffer.length >= MAX_LINE_BYTES) {
        // Too long to keep: only where it starts is still looked for; its text is not read.
        this.#buffer = Buffer.alloc(0);
        this.#dropped = true;
      }
      await this.#fill();
    }
  }

  /** Reads a chunk (or as much again as is held) before the buffer. */
  async #fill(): Promise<void> {
    const want = Math.min(this.#bufferStart, growingRead(this.#chunkBytes, this.#buffer.length));
    const start = this.#bufferStart - want;
    const chunk = await readAt(this.#path, start, want);
    this.scannedBytes += chunk.length;
    if (chunk.length < want) {
      // The file shrank under the reader (deleted or emptied): nothing before this remains.
      this.#end = 0;
      this.#buffer = Buffer.alloc(0);
      this.#bufferStart = 0;
      return;
    }
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([chunk, this.#buffer]);
    this.#bufferStart = start;
  }

  /** Starts at a line boundary: a line still being written at the end is left out. */
  async #trimPartialTail(): Promise<void> {
    this.#trimmed = true;
    while (this.#end > 0) {
      if (this.#buffer.length === 0) await this.#fill();
      if (this.#end <= 0) return;
      const last = this.#buffer.lastIndexOf(0x0a);
      if (last >= 0) {
        this.#buffer = this.#buffer.subarray(0, last + 1);
        this.#end = this.#bufferStart + last + 1;
        return;
      }
      if (this.#bufferStart === 0) {
        this.#end = 0;
        this.#buffer = Buffer.alloc(0);
        return;
      }
      // No newline in this chunk: drop it and look further back.
      this.#end = this.#bufferStart;
      this.#buffer = Buffer.alloc(0);
    }
  }
}

/**
 * How much to read next while `held` bytes of one line are in memory: as much again (a long line
 * is copied a few times only), but never so much that more than about MAX_LINE_BYTES is held.
 */
function growingRead(chunkBytes: number, held: number): number {
  return Math.max(chunkBytes, Math.min(held, MAX_LINE_BYTES - held));
}

/** How small a window the binary search narrows to before reading lines one by one. */
const SEARCH_WINDOW_BYTES = 64 * 1024;

/**
 * The offset of the first line whose time is at or after `targetMs` (or `size`, the end): a
 * binary search on line starts, valid because a stream is written in time order.
 */
export async function offsetAtTime(
  path: string,
  size: number,
  targetMs: number,
  onRead: (bytes: number) => void = () => undefined,
): Promise<number> {
  let low = 0;
  let high = size;
  while (high - low > SEARCH_WINDOW_BYTES) {
    const middle = Math.floor((low + high) / 2);
    const lineStart = await nextLineStart(path, middle, high, onRead);
    if (lineStart === undefined || lineStart >= high) {
      high = middle;
      continue;
    }
    const head = await readAt(path, lineStart, 32);
    onRead(head.length);
    const time = leadingTime(head);
    if (time !== undefined && time >= targetMs) high = lineStart;
    else low = lineStart;
  }
  const lines = new ForwardLines(path, low, SEARCH_WINDOW_BYTES);
  try {
    for (;;) {
      const start = lines.position;
      const line = await lines.next();
      if (line === undefined) return start;
      if (line.offset >= high) return line.offset;
      if (line.event !== undefined && line.event.timestampMs >= targetMs) return line.offset;
    }
  } finally {
    onRead(lines.scannedBytes);
  }
}

/** The first line start after `from` (after the newline at or after it), before `limit`. */
async function nextLineStart(
  path: string,
  from: number,
  limit: number,
  onRead: (bytes: number) => void,
): Promise<number | undefined> {
  let position = from;
  while (position < limit) {
    const chunk = await readAt(path, position, Math.min(8192, limit - position));
    onRead(chunk.length);
    if (chunk.length === 0) return undefined;
    const newline = chunk.indexOf(0x0a);
    if (newline >= 0) return position + newline + 1;
    position += chunk.length;
  }
  return undefined;
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
