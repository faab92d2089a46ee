/**
 * FilterLogEvents over stream files: the events of many streams merged in time order (ties by
 * stream name, then position), from just after a cursor, until a page is full (events, bytes) or
 * SCAN_BUDGET_BYTES have been read, whichever comes first; the last event consumed is the next
 * page's cursor. Each stream is read forward in small chunks from the first event at or after the
 * page's lower time bound (found by binary search); a stream joins the merge only once the merge
 * reaches its first event, so streams of other times hold no memory. Many streams may overlap a
 * page's start, or take turns: beyond MAX_OPEN_READERS, a stream not at the front of the merge is
 * parked (only where its next event is, and its time, are kept) and read again when its turn
 * comes. Every read, of joining streams and of the binary searches too, counts against the budget.
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

/** Chunk a stream's first event is looked for in when it joins (most lines are short). */
const JOIN_CHUNK_BYTES = 1024;

/** Streams whose chunks a merge keeps in memory at once; the others are parked. */
export const MAX_OPEN_READERS = 64;

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
  /** Its lines, undefined while parked. */
  lines: ForwardLines | undefined;
  /** Where its next event is (all a parked reader keeps of it). */
  head: FilterCursor | undefined;
  /** The next event itself, undefined while parked. */
  event: StoredLogEvent | undefined;
  /** Bytes of its lines counted against the budget so far. */
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
  let open = 0;
  let last: FilterCursor | undefined;
  let next = 0;
  const read = (bytes: number) => {
    scanned += bytes;
    if (bytes > 0) onScanned(bytes);
  };
  const count = (reader: Reader) => {
    const lines = reader.lines as ForwardLines;
    read(lines.scannedBytes - reader.counted);
    reader.counted = lines.scannedBytes;
  };
  const openAt = (reader: Reader, from: number, chunkBytes: number) => {
    if (reader.lines === undefined) open += 1;
    reader.lines = new ForwardLines(reader.source.path, from, chunkBytes);
    reader.counted = 0;
  };
  const park = (reader: Reader) => {
    if (reader.lines === undefined) return;
    reader.lines = undefined;
    reader.event = undefined;
    open -= 1;
  };
  /** Moves a reader to its next event after everything already consumed, or ends it. */
  const advance = async (reader: Reader) => {
    const floor = last ?? request.after;
    for (;;) {
      const line = await (reader.lines as ForwardLines).next();
      count(reader);
      if (line === undefined) {
        reader.head = undefined;
        reader.event = undefined;
        park(reader);
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
      reader.head = cursorOf(event);
      reader.event = event;
      return;
    }
  };
  const outOfBudget = () => last !== undefined && scanned >= SCAN_BUDGET_BYTES;
  for (;;) {
    // Streams whose first event the merge has reached join it, parked unless at the front.
    while (next < pending.length) {
      const source = pending[next] as MergeSource;
      const top = heap.peek()?.head;
      if (top !== undefined && (source.firstMs ?? -Infinity) > top.timestampMs) break;
      if (outOfBudget()) return { events, next: last };
      next += 1;
      const from =
        source.firstMs !== undefined && source.firstMs < lowerMs
          ? await offsetAtTime(source.path, source.size, lowerMs, read)
          : 0;
      const reader: Reader = {
        source,
        lines: undefined,
        head: undefined,
        event: undefined,
        counted: 0,
      };
      openAt(reader, from, JOIN_CHUNK_BYTES);
      await advance(reader);
      if (reader.head === undefined) continue;
      park(reader);
      heap.push(reader);
    }
    const reader = heap.peek();
    const head = reader?.head;
    if (reader === undefined || head === undefined || head.timestampMs >= request.endMs)
      return { events, next: undefined };
    if (outOfBudget()) return { events, next: last };
    if (reader.event === undefined) {
      // Parked: read again from its next event on.
      openAt(reader, head.offset, MERGE_CHUNK_BYTES);
      await advance(reader);
      if (reader.head === undefined) {
        // Emptied meanwhile: nothing more of it.
        heap.pop();
        continue;
      }
      // Emptied and written again meanwhile: its next event is another, to be put in its place.
      if (compareEvents(reader.head, head) !== 0) {
        heap.siftTop();
        continue;
      }
    }
    const event = reader.event as StoredLogEvent;
    if (request.matches(event.message)) {
      const size = Buffer.byteLength(event.message) + EVENT_OVERHEAD_BYTES;
      if (events.length > 0 && bytes + size > request.maxBytes) return { events, next: last };
      events.push(event);
      bytes += size;
    }
    last = cursorOf(event);
    await advance(reader);
    if (reader.head === undefined) heap.pop();
    else {
      heap.siftTop();
      if (open > MAX_OPEN_READERS && heap.peek() !== reader) park(reader);
    }
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
