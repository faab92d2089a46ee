/**
 * Function logs on disk: `<data-dir>/logs/<log group>/<log stream>.log`, one JSON line per event
 * (`{"t": epochMs, "m": message}`). Appends are batched per stream and written off the invoke path;
 * `flush()` (called on stop) waits for everything to be on disk.
 */
import { createReadStream, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { appendFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { LogLine, LogSink } from '../invoke/ports.js';

/** A stored log event with the stream it belongs to. */
export interface StoredLogEvent extends LogLine {
  readonly stream: string;
}

export class FileLogStore implements LogSink {
  readonly #root: string;
  readonly #pending = new Map<string, string[]>();
  #writing: Promise<void> = Promise.resolve();
  readonly #madeDirs = new Set<string>();
  #scheduled = false;

  constructor(root: string) {
    this.#root = root;
  }

  append(group: string, stream: string, lines: readonly LogLine[]): void {
    const file = this.#file(group, stream);
    const batch = this.#pending.get(file) ?? [];
    for (const line of lines)
      batch.push(`${JSON.stringify({ t: line.timeMs, m: line.message })}\n`);
    this.#pending.set(file, batch);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#writing = this.#writing.then(() => this.#write());
      });
    }
  }

  /** Resolves once every appended line is written and synced to disk. */
  async flush(): Promise<void> {
    this.#writing = this.#writing.then(() => this.#write(true));
    await this.#writing;
  }

  /** Events of a log group at or after `sinceMs`, in time order, with their streams. */
  async read(group: string, sinceMs: number): Promise<StoredLogEvent[]> {
    const dir = join(this.#root, encodeURIComponent(group));
    if (!existsSync(dir)) return [];
    const events: StoredLogEvent[] = [];
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).mtimeMs < sinceMs) continue;
      const stream = decodeURIComponent(name.replace(/\.log$/, ''));
      const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
      for await (const line of lines) {
        try {
          const event = JSON.parse(line) as { t: number; m: string };
          if (event.t >= sinceMs) events.push({ timeMs: event.t, message: event.m, stream });
        } catch {
          // a line cut short by a crash; skip it
        }
      }
    }
    return events.sort((a, b) => a.timeMs - b.timeMs);
  }

  #file(group: string, stream: string): string {
    return join(this.#root, encodeURIComponent(group), `${encodeURIComponent(stream)}.log`);
  }

  async #write(sync = false): Promise<void> {
    const batches = [...this.#pending.entries()];
    this.#pending.clear();
    for (const [file, lines] of batches) {
      const dir = join(file, '..');
      if (!this.#madeDirs.has(dir)) {
        mkdirSync(dir, { recursive: true });
        this.#madeDirs.add(dir);
      }
      if (sync) {
        const handle = await open(file, 'a');
        try {
          await handle.appendFile(lines.join(''));
          await handle.sync();
        } finally {
          await handle.close();
        }
      } else {
        await appendFile(file, lines.join(''));
      }
    }
  }
}
