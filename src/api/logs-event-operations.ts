/**
 * The Logs API's operations on streams and events: DescribeLogStreams, GetLogEvents (forward and
 * backward tokens, always both; at the end of the stream the token passed in comes back, which is
 * how clients know to stop) and FilterLogEvents (streams by name or prefix, a time range, the
 * filter pattern compiled once, `nextToken` until the last page). Pages hold at most `limit`
 * events (10,000) and about 1 MB; events older than the group's retention are never returned.
 */
import { createHash } from 'node:crypto';
import {
  compileFilterPattern,
  FilterPatternError,
  MAX_FILTER_PATTERN_LENGTH,
} from '../core/log-filter-pattern.js';
import type { FilterCursor, StoredLogEvent, StoredLogStream } from '../monitoring/log-archive.js';
import { retentionStartMs } from '../monitoring/log-retention.js';
import { logsErrors } from './logs-errors.js';
import { logGroupArn, logGroupResource, type LogsOperation } from './logs-group-operations.js';
import { groupOf } from './logs-input.js';

/** Most events a page of GetLogEvents or FilterLogEvents holds. */
export const EVENTS_LIMIT = 10_000;

/** Most bytes of events a page holds ("up to 1 MB of log events"). */
export const PAGE_BYTES = 1_048_576;

const DESCRIBE_LIMIT = 50;

/** No end time: later than any event. */
const NO_END = Number.MAX_SAFE_INTEGER;

export const describeLogStreams: LogsOperation = async (input, request, context) => {
  const group = groupOf(input, context.scope);
  const prefix = input.string('logStreamNamePrefix');
  const orderBy = input.string('orderBy') ?? 'LogStreamName';
  const descending = input.boolean('descending') ?? false;
  const token = input.string('nextToken');
  const limit = input.integer('limit');
  input.logName('logStreamNamePrefix', prefix, 'stream');
  input.oneOf('orderBy', orderBy, ['LogStreamName', 'LastEventTime']);
  input.text('nextToken', token, 1, Number.MAX_SAFE_INTEGER);
  input.range('limit', limit, 1, DESCRIBE_LIMIT);
  input.check();
  if (orderBy === 'LastEventTime' && prefix !== undefined)
    throw logsErrors.invalidParameter('Cannot order by LastEventTime with a logStreamNamePrefix.');
  const { scope, archive, tokens } = context;
  await request.authorize('logs:DescribeLogStreams', logGroupResource(scope, group));
  const kind = `DescribeLogStreams/${orderBy}/${descending ? 'down' : 'up'}`;
  const after = token === undefined ? undefined : streamCursor(tokens.open(kind, group, token));
  const page = await archive.listStreams(group, {
    prefix,
    orderBy: orderBy as 'LogStreamName' | 'LastEventTime',
    descending,
    after,
    limit: limit ?? DESCRIBE_LIMIT,
  });
  if (page === undefined) throw logsErrors.groupNotFound();
  const last = page.streams.at(-1);
  return {
    logStreams: page.streams.map((stream) => streamWire(logGroupArn(scope, group), stream)),
    ...(page.more && last !== undefined
      ? { nextToken: tokens.seal(kind, group, { n: last.name, t: last.lastEventMs ?? 0 }) }
      : {}),
  };
};

