/**
 * FilterLogEvents over stream files: the events of many streams merged in time order (ties by
 * stream name, then position), from just after a cursor, until a page is full (events, bytes) or
 * SCAN_BUDGET_BYTES have been read, whichever comes first; the last event consumed is the next
 * page's cursor. Each stream is read forward in small chunks from the first event at or after the
 * page's lower time bound (found by binary search); a stream joins the merge only once the merge
 * reaches its first event, so streams of other times hold no memory.
 */
import type {
  EventFilterRequest,
  EventFilterResult,
  FilterCursor,
  StoredLogEvent,
} from '../monitoring/log-archive.js';
import { ForwardLines, offsetAtTime } from './log-file-lines.js';

/** Bytes of stream files one page may read. */
export const SCAN_BUDGET_BYTES = 32 * 1024 * 1024;

/** Bytes counted per event beside its message (as CloudWatch counts them). */
export const EVENT_OVERHEAD_BYTES = 26;

/** Chunk each stream is read in during a merge. */
const MERGE_CHUNK_BYTES = 16 * 1024;

/** A stream file taking part in a merge. */
export interface MergeSource {
  readonly stream: string;
  readonly path: string;
  readonly size: number;
  readonly firstMs: number | undefined;
}

/** A stream being read, with its next event. */
interface Reader {
  readonly source: MergeSource;
  readonly lines: ForwardLines;
  head: StoredLogEvent | undefined;
  /** Bytes of it counted against the budget so far. */
  counted: number;
}

/** Orders events: time, then stream name, then position. */
export function compareEvents(a: FilterCursor, b: FilterCursor): number {
  if (a.timestampMs !== b.timestampMs) return a.timestampMs - b.timestampMs;
  if (a.stream !== b.stream) return a.stream < b.stream ? -1 : 1;
  return a.offset - b.offset;
}

function cursorOf(event: StoredLogEvent): FilterCursor {
  return { timestampMs: event.timestampMs, stream: event.stream, offset: event.offset };
}

/** Runs one page of a filter over `sources` (streams already chosen by name). */
export async function mergeEvents(
  sources: readonly MergeSource[],
  request: EventFilterRequest,
  onScanned: (bytes: number) => void = () => undefined,
): Promise<EventFilterResult> {
  const lowerMs = Math.max(request.startMs, request.after?.timestampMs ?? 0);
  const pending = [...sources].sort((a, b) => (a.firstMs ?? -Infinity) - (b.firstMs ?? -Infinity));
  const heap = new ReaderHeap();
  const events: StoredLogEvent[] = [];
  let bytes = 0;
  let scanned = 0;
  let last: FilterCursor | undefined;
  let next = 0;
  const count = (reader: Reader) => {
    const bytes = reader.lines.scannedBytes - reader.counted;
    scanned += bytes;
    reader.counted = reader.lines.scannedBytes;
    if (bytes > 0) onScanned(bytes);
  };
  /** Moves a reader to its next event after everything already consumed, or ends it. */
  const advance = async (reader: Reader) => {
    const floor = last ?? request.after;
    for (;;) {
      const line = await reader.lines.next();
      count(reader);
      if (line === undefined) {
        reader.head = undefined;
        return;
      }
      if (line.event === undefined || line.event.timestampMs < lowerMs) continue;
      const event: StoredLogEvent = {
        stream: reader.source.stream,
        offset: line.offset,
        ...line.event,
      };
      // Behind the cursor: consumed by an earlier page (or out of order in its stream).
      if (floor !== undefined && compareEvents(event, floor) <= 0) continue;
      reader.head = event;
      return;
    }
  };
  for (;;) {
    // Streams whose first event the merge has reached join it.
    while (next < pending.length) {
      const source = pending[next] as MergeSource;
      const top = heap.peek()?.head;
      if (top !== undefined && (source.firstMs ?? -Infinity) > top.timestampMs) break;
      next += 1;
      const from =
        source.firstMs !== undefined && source.firstMs < lowerMs
          ? await offsetAtTime(source.path, source.size, lowerMs)
          : 0;
      const reader: Reader = {
        source,
        lines: new ForwardLines(source.path, from, MERGE_CHUNK_BYTES),
        head: undefined,
        counted: 0,
      };
      await advance(reader);
      if (reader.head !== undefined) heap.push(reader);
    }
    const reader = heap.peek();
    const event = reader?.head;
    if (reader === undefined || event === undefined || event.timestampMs >= request.endMs)
      return { events, next: undefined };
    if (last !== undefined && scanned >= SCAN_BUDGET_BYTES) return { events, next: last };
    if (request.matches(event.message)) {
      const size = Buffer.byteLength(event.message) + EVENT_OVERHEAD_BYTES;
      if (events.length > 0 && bytes + size > request.maxBytes) return { events, next: last };
      events.push(event);
      bytes += size;
    }
    last = cursorOf(event);
    await advance(reader);
    if (reader.head === undefined) heap.pop();
    else heap.siftTop();
    if (events.length >= request.limit) return { events, next: last };
  }
}

/** A binary min-heap of readers by their next event. */
class ReaderHeap {
  readonly #items: Reader[] = [];

  peek(): Reader | undefined {
    return this.#items[0];
  }

  push(reader: Reader): void {
    const items = this.#items;
    items.push(reader);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (less(items[parent] as Reader, items[i] as Reader)) break;
      swap(items, i, parent);
      i = parent;
    }
  }

  /** Removes the top. */
  pop(): void {
    const items = this.#items;
    const tail = items.pop();
    if (tail === undefined || items.length === 0) return;
    items[0] = tail;
    this.siftTop();
  }

  /** Restores the order after the top's head changed. */
  siftTop(): void {
    const items = this.#items;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < items.length && less(items[left] as Reader, items[smallest] as Reader))
        smallest = left;
      if (right < items.length && less(items[right] as Reader, items[smallest] as Reader))
        smallest = right;
      if (smallest === i) return;
      swap(items, i, smallest);
      i = smallest;
    }
  }
}

function less(a: Reader, b: Reader): boolean {
  if (a.head === undefined) return false;
  if (b.head === undefined) return true;
  return compareEvents(a.head, b.head) < 0;
}

function swap(items: Reader[], i: number, j: number): void {
  const held = items[i] as Reader;
  items[i] = items[j] as Reader;
  items[j] = held;
}
