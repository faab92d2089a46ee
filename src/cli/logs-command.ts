/**
 * `lamina logs <function> [--since 10m] [--follow]`: prints a function's log events from the data
 * directory, oldest first, as `<time> <stream> <message>`; `--follow` keeps printing new ones.
 * The events of every log group given (a function's default group and the custom `LogGroup` of
 * its LoggingConfig) are merged in time order.
 */
import { existsSync, openSync, readSync, readdirSync, statSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { logGroupFolder, streamOfFile } from '../observability/log-file-names.js';

/** Parses `10m`, `2h`, `30s`, `1d` (or plain seconds) into milliseconds. */
export function parseSince(text: string): number {
  const match = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (match === null)
    throw new Error(`--since takes a duration such as 30s, 10m, 2h or 1d, not '${text}'`);
  const unit =
    { '': 1000, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? ''] ?? 1000;
  return Number(match[1]) * unit;
}

export interface LogsOptions {
  readonly dataDir: string;
  /** The log groups to read (e.g. `/aws/lambda/<function>` and a custom `LogGroup`). */
  readonly logGroups: readonly string[];
  readonly sinceMs: number;
  readonly follow: boolean;
  readonly write: (text: string) => void;
  /** Stops following (tests and signals). */
  readonly signal?: AbortSignal | undefined;
}

/** Prints the events and, with `follow`, keeps polling the group's files for appended lines. */
export async function printLogs(options: LogsOptions): Promise<void> {
  const dirs = options.logGroups.map((group) =>
    join(options.dataDir, 'logs', logGroupFolder(group)),
  );
  const offsets = new Map<string, number>();
  const since = Date.now() - options.sinceMs;
  const readNew = () => {
    const events: Array<{ t: number; m: string; stream: string }> = [];
    const files = dirs.flatMap((dir) =>
      existsSync(dir) ? readdirSync(dir).map((name) => ({ name, path: join(dir, name) })) : [],
    );
    for (const { name, path } of files) {
      const size = statSync(path).size;
      const from = offsets.get(path) ?? 0;
      if (size <= from) continue;
      const buffer = Buffer.alloc(size - from);
      const fd = openSync(path, 'r');
      try {
        readSync(fd, buffer, 0, buffer.length, from);
      } finally {
        closeSync(fd);
      }
      const text = buffer.toString('utf8');
      const complete = text.lastIndexOf('\n') + 1;
      offsets.set(path, from + Buffer.byteLength(text.slice(0, complete)));
      const stream = streamOfFile(name);
      if (stream === undefined) continue;
      for (const line of text.slice(0, complete).split('\n')) {
        if (line === '') continue;
        try {
          const event = JSON.parse(line) as { t: number; m: string };
          if (event.t >= since) events.push({ ...event, stream });
        } catch {
          // a partial line from a crash
        }
      }
    }
    events.sort((a, b) => a.t - b.t);
    for (const e of events) options.write(`${new Date(e.t).toISOString()} ${e.stream} ${e.m}\n`);
  };
  readNew();
  if (!options.follow) return;
  await new Promise<void>((resolve) => {
    const timer = setInterval(readNew, 500);
    const stop = () => {
      clearInterval(timer);
      resolve();
    };
    if (options.signal?.aborted === true) stop();
    options.signal?.addEventListener('abort', stop, { once: true });
    process.once('SIGINT', stop);
  });
}
