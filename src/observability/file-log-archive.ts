/**
 * The LogArchive over the files FileLogStore writes: `<logs>/<group folder>/<stream file>`, one
 * `{"t","m"}` line per event, names encoded by log-file-names. A group's retention (and when it
 * was first given one) is kept beside its streams in `group.json` (a name no stream file can
 * have, since those end in `.log`), so it lasts across restarts and goes with the group.
 *
 * A group exists while its folder holds a retention record or a stream with events. Deleting a
 * group, or a stream whose events have expired, empties the stream's file rather than removing it
 * while it may still have a writer: an environment keeps its stream open and appends to it, and
 * an appended line must land in a file that is seen (as on AWS, a function writing again brings
 * its group back). A file not written for `writerQuietMs` (wall clock, as file times are) has no
 * writer left and is removed; later sweeps remove the emptied ones once they are quiet.
 *
 * A group may have had tens of thousands of streams (one per environment): reads of events skip
 * the streams not written since their time range began by the files' modification times, before
 * any is opened, and listing streams by name opens only the page's. Changes to a group's record
 * or streams (deletion, retention) run one at a time per group.
 */
import {
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  truncate,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import type {
  EventFilterRequest,
  EventFilterResult,
  GroupPage,
  GroupQuery,
  LogArchive,
  LogGroupInfo,
  StoredLogGroup,
  StoredLogStream,
  StreamCursor,
  StreamPage,
  StreamQuery,
  StreamReadRequest,
  StreamReadResult,
  SweepResult,
} from '../monitoring/log-archive.js';
import { retentionStartMs } from '../monitoring/log-retention.js';
import { mergeEvents, type MergeSource } from './log-event-merge.js';
import { logGroupFolder, logStreamFile, streamOfFile } from './log-file-names.js';
import { StreamFactsCache } from './log-stream-facts.js';
import { readStreamBackward, readStreamForward } from './log-stream-reads.js';

/**
 * How much later than its file's modification time an event's timestamp may be: the file times
 * come from the kernel's coarse clock, which may lag the clock events are stamped by a little.
 */
const MTIME_SLACK_MS = 60_000;

/** The record of a group's retention, beside its streams. */
const GROUP_RECORD = 'group.json';

interface GroupRecord {
  readonly retentionInDays?: number;
  readonly creationTimeMs?: number;
}

export interface FileLogArchiveOptions {
  /** The logs folder (`<data-dir>/logs`). */
  readonly root: string;
  /**
   * How long a stream file must have gone unwritten (wall clock) before it may be removed rather
   * than emptied: longer than an environment lives (default a day).
   */
  readonly writerQuietMs?: number;
  /**
   * Hears of the bytes of stream files each read went through (their lines are garbage once
   * answered), for the server's memory to be given back after a burst of reads.
   */
  readonly onScanned?: (bytes: number) => void;
  /**
   * The clock events are stamped by (default: the system's). File times are wall-clock; its
   * distance from this clock tells how late an event in a file may be.
   */
  readonly clock?: Clock;
  /**
   * The earliest timestamp of a line appended but not yet on disk (undefined when all are
   * written): reads hold back events from that time on (FileLogStore.unwrittenSince).
   */
  readonly unwrittenSince?: () => number | undefined;
}

export class FileLogArchive implements LogArchive {
  readonly #root: string;
  readonly #quietMs: number;
  readonly #onScanned: (bytes: number) => void;
  readonly #facts: StreamFactsCache;
  readonly #clock: Clock | undefined;
  readonly #unwrittenSince: () => number | undefined;
  /** The last change queued per group (deletion, retention), which the next one waits for. */
  readonly #changes = new Map<string, Promise<unknown>>();

  constructor(options: FileLogArchiveOptions) {
    this.#root = options.root;
    this.#quietMs = options.writerQuietMs ?? 86_400_000;
    this.#onScanned = options.onScanned ?? (() => undefined);
    this.#facts = new StreamFactsCache(this.#onScanned);
    this.#clock = options.clock;
    this.#unwrittenSince = options.unwrittenSince ?? (() => undefined);
  }

  async listGroups(query: GroupQuery): Promise<GroupPage> {
    const names = (await this.#groupNames()).filter(
      (name) =>
        (query.prefix === undefined || name.startsWith(query.prefix)) &&
        (query.contains === undefined || name.includes(query.contains)) &&
        (query.after === undefined || name > query.after),
    );
    const groups: StoredLogGroup[] = [];
    for (const name of names) {
      const group = await this.group(name);
      if (group === undefined) continue;
      if (groups.length === query.limit) return { groups, more: true };
      const folder = this.#folder(name) as string;
      let storedBytes = 0;
      for (const file of await this.#streamFiles(folder)) storedBytes += file.size;
      groups.push({ ...group, storedBytes });
    }
    return { groups, more: false };
  }

  async group(name: string): Promise<LogGroupInfo | undefined> {
    const folder = this.#folder(name);
    if (folder === undefined) return undefined;
    let info;
    try {
      info = await stat(folder);
    } catch {
      return undefined;
    }
    if (!info.isDirectory()) return undefined;
    const record = await this.#record(folder);
    if (record === undefined && !(await this.#hasEvents(folder))) return undefined;
    return {
      name,
      creationTimeMs: record?.creationTimeMs ?? Math.round(info.birthtimeMs || info.mtimeMs),
      retentionInDays: record?.retentionInDays,
    };
  }

  async listStreams(group: string, query: StreamQuery): Promise<StreamPage | undefined> {
    const folder = this.#folder(group);
    if (folder === undefined || (await this.group(group)) === undefined) return undefined;
    if (query.orderBy === 'LogStreamName') return this.#streamsByName(folder, query);
    const streams: StoredLogStream[] = [];
    for (const file of await this.#streamFiles(folder)) {
      if (query.prefix !== undefined && !file.stream.startsWith(query.prefix)) continue;
      const stream = await this.#stream(file.stream, file.path);
      if (stream !== undefined) streams.push(stream);
    }
    const byTime = query.orderBy === 'LastEventTime';
    const sign = query.descending ? -1 : 1;
    const order = (a: StreamCursor, b: StreamCursor): number => {
      const primary = byTime ? (a.lastEventMs ?? 0) - (b.lastEventMs ?? 0) : 0;
      if (primary !== 0) return sign * primary;
      return a.name === b.name ? 0 : sign * (a.name < b.name ? -1 : 1);
    };
    const cursorOf = (s: StoredLogStream): StreamCursor => ({
      name: s.name,
      lastEventMs: s.lastEventMs,
    });
    streams.sort((a, b) => order(cursorOf(a), cursorOf(b)));
    const after = query.after;
    const start = after === undefined ? 0 : streams.findIndex((s) => order(cursorOf(s), after) > 0);
    const from = start < 0 ? streams.length : start;
    const page = streams.slice(from, from + query.limit);
    return { streams: page, more: from + query.limit < streams.length };
  }

  /** A page of streams in name order: only the page's files (and one more) are looked into. */
  async #streamsByName(folder: string, query: StreamQuery): Promise<StreamPage> {
    const files: Array<{ stream: string; name: string }> = [];
    for (const name of await this.#fileNames(folder)) {
      const stream = streamOfFile(name);
      if (stream === undefined) continue;
      if (query.prefix !== undefined && !stream.startsWith(query.prefix)) continue;
      const after = query.after?.name;
      if (after !== undefined && (query.descending ? stream >= after : stream <= after)) continue;
      files.push({ stream, name });
    }
    const sign = query.descending ? -1 : 1;
    files.sort((a, b) => (a.stream === b.stream ? 0 : sign * (a.stream < b.stream ? -1 : 1)));
    const streams: StoredLogStream[] = [];
    for (const file of files) {
      const stream = await this.#stream(file.stream, join(folder, file.name));
      if (stream === undefined) continue;
      if (streams.length === query.limit) return { streams, more: true };
      streams.push(stream);
    }
    return { streams, more: false };
  }

  /** A stream as listed; undefined when its file is gone or empty. */
  async #stream(name: string, path: string): Promise<StoredLogStream | undefined> {
    const facts = await this.#facts.of(path);
    if (facts === undefined || facts.size === 0) return undefined;
    return {
      name,
      creationTimeMs: facts.firstMs ?? Math.round(facts.mtimeMs),
      firstEventMs: facts.firstMs,
      lastEventMs: facts.lastMs,
    };
  }

  async readStream(
    group: string,
    stream: string,
    request: StreamReadRequest,
  ): Promise<StreamReadResult | undefined> {
    const path = this.#streamPath(group, stream);
    const facts = path === undefined ? undefined : await this.#facts.of(path);
    if (path === undefined || facts === undefined || facts.size === 0) return undefined;
    const bounded = { ...request, endMs: this.#writtenEndMs(request.endMs) };
    return request.direction === 'forward'
      ? readStreamForward(path, stream, facts.size, bounded, this.#onScanned)
      : readStreamBackward(path, stream, facts.size, bounded, this.#onScanned);
  }

  async filterEvents(
    group: string,
    request: EventFilterRequest,
  ): Promise<EventFilterResult | undefined> {
    const folder = this.#folder(group);
    if (folder === undefined || (await this.group(group)) === undefined) return undefined;
    const wanted = request.streamNames === undefined ? undefined : new Set(request.streamNames);
    const lowerMs = Math.max(request.startMs, request.after?.timestampMs ?? 0);
    const endMs = this.#writtenEndMs(request.endMs);
    // An event is stamped before its line is written: a file last written (by the wall clock,
    // moved to the events' clock) before the range began holds no event in it.
    const offsetMs = this.#clock === undefined ? 0 : this.#clock.now() - Date.now();
    const sources: MergeSource[] = [];
    for (const file of await this.#streamFiles(folder)) {
      if (wanted !== undefined && !wanted.has(file.stream)) continue;
      if (request.streamPrefix !== undefined && !file.stream.startsWith(request.streamPrefix))
        continue;
      if (file.size === 0 || file.mtimeMs + offsetMs < lowerMs - MTIME_SLACK_MS) continue;
      const facts = await this.#facts.of(file.path);
      if (facts === undefined || facts.size === 0) continue;
      // Streams whose events all lie outside the time range are not opened.
      if (facts.lastMs !== undefined && facts.lastMs < lowerMs) continue;
      if (facts.firstMs !== undefined && facts.firstMs >= endMs) continue;
      sources.push({
        stream: file.stream,
        path: file.path,
        size: facts.size,
        firstMs: facts.firstMs,
      });
    }
    return mergeEvents(sources, { ...request, endMs }, this.#onScanned);
  }

  /** An end time moved back before any line that is not written yet. */
  #writtenEndMs(endMs: number): number {
    const unwritten = this.#unwrittenSince();
    return unwritten === undefined ? endMs : Math.min(endMs, unwritten);
  }

  deleteGroup(name: string): Promise<boolean> {
    return this.#change(name, () => this.#deleteGroup(name));
  }

  setRetention(name: string, days: number | undefined): Promise<boolean> {
    return this.#change(name, () => this.#setRetention(name, days));
  }

  /**
   * Runs a change of a group after the ones queued before it: a retention being set while the
   * group is deleted would otherwise write its record back after the deletion.
   */
  #change<T>(name: string, work: () => Promise<T>): Promise<T> {
    const before = this.#changes.get(name) ?? Promise.resolve();
    const done = before.then(work, work);
    const settled = done.catch(() => undefined);
    this.#changes.set(name, settled);
    void settled.then(() => {
      if (this.#changes.get(name) === settled) this.#changes.delete(name);
    });
    return done;
  }

  async #deleteGroup(name: string): Promise<boolean> {
    const folder = this.#folder(name);
    if (folder === undefined || (await this.group(name)) === undefined) return false;
    await rm(join(folder, GROUP_RECORD), { force: true });
    // The folder stays until a sweep finds it empty and quiet: a writer may be creating a stream.
    for (const file of await this.#streamFiles(folder)) await this.#removeStream(file.path);
    return true;
  }

  async #setRetention(name: string, days: number | undefined): Promise<boolean> {
    const folder = this.#folder(name);
    const existing = folder === undefined ? undefined : await this.group(name);
    if (folder === undefined || existing === undefined) return false;
    const record: GroupRecord = {
      creationTimeMs: existing.creationTimeMs,
      ...(days === undefined ? {} : { retentionInDays: days }),
    };
    // Written aside and renamed, so that a crash leaves the old record or the new one.
    const staged = join(folder, `${GROUP_RECORD}.staged`);
    await writeFile(staged, JSON.stringify(record), { mode: 0o600 });
    await rename(staged, join(folder, GROUP_RECORD));
    return true;
  }

  async sweep(nowMs: number): Promise<SweepResult> {
    let expiredStreams = 0;
    let removedLeftovers = 0;
    for (const name of await this.#groupNames()) {
      const folder = this.#folder(name);
      if (folder === undefined) continue;
      const record = await this.#record(folder);
      const keepFromMs = retentionStartMs(record?.retentionInDays, nowMs);
      for (const file of await this.#streamFiles(folder)) {
        if (file.size === 0) {
          if (this.#quiet(file.mtimeMs) && (await unlinkQuietly(file.path))) removedLeftovers += 1;
          continue;
        }
        if (record?.retentionInDays === undefined) continue;
        const facts = await this.#facts.of(file.path);
        if (facts?.lastMs !== undefined && facts.lastMs < keepFromMs) {
          await this.#removeStream(file.path);
          expiredStreams += 1;
        }
      }
      // An empty folder is no group; once quiet, no writer is about to create a stream in it.
      if (record === undefined && (await this.#removeQuietFolder(folder))) removedLeftovers += 1;
    }
    return { expiredStreams, removedLeftovers };
  }

  /** Removes a stream's events: the file itself once quiet, else its content. */
  async #removeStream(path: string): Promise<void> {
    this.#facts.forget(path);
    try {
      const info = await stat(path);
      if (this.#quiet(info.mtimeMs)) await unlink(path);
      else await truncate(path, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  async #removeQuietFolder(folder: string): Promise<boolean> {
    try {
      if (!this.#quiet((await stat(folder)).mtimeMs)) return false;
      await rmdir(folder);
      return true;
    } catch {
      return false;
    }
  }

  #quiet(mtimeMs: number): boolean {
    return Date.now() - mtimeMs >= this.#quietMs;
  }

  /** The names of the group folders, decoded, in order. */
  async #groupNames(): Promise<string[]> {
    let entries;
    try {
      entries = await readdir(this.#root, { withFileTypes: true });
    } catch {
      return [];
    }
    const names: string[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      try {
        names.push(decodeURIComponent(entry.name));
      } catch {
        // Not a folder FileLogStore made.
      }
    }
    return names.sort();
  }

  /** A group's folder; undefined for a name that cannot be one (an unpaired surrogate). */
  #folder(group: string): string | undefined {
    try {
      return join(this.#root, logGroupFolder(group));
    } catch {
      return undefined;
    }
  }

  #streamPath(group: string, stream: string): string | undefined {
    const folder = this.#folder(group);
    try {
      return folder === undefined ? undefined : join(folder, logStreamFile(stream));
    } catch {
      return undefined;
    }
  }

  async #record(folder: string): Promise<GroupRecord | undefined> {
    try {
      const parsed = JSON.parse(await readFile(join(folder, GROUP_RECORD), 'utf8')) as unknown;
      if (typeof parsed !== 'object' || parsed === null) return undefined;
      const { retentionInDays, creationTimeMs } = parsed as Record<string, unknown>;
      return {
        ...(typeof retentionInDays === 'number' ? { retentionInDays } : {}),
        ...(typeof creationTimeMs === 'number' ? { creationTimeMs } : {}),
      };
    } catch {
      return undefined;
    }
  }

  /** Whether a group folder has a stream file with events: stops at the first one. */
  async #hasEvents(folder: string): Promise<boolean> {
    for (const name of await this.#fileNames(folder)) {
      if (streamOfFile(name) === undefined) continue;
      try {
        const info = await stat(join(folder, name));
        if (info.isFile() && info.size > 0) return true;
      } catch {
        // Removed meanwhile.
      }
    }
    return false;
  }

  async #fileNames(folder: string): Promise<string[]> {
    try {
      return await readdir(folder);
    } catch {
      return [];
    }
  }

  /** The stream files of a group folder, with their sizes. */
  async #streamFiles(
    folder: string,
  ): Promise<Array<{ stream: string; path: string; size: number; mtimeMs: number }>> {
    const files = [];
    for (const name of await this.#fileNames(folder)) {
      const stream = streamOfFile(name);
      if (stream === undefined) continue;
      const path = join(folder, name);
      try {
        const info = await stat(path);
        if (info.isFile()) files.push({ stream, path, size: info.size, mtimeMs: info.mtimeMs });
      } catch {
        // Removed meanwhile.
      }
    }
    return files;
  }
}

async function unlinkQuietly(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch {
    return false;
  }
}