export const getLogEvents: LogsOperation = async (input, request, context) => {
  const group = groupOf(input, context.scope);
  const stream = input.string('logStreamName');
  const startTime = input.integer('startTime');
  const endTime = input.integer('endTime');
  const token = input.string('nextToken');
  const limit = input.integer('limit');
  const startFromHead = input.boolean('startFromHead') ?? false;
  input.boolean('unmask');
  input.require('logStreamName', stream);
  input.logName('logStreamName', stream, 'stream');
  input.range('startTime', startTime, 0);
  input.range('endTime', endTime, 0);
  input.text('nextToken', token, 1, Number.MAX_SAFE_INTEGER);
  input.range('limit', limit, 1, EVENTS_LIMIT);
  input.check();
  const name = stream as string;
  const { scope, archive, tokens, clock } = context;
  await request.authorize('logs:GetLogEvents', `${logGroupArn(scope, group)}:log-stream:${name}`);
  const scopeOfToken = `${group}\n${name}`;
  const position =
    token === undefined
      ? undefined
      : streamPosition(tokens.open('GetLogEvents', scopeOfToken, token));
  const stored = await archive.group(group);
  if (stored === undefined) throw logsErrors.groupNotFound();
  const direction =
    position?.direction ?? (startFromHead ? ('forward' as const) : ('backward' as const));
  const read = await archive.readStream(group, name, {
    direction,
    from: position?.offset,
    startMs: Math.max(startTime ?? 0, retentionStartMs(stored.retentionInDays, clock.now())),
    endMs: endTime ?? NO_END,
    limit: limit ?? EVENTS_LIMIT,
    maxBytes: PAGE_BYTES,
  });
  if (read === undefined) throw logsErrors.streamNotFound();
  // At the end of the stream (in the token's direction) the same token comes back.
  const tokenFor = (direction: 'forward' | 'backward', offset: number) =>
    token !== undefined && position?.direction === direction && position.offset === offset
      ? token
      : tokens.seal('GetLogEvents', scopeOfToken, {
          d: direction === 'forward' ? 'f' : 'b',
          o: offset,
        });
  return {
    events: read.events.map((event) => ({
      timestamp: event.timestampMs,
      message: event.message,
      ingestionTime: event.timestampMs,
    })),
    nextForwardToken: tokenFor('forward', read.endOffset),
    nextBackwardToken: tokenFor('backward', read.startOffset),
  };
};

export const filterLogEvents: LogsOperation = async (input, request, context) => {
  const group = groupOf(input, context.scope);
  const names = input.stringList('logStreamNames');
  const prefix = input.string('logStreamNamePrefix');
  const startTime = input.integer('startTime');
  const endTime = input.integer('endTime');
  const pattern = input.string('filterPattern');
  const token = input.string('nextToken');
  const limit = input.integer('limit');
  input.boolean('interleaved');
  input.boolean('unmask');
  if (names !== undefined && (names.length < 1 || names.length > 100))
    input.violate(
      'logStreamNames',
      names,
      `Member must have length ${names.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 100'}`,
    );
  for (const [i, streamName] of (names ?? []).slice(0, 100).entries())
    input.logName(`logStreamNames.${i + 1}.member`, streamName, 'stream');
  input.logName('logStreamNamePrefix', prefix, 'stream');
  input.range('startTime', startTime, 0);
  input.range('endTime', endTime, 0);
  input.text('filterPattern', pattern, 0, MAX_FILTER_PATTERN_LENGTH);
  input.text('nextToken', token, 1, Number.MAX_SAFE_INTEGER);
  input.range('limit', limit, 1, EVENTS_LIMIT);
  input.check();
  if (names !== undefined && prefix !== undefined)
    throw logsErrors.invalidParameter(
      'logStreamNames and logStreamNamePrefix are mutually exclusive parameters.',
    );
  let matches;
  try {
    matches = compileFilterPattern(pattern ?? '');
  } catch (error) {
    if (error instanceof FilterPatternError) throw logsErrors.invalidParameter(error.message);
    throw error;
  }
  const { scope, archive, tokens, clock } = context;
  await request.authorize('logs:FilterLogEvents', logGroupResource(scope, group));
  const after =
    token === undefined ? undefined : filterCursor(tokens.open('FilterLogEvents', group, token));
  const stored = await archive.group(group);
  if (stored === undefined) throw logsErrors.groupNotFound();
  const page = await archive.filterEvents(group, {
    streamNames: names,
    streamPrefix: prefix,
    startMs: Math.max(startTime ?? 0, retentionStartMs(stored.retentionInDays, clock.now())),
    // FilterLogEvents' end time is inclusive ("later than this time are not returned").
    endMs: endTime === undefined ? NO_END : endTime + 1,
    after,
    matches,
    limit: limit ?? EVENTS_LIMIT,
    maxBytes: PAGE_BYTES,
  });
  if (page === undefined) throw logsErrors.groupNotFound();
  const ids = new EventIds(group);
  return {
    events: page.events.map((event) => ({
      logStreamName: event.stream,
      timestamp: event.timestampMs,
      message: event.message,
      ingestionTime: event.timestampMs,
      eventId: ids.of(event),
    })),
    searchedLogStreams: [],
    ...(page.next === undefined
      ? {}
      : { nextToken: tokens.seal('FilterLogEvents', group, cursorWire(page.next)) }),
  };
};

