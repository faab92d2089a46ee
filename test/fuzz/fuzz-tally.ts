/**
 * What a fuzzing run counts: every answer by status (and by operation), and every finding with a
 * few samples of the requests that produced it, kept small enough to print as one JSON document.
 */

/** A request as it can be replayed: the exact bytes sent, shortened for the report. */
export interface RequestSample {
  /** Position of the request in the run (with the seed, regenerates it). */
  readonly index: number;
  readonly operation: string;
  /** The request as sent on the wire (HTTP head and body, or raw bytes), escaped and cut. */
  readonly bytes: string;
  readonly bytesLength: number;
}

export interface FindingSample {
  /** Absent for findings about the server as a whole (its process, its memory). */
  readonly request?: RequestSample;
  readonly status: number | string;
  readonly errorType?: string | undefined;
  readonly answer?: string | undefined;
}

/** How many samples of one kind of finding are kept (the count keeps going). */
const SAMPLES_PER_KEY = 3;
const MAX_KEYS = 40;

export class FuzzTally {
  sent = 0;
  readonly #statuses = new Map<string, number>();
  readonly #byOperation = new Map<string, Map<string, number>>();
  readonly #findings = new Map<string, { count: number; samples: FindingSample[] }>();
  readonly #notes = new Map<string, { count: number; samples: FindingSample[] }>();

  readonly #time = new Map<string, { total: number; max: number; count: number }>();

  /** Adds the time one request of `operation` took (for the report's slowest operations). */
  time(operation: string, ms: number): void {
    const entry = this.#time.get(operation) ?? { total: 0, max: 0, count: 0 };
    entry.total += ms;
    entry.max = Math.max(entry.max, ms);
    entry.count += 1;
    this.#time.set(operation, entry);
  }

  /** Counts one answer (`status` is an HTTP status or a label such as `long-poll`). */
  count(operation: string, status: number | string): void {
    const key = String(status);
    this.#statuses.set(key, (this.#statuses.get(key) ?? 0) + 1);
    let perOperation = this.#byOperation.get(operation);
    if (perOperation === undefined) {
      perOperation = new Map<string, number>();
      this.#byOperation.set(operation, perOperation);
    }
    perOperation.set(key, (perOperation.get(key) ?? 0) + 1);
  }

  /** Records a finding: `kind` groups them (e.g. `5xx`, `hang`), `key` says which. */
  finding(kind: string, key: string, sample: FindingSample): void {
    keep(this.#findings, `${kind}: ${key}`, sample);
  }

  /** Records something worth reading that is not a failure (e.g. an oversized body accepted). */
  note(key: string, sample: FindingSample): void {
    keep(this.#notes, key, sample);
  }

  get findingCount(): number {
    let total = 0;
    for (const { count } of this.#findings.values()) total += count;
    return total;
  }

  toJson(): Record<string, unknown> {
    return {
      requests_sent: this.sent,
      status_counts: sorted(this.#statuses),
      status_counts_by_operation: Object.fromEntries(
        [...this.#byOperation.entries()]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([operation, counts]) => [operation, sorted(counts)]),
      ),
      // Where the run's time went: the operations with the most time in total.
      slowest_operations: [...this.#time.entries()]
        .sort(([, a], [, b]) => b.total - a.total)
        .slice(0, 8)
        .map(([operation, t]) => ({
          operation,
          requests: t.count,
          mean_ms: Math.round(t.total / t.count),
          max_ms: Math.round(t.max),
        })),
      findings: [...this.#findings.entries()].map(([key, { count, samples }]) => ({
        finding: key,
        count,
        samples,
      })),
      notes: [...this.#notes.entries()].map(([key, { count, samples }]) => ({
        note: key,
        count,
        samples,
      })),
    };
  }
}

function keep(
  into: Map<string, { count: number; samples: FindingSample[] }>,
  key: string,
  sample: FindingSample,
): void {
  let entry = into.get(key);
  if (entry === undefined) {
    if (into.size >= MAX_KEYS) key = 'other (too many kinds to list)';
    entry = into.get(key) ?? { count: 0, samples: [] };
    into.set(key, entry);
  }
  entry.count += 1;
  if (entry.samples.length < SAMPLES_PER_KEY) entry.samples.push(sample);
}

function sorted(counts: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** Bytes as readable text: printable ASCII kept, the rest escaped; cut to `max` characters. */
export function escapeBytes(bytes: Buffer, max = 1500): string {
  let out = '';
  for (const byte of bytes.subarray(0, max)) {
    if (byte === 0x0d) out += '\\r';
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x5c) out += '\\\\';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return bytes.length > max ? `${out}… (${bytes.length - max} more bytes)` : out;
}

/** A replayable sample of the request bytes. */
export function sampleOf(index: number, operation: string, bytes: Buffer): RequestSample {
  return { index, operation, bytes: escapeBytes(bytes), bytesLength: bytes.length };
}

/** The note for a request that got no HTTP answer (not a finding: the reason is in the sample). */
export function unanswered(status: 'closed' | 'client-refused'): string {
  return status === 'closed'
    ? 'the connection closed without an answer'
    : 'not sent: no SDK could sign it either (e.g. a lone surrogate), or the client refused it';
}
