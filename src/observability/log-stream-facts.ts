/**
 * What is known of a stream file without reading it through: its size, and the times of its first
 * and last events (one small read at each end). Kept per file while its size and modification time
 * stay the same (an appended file has only its last time read again), so listing streams and
 * skipping those outside a time range costs a `stat` per stream. At most MAX_FACTS files are
 * remembered; the bytes read to learn them are reported like any other read's.
 */
import { stat } from 'node:fs/promises';
import { BackwardLines, ForwardLines } from './log-file-lines.js';

/** How many files' facts are kept. */
const MAX_FACTS = 20_000;

/** How far into a file its first (or last) event is looked for, in bytes. */
const EDGE_SCAN_BYTES = 8 * 1024 * 1024;

export interface StreamFacts {
  readonly size: number;
  readonly mtimeMs: number;
  /** The first and last readable events' times (undefined when there is none near the edge). */
  readonly firstMs: number | undefined;
  readonly lastMs: number | undefined;
}

export class StreamFactsCache {
  readonly #facts = new Map<string, StreamFacts>();
  readonly #onScanned: (bytes: number) => void;

  constructor(onScanned: (bytes: number) => void = () => undefined) {
    this.#onScanned = onScanned;
  }

  /** The facts of the file at `path`, or undefined when it is gone. */
  async of(path: string): Promise<StreamFacts | undefined> {
    let info;
    try {
      info = await stat(path);
    } catch {
      this.#facts.delete(path);
      return undefined;
    }
    if (!info.isFile()) return undefined;
    const known = this.#facts.get(path);
    if (known !== undefined && known.size === info.size && known.mtimeMs === info.mtimeMs)
      return known;
    const grew = known !== undefined && info.size > known.size && known.firstMs !== undefined;
    const facts: StreamFacts = {
      size: info.size,
      mtimeMs: info.mtimeMs,
      firstMs: grew ? known.firstMs : await firstTime(path, this.#onScanned),
      lastMs: info.size === 0 ? undefined : await lastTime(path, info.size, this.#onScanned),
    };
    this.#facts.delete(path);
    if (this.#facts.size >= MAX_FACTS) {
      const oldest = this.#facts.keys().next();
      if (oldest.done !== true) this.#facts.delete(oldest.value);
    }
    this.#facts.set(path, facts);
    return facts;
  }

  /** Forgets a file (deleted or emptied). */
  forget(path: string): void {
    this.#facts.delete(path);
  }
}

async function firstTime(
  path: string,
  onScanned: (bytes: number) => void,
): Promise<number | undefined> {
  const lines = new ForwardLines(path, 0, 16 * 1024);
  try {
    while (lines.scannedBytes < EDGE_SCAN_BYTES) {
      const line = await lines.next();
      if (line === undefined) return undefined;
      if (line.event !== undefined) return line.event.timestampMs;
    }
    return undefined;
  } finally {
    onScanned(lines.scannedBytes);
  }
}

async function lastTime(
  path: string,
  size: number,
  onScanned: (bytes: number) => void,
): Promise<number | undefined> {
  const lines = new BackwardLines(path, size, 16 * 1024);
  try {
    while (lines.scannedBytes < EDGE_SCAN_BYTES) {
      const line = await lines.previous();
      if (line === undefined) return undefined;
      if (line.event !== undefined) return line.event.timestampMs;
    }
    return undefined;
  } finally {
    onScanned(lines.scannedBytes);
  }
}