/**
 * Event ids that stay the same from one request to the next (`aws logs tail --follow` asks again
 * from the newest time it saw and drops the ids it has printed): 56 digits, of the stream's hash,
 * the event's timestamp and its position in the stream. The timestamp keeps them apart when an
 * emptied stream (deleted group, expired events) is written again from position 0: its file is
 * the same, so neither its inode nor its birth time changes, but its new events are later.
 */
class EventIds {
  readonly #group: string;
  readonly #streams = new Map<string, string>();

  constructor(group: string) {
    this.#group = group;
  }

  of(event: StoredLogEvent): string {
    let prefix = this.#streams.get(event.stream);
    if (prefix === undefined) {
      const hash = createHash('sha256').update(`${this.#group}\n${event.stream}`).digest();
      prefix = hash.readBigUInt64BE(0).toString().padStart(20, '0');
      this.#streams.set(event.stream, prefix);
    }
    const time = String(Math.max(0, event.timestampMs)).padStart(16, '0');
    return `${prefix}${time}${String(event.offset).padStart(20, '0')}`;
  }
}

function streamWire(groupArn: string, stream: StoredLogStream) {
  return {
    logStreamName: stream.name,
    creationTime: stream.creationTimeMs,
    ...(stream.firstEventMs === undefined ? {} : { firstEventTimestamp: stream.firstEventMs }),
    ...(stream.lastEventMs === undefined
      ? {}
      : { lastEventTimestamp: stream.lastEventMs, lastIngestionTime: stream.lastEventMs }),
    arn: `${groupArn}:log-stream:${stream.name}`,
    storedBytes: 0,
  };
}

/** A DescribeLogStreams token's value. */
function streamCursor(value: unknown): { name: string; lastEventMs: number } {
  const { n, t } = (value ?? {}) as { n?: unknown; t?: unknown };
  if (typeof n !== 'string' || typeof t !== 'number') throw logsErrors.invalidToken();
  return { name: n, lastEventMs: t };
}

/** A GetLogEvents token's value. */
function streamPosition(value: unknown): { direction: 'forward' | 'backward'; offset: number } {
  const { d, o } = (value ?? {}) as { d?: unknown; o?: unknown };
  if ((d !== 'f' && d !== 'b') || typeof o !== 'number' || !Number.isSafeInteger(o) || o < 0)
    throw logsErrors.invalidToken();
  return { direction: d === 'f' ? 'forward' : 'backward', offset: o };
}

function cursorWire(cursor: FilterCursor): unknown {
  return { t: cursor.timestampMs, s: cursor.stream, o: cursor.offset };
}

/** A FilterLogEvents token's value. */
function filterCursor(value: unknown): FilterCursor {
  const { t, s, o } = (value ?? {}) as { t?: unknown; s?: unknown; o?: unknown };
  if (typeof t !== 'number' || typeof s !== 'string' || typeof o !== 'number')
    throw logsErrors.invalidToken();
  return { timestampMs: t, stream: s, offset: o };
}
