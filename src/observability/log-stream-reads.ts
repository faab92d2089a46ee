/**
 * GetLogEvents' reads of one stream file: forward from a position (or from the first event at the
 * start time, found by binary search) until the limit, the page's bytes, the end time or
 * SCAN_BUDGET_BYTES of reading; or backward from a position (or from the end time) until the
 * limit, the bytes, the start time or the budget. The positions around what was consumed become
 * the API's forward and backward tokens; a line still being written at the end is never passed.
 */
import type {
  StoredLogEvent,
  StreamReadRequest,
  StreamReadResult,
} from '../monitoring/log-archive.js';
import { EVENT_OVERHEAD_BYTES, SCAN_BUDGET_BYTES } from './log-event-merge.js';
import { BackwardLines, ForwardLines, offsetAtTime } from './log-file-lines.js';

/** Events forward from a position: stops before the first event at or after the end time. */
export async function readStreamForward(
  path: string,
  stream: string,
  size: number,
  request: StreamReadRequest,
  onScanned: (bytes: number) => void,
): Promise<StreamReadResult> {
  // A position past the end is of a stream emptied since: its new events start at the start.
  const from =
    request.from === undefined
      ? request.startMs > 0
        ? await offsetAtTime(path, size, request.startMs)
        : 0
      : request.from > size
        ? 0
        : request.from;
  const lines = new ForwardLines(path, from);
  const events: StoredLogEvent[] = [];
  let bytes = 0;
  let consumed = from;
  for (;;) {
    if (consumed > from && lines.scannedBytes >= SCAN_BUDGET_BYTES) break;
    const line = await lines.next();
    if (line === undefined) break;
    const event = line.event;
    if (event !== undefined && event.timestampMs >= request.endMs) break;
    if (event !== undefined && event.timestampMs >= request.startMs) {
      const cost = Buffer.byteLength(event.message) + EVENT_OVERHEAD_BYTES;
      if (events.length > 0 && bytes + cost > request.maxBytes) break;
      events.push({ stream, offset: line.offset, ...event });
      bytes += cost;
    }
    consumed = line.end;
    if (events.length >= request.limit) break;
  }
  onScanned(lines.scannedBytes);
  return { events, startOffset: events[0]?.offset ?? from, endOffset: consumed };
}

/** Events backward from a position: stops at the first event before the start time. */
export async function readStreamBackward(
  path: string,
  stream: string,
  size: number,
  request: StreamReadRequest,
  onScanned: (bytes: number) => void,
): Promise<StreamReadResult> {
  const start =
    request.from === undefined
      ? request.endMs < Number.MAX_SAFE_INTEGER
        ? await offsetAtTime(path, size, request.endMs)
        : size
      : Math.min(request.from, size);
  const lines = new BackwardLines(path, start);
  const from = await lines.boundary();
  const newestFirst: StoredLogEvent[] = [];
  let bytes = 0;
  let consumed = from;
  for (;;) {
    if (consumed < from && lines.scannedBytes >= SCAN_BUDGET_BYTES) break;
    const line = await lines.previous();
    if (line === undefined) break;
    const event = line.event;
    if (event !== undefined && event.timestampMs < request.startMs) break;
    if (event !== undefined && event.timestampMs < request.endMs) {
      const cost = Buffer.byteLength(event.message) + EVENT_OVERHEAD_BYTES;
      if (newestFirst.length > 0 && bytes + cost > request.maxBytes) break;
      newestFirst.push({ stream, offset: line.offset, ...event });
      bytes += cost;
    }
    consumed = line.offset;
    if (newestFirst.length >= request.limit) break;
  }
  onScanned(lines.scannedBytes);
  return { events: newestFirst.reverse(), startOffset: consumed, endOffset: from };
}
