/**
 * What the CloudWatch Logs API needs of stored function logs (the port; FileLogArchive keeps them
 * in files): log groups with their retention, the streams of a group, bounded reads of one stream
 * in either direction, events of many streams merged in time order past a cursor, deletion, and
 * the sweep that drops expired streams. Every read is bounded by an event count, a byte budget
 * for the answer and a byte budget of scanning, whatever the size of the logs; positions are
 * byte offsets at event boundaries, which the API seals into its paging tokens.
 */

/** A log group: what is known of it without going through its streams. */
export interface LogGroupInfo {
  readonly name: string;
  /** When the group was first seen (epoch ms). */
  readonly creationTimeMs: number;
  /** Days events are kept (undefined: for ever). */
  readonly retentionInDays: number | undefined;
}

/** A log group as listed, with the bytes its streams take (a look at every stream). */
export interface StoredLogGroup extends LogGroupInfo {
  /** Bytes its streams take on disk. */
  readonly storedBytes: number;
}

/** A log stream as stored. */
export interface StoredLogStream {
  readonly name: string;
  readonly creationTimeMs: number;
  /** The first and last events' timestamps (undefined for a stream with no readable event). */
  readonly firstEventMs: number | undefined;
  readonly lastEventMs: number | undefined;
}

/** One event of a stream. */
export interface StoredLogEvent {
  readonly stream: string;
  /** The event's timestamp (epoch ms). */
  readonly timestampMs: number;
  readonly message: string;
  /**
   * Where the event starts in its stream, in bytes: with the stream and the timestamp, what
   * identifies it (an emptied stream's new events start again at 0, later).
   */
  readonly offset: number;
}

/** The bounds every read of events keeps to. */
export interface ReadBounds {
  /** Most events returned. */
  readonly limit: number;
  /** Most bytes of messages returned (at least one event is, if any matches). */
  readonly maxBytes: number;
}

/** Which log groups to list: names in order after `after`. */
export interface GroupQuery {
  readonly prefix?: string | undefined;
  /** A substring the name must contain (DescribeLogGroups' `logGroupNamePattern`). */
  readonly contains?: string | undefined;
  readonly after?: string | undefined;
  readonly limit: number;
}

/** A page of log groups; `more` when others follow the last one. */
export interface GroupPage {
  readonly groups: readonly StoredLogGroup[];
  readonly more: boolean;
}

/** Where a listing of streams resumes (after this stream in the order asked for). */
export interface StreamCursor {
  readonly name: string;
  /** The stream's last event time, when listing by LastEventTime. */
  readonly lastEventMs?: number | undefined;
}

export interface StreamQuery {
  readonly prefix?: string | undefined;
  readonly orderBy: 'LogStreamName' | 'LastEventTime';
  readonly descending: boolean;
  readonly after?: StreamCursor | undefined;
  readonly limit: number;
}

export interface StreamPage {
  readonly streams: readonly StoredLogStream[];
  readonly more: boolean;
}

/** A read of one stream, forward from a position or backward from one. */
export interface StreamReadRequest extends ReadBounds {
  readonly direction: 'forward' | 'backward';
  /** The position to read from (undefined: the start when forward, the end when backward). */
  readonly from: number | undefined;
  /** Events from this time (inclusive). */
  readonly startMs: number;
  /** Events before this time (exclusive). */
  readonly endMs: number;
}

/** Events of a stream in time order, and the positions around what was read. */
export interface StreamReadResult {
  readonly events: readonly StoredLogEvent[];
  /** Where the read began: the first event returned, or how far a backward read reached. */
  readonly startOffset: number;
  /** Where it ended: after the last event a forward read consumed, or where a backward read began. */
  readonly endOffset: number;
}

/** The last event a filter page consumed: the next page starts after it. */
export interface FilterCursor {
  readonly timestampMs: number;
  readonly stream: string;
  readonly offset: number;
}

/** Events of the streams of a group that match, in time order (then stream name, then offset). */
export interface EventFilterRequest extends ReadBounds {
  /** Only these streams (undefined: all). */
  readonly streamNames?: readonly string[] | undefined;
  readonly streamPrefix?: string | undefined;
  readonly startMs: number;
  /** Events before this time (exclusive). */
  readonly endMs: number;
  readonly after: FilterCursor | undefined;
  readonly matches: (message: string) => boolean;
}

export interface EventFilterResult {
  readonly events: readonly StoredLogEvent[];
  /** Where the next page starts; undefined once every stream has been read to the end. */
  readonly next: FilterCursor | undefined;
}

/** What one retention sweep did. */
export interface SweepResult {
  /** Streams whose events had all expired, deleted. */
  readonly expiredStreams: number;
  /** Emptied streams and empty groups removed. */
  readonly removedLeftovers: number;
}

export interface LogArchive {
  /** Groups in name order. */
  listGroups(query: GroupQuery): Promise<GroupPage>;
  /** A group, found without going through its streams (no storedBytes). */
  group(name: string): Promise<LogGroupInfo | undefined>;
  /** Streams of a group; undefined when the group does not exist. */
  listStreams(group: string, query: StreamQuery): Promise<StreamPage | undefined>;
  /**
   * Undefined when the stream (or its group) does not exist. This read and filterEvents hold
   * back events of times whose lines may not all be written yet (another stream's earlier line
   * still on its way to disk), so that a reader following the newest events never passes one.
   */
  readStream(
    group: string,
    stream: string,
    request: StreamReadRequest,
  ): Promise<StreamReadResult | undefined>;
  /** Undefined when the group does not exist. */
  filterEvents(group: string, request: EventFilterRequest): Promise<EventFilterResult | undefined>;
  /** Removes a group's events and retention; false when it did not exist. */
  deleteGroup(name: string): Promise<boolean>;
  /** Sets (or, with undefined, removes) a group's retention; false when it does not exist. */
  setRetention(name: string, days: number | undefined): Promise<boolean>;
  /** Deletes the streams of groups with a retention whose newest event is older than it. */
  sweep(nowMs: number): Promise<SweepResult>;
}
