/**
 * Function logs on disk: `<data-dir>/logs/<log group>/<log stream>.log`, one JSON line per event
 * (`{"t": epochMs, "m": message}`). Appends are batched per stream and written off the invoke
 * path through append handles kept open per stream, within FLUSH_DELAY_MS of the first line of a
 * batch (so that an invocation's START, END and REPORT, and back-to-back invocations, share one
 * write); `flush()` (called on stop) syncs everything to disk and closes the handles. `lamina
 * logs` reads these files.
 *
 * A batch is written one stream after another, so for a moment one stream's newer lines may be on
 * disk while another's older ones are not: `unwrittenSince()` tells readers the earliest time
 * still on its way, and they hold back events from then on (a reader following the newest events
 * would otherwise move past the older ones for good).
 */
import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { LogLine, LogSink } from '../environment/ports.js';
import { logGroupFolder, logStreamFile } from './log-file-names.js';

/**
 * How long a batch collects lines before it is written. Each write of each stream is a round trip
 * through libuv's thread pool (waking a worker thread, then the event loop): at thousands of
 * invokes per second a 5 ms batch cost about 8 % of the server's CPU, a 25 ms one a fifth of that.
 */
export const FLUSH_DELAY_MS = 25;

/**
 * How many bytes of lines may wait to be written before environments are made to wait: a
 * function that prints faster than the disk writes is slowed down instead of filling memory.
 */
export const MAX_PENDING_BYTES = 4 * 1024 * 1024;

/**
 * Most characters joined into one write: joining and encoding a batch happens on the event loop,
 * so a large batch (a flood of long lines) is written in pieces with turns of the loop between.
 */
const WRITE_SLICE_CHARS = 1024 * 1024;

/** A batch's lines joined into writes of about WRITE_SLICE_CHARS (a longer line goes alone). */
function* slices(lines: readonly string[]): Generator<string> {
  let start = 0;
  let chars = 0;
  for (let i = 0; i < lines.length; i += 1) {
    chars += (lines[i] as string).length;
    if (chars >= WRITE_SLICE_CHARS || i === lines.length - 1) {
      yield lines.slice(start, i + 1).join('');
      start = i + 1;
      chars = 0;
    }
  }
}

export class FileLogStore implements LogSink {
  readonly #root: string;
  readonly #pending = new Map<string, string[]>();
  #pendingBytes = 0;
  #writtenListeners: Array<() => void> = [];
  readonly #handles = new Map<string, FileHandle>();
  /** File paths per group and stream (three appends per invoke would otherwise rebuild them). */
  readonly #paths = new Map<string, Map<string, string>>();
  #writing: Promise<void> = Promise.resolve();
  #scheduled = false;
  /** The earliest timestamp among the pending lines, and among those of the write under way. */
  #pendingSinceMs: number | undefined;
  #writingSinceMs: number | undefined;

  readonly #onError: (error: unknown, file: string) => void;
  readonly #onLetGo: (chars: number) => void;

  /**
   * `onError` hears of lines that could not be written (they are dropped); `onLetGo` of the
   * characters of every slice that no longer waits (written or dropped), which the server's memory
   * may now take back.
   */
  constructor(
    root: string,
    onError: (error: unknown, file: string) => void = () => undefined,
    onLetGo: (chars: number) => void = () => undefined,
  ) {
    this.#root = root;
    this.#onError = onError;
    this.#onLetGo = onLetGo;
  }

  append(group: string, stream: string, lines: readonly LogLine[]): void {
    const file = this.#file(group, stream);
    const batch = this.#pending.get(file) ?? [];
    // The same text as JSON.stringify({ t, m }) (t is an integer), without building the object.
    for (const line of lines) {
      if (this.#pendingSinceMs === undefined || line.timeMs < this.#pendingSinceMs)
        this.#pendingSinceMs = line.timeMs;
      const text = `{"t":${line.timeMs},"m":${JSON.stringify(line.message)}}\n`;
      batch.push(text);
      this.#pendingBytes += text.length;
    }
    this.#pending.set(file, batch);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setTimeout(() => {
        this.#scheduled = false;
        this.#queue(() => this.#write());
      }, FLUSH_DELAY_MS);
    }
  }

  /**
   * The earliest timestamp of a line appended but not yet written (undefined when every line
   * is): every event stamped before it is on disk.
   */
  unwrittenSince(): number | undefined {
    const pending = this.#pendingSinceMs;
    const writing = this.#writingSinceMs;
    if (pending === undefined) return writing;
    return writing === undefined ? pending : Math.min(pending, writing);
  }

  /** Closed while more than MAX_PENDING_BYTES of lines wait to be written. */
  get closed(): boolean {
    return this.#pendingBytes > MAX_PENDING_BYTES;
  }

  whenOpen(listener: () => void): void {
    if (!this.closed) listener();
    else this.#writtenListeners.push(listener);
  }

  end(group: string, stream: string): void {
    const file = this.#file(group, stream);
    const streams = this.#paths.get(group);
    streams?.delete(stream);
    if (streams?.size === 0) this.#paths.delete(group);
    this.#queue(async () => {
      await this.#write();
      const handle = this.#handles.get(file);
      this.#handles.delete(file);
      await handle?.close();
    });
  }

  #file(group: string, stream: string): string {
    let streams = this.#paths.get(group);
    if (streams === undefined) {
      streams = new Map();
      this.#paths.set(group, streams);
    }
    let file = streams.get(stream);
    if (file === undefined) {
      file = join(this.#root, logGroupFolder(group), logStreamFile(stream));
      streams.set(stream, file);
    }
    return file;
  }

  /** Resolves once every appended line is written and synced to disk; closes the handles. */
  async flush(): Promise<void> {
    this.#queue(async () => {
      await this.#write();
      for (const handle of this.#handles.values()) {
        await handle.sync();
        await handle.close();
      }
      this.#handles.clear();
    });
    await this.#writing;
  }

  /** Runs `step` after the ones queued before it; a failing step is reported, never rethrown. */
  #queue(step: () => Promise<void>): void {
    this.#writing = this.#writing.then(step).catch((error: unknown) => this.#onError(error, ''));
  }

  /** Writes every pending batch; a batch that cannot be written is reported and dropped. */
  async #write(): Promise<void> {
    const batches = [...this.#pending.entries()];
    this.#pending.clear();
    this.#writingSinceMs = this.#pendingSinceMs;
    this.#pendingSinceMs = undefined;
    try {
      await this.#writeBatches(batches);
    } finally {
      this.#writingSinceMs = undefined;
    }
  }

  async #writeBatches(batches: ReadonlyArray<readonly [string, readonly string[]]>): Promise<void> {
    for (const [file, lines] of batches) {
      for (const text of slices(lines)) {
        try {
          let handle = this.#handles.get(file);
          if (handle === undefined) {
            mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
            handle = await open(file, 'a', 0o600);
            this.#handles.set(file, handle);
          }
          await handle.write(text);
        } catch (error) {
          this.#onError(error, file);
        } finally {
          // Written or lost (a full or failing disk): either way it no longer waits.
          this.#pendingBytes -= text.length;
          this.#onLetGo(text.length);
          if (!this.closed) for (const listener of this.#writtenListeners.splice(0)) listener();
        }
      }
    }
  }
}
