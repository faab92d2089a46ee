/**
 * Sends the platform's spans to an OpenTelemetry collector over OTLP/HTTP with JSON encoding
 * (`POST <endpoint>/v1/traces`), in batches, off the invoke path: `export` only appends to a
 * bounded buffer. A full batch, or a timer (1 s by default), starts a request; at most two are
 * in flight, each with a deadline. A collector that is down, refuses, or hangs never holds an
 * invoke back: spans past the buffer are dropped and counted, as are the spans of a request that
 * failed or timed out (there is no retry), and after a failure sending pauses (1 s, doubling up to
 * 30 s) so a dead collector is not hammered.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { collectorUrls } from '../core/otlp-collector-urls.js';
import type { PlatformSpan, SpanExportCounts, SpanExporter } from '../monitoring/span-exporter.js';
import { exportTraceServiceRequest, type OtlpScope } from './otlp-json.js';

/**
 * Delivers one request body; resolves when the collector accepted it (2xx), rejects otherwise.
 * It must give up when `signal` aborts (the deadline, or the exporter stopping).
 */
export type OtlpTransport = (body: Buffer, signal: AbortSignal) => Promise<void>;

export interface OtlpHttpExporterOptions {
  /** The collector's OTLP/HTTP base URL (`http://127.0.0.1:4318`); spans go to `/v1/traces`. */
  readonly endpoint: string;
  /** Spans waiting to be sent, at most (default 2,048); more are dropped. */
  readonly maxQueuedSpans?: number;
  /** Spans per request, at most (default 512). */
  readonly maxBatchSpans?: number;
  /** How long a span waits for a batch to fill before it is sent anyway (default 1,000 ms). */
  readonly flushIntervalMs?: number;
  /** Deadline of one request (default 10,000 ms). */
  readonly timeoutMs?: number;
  /** Requests in flight at once, at most (default 2). */
  readonly maxInFlight?: number;
  /** How the requests are made (default: node:http(s) with a keep-alive agent). */
  readonly transport?: OtlpTransport;
  /** The instrumentation scope named in each request (default `lamina`). */
  readonly scope?: OtlpScope;
  /**
   * Told after spans were dropped: once at the first drop, then at most once per
   * `dropReportIntervalMs` (default 60 s), with the counts then.
   */
  readonly onDropped?: (counts: SpanExportCounts) => void;
  readonly dropReportIntervalMs?: number;
  /** How long `stop` lets the last requests run before it aborts them (default 2,000 ms). */
  readonly stopGraceMs?: number;
  /** Milliseconds now (for pauses and drop reports); default Date.now. */
  readonly now?: () => number;
}

const FIRST_PAUSE_MS = 1000;
const LONGEST_PAUSE_MS = 30_000;

export class OtlpHttpExporter implements SpanExporter {
  readonly #transport: OtlpTransport;
  readonly #scope: OtlpScope;
  readonly #maxQueued: number;
  readonly #maxBatch: number;
  readonly #flushIntervalMs: number;
  readonly #timeoutMs: number;
  readonly #maxInFlight: number;
  readonly #onDropped: ((counts: SpanExportCounts) => void) | undefined;
  readonly #dropReportIntervalMs: number;
  readonly #stopGraceMs: number;
  readonly #now: () => number;
  #queue: PlatformSpan[] = [];
  readonly #inFlight = new Set<AbortController>();
  readonly #idleWaiters: (() => void)[] = [];
  #timer: NodeJS.Timeout | undefined;
  #pauseMs = 0;
  #pausedUntilMs = 0;
  #exported = 0;
  #dropped = 0;
  #lastDropReportMs: number | undefined;
  #stopped = false;

  constructor(options: OtlpHttpExporterOptions) {
    this.#transport = options.transport ?? httpTransport(options.endpoint);
    this.#scope = options.scope ?? { name: 'lamina', version: '' };
    this.#maxQueued = options.maxQueuedSpans ?? 2048;
    this.#maxBatch = options.maxBatchSpans ?? 512;
    this.#flushIntervalMs = options.flushIntervalMs ?? 1000;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#maxInFlight = options.maxInFlight ?? 2;
    this.#onDropped = options.onDropped;
    this.#dropReportIntervalMs = options.dropReportIntervalMs ?? 60_000;
    this.#stopGraceMs = options.stopGraceMs ?? 2000;
    this.#now = options.now ?? Date.now;
  }

  export(span: PlatformSpan): void {
    if (this.#stopped || this.#queue.length >= this.#maxQueued) {
      this.#drop(1);
      return;
    }
    this.#queue.push(span);
    if (this.#queue.length >= this.#maxBatch) this.#send();
    else this.#arm(this.#flushIntervalMs);
  }

  counts(): SpanExportCounts {
    return { exported: this.#exported, dropped: this.#dropped, queued: this.#queue.length };
  }

  /** Sends what is queued now (as many requests as may be in flight), without waiting. */
  flush(): void {
    this.#send(true);
  }

  /** Resolves once no request is in flight. */
  whenIdle(): Promise<void> {
    if (this.#inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Sends what is queued, lets the requests run for a short while, then aborts them; spans still
   * queued or lost are counted as dropped. Later spans are dropped at once.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#send(true);
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const grace = setTimeout(() => {
      for (const controller of this.#inFlight) controller.abort();
    }, this.#stopGraceMs);
    await this.whenIdle();
    clearTimeout(grace);
    this.#drop(this.#queue.length);
    this.#queue = [];
  }

  /** Starts requests for queued spans while there is room; `all` sends part-filled batches too. */
  #send(all = true): void {
    if (this.#stopped) return;
    const waitMs = this.#pausedUntilMs - this.#now();
    if (waitMs > 0) {
      this.#arm(waitMs);
      return;
    }
    while (this.#queue.length > 0 && this.#inFlight.size < this.#maxInFlight) {
      if (!all && this.#queue.length < this.#maxBatch) break;
      this.#request(this.#queue.splice(0, this.#maxBatch));
    }
    if (this.#queue.length > 0) this.#arm(this.#flushIntervalMs);
  }

  #request(batch: PlatformSpan[]): void {
    const controller = new AbortController();
    this.#inFlight.add(controller);
    const deadline = setTimeout(() => controller.abort(), this.#timeoutMs);
    let body: Buffer;
    try {
      body = Buffer.from(JSON.stringify(exportTraceServiceRequest(batch, this.#scope)));
    } catch {
      // Unreachable for spans this platform makes; never let one break the exporter.
      this.#finish(controller, deadline, batch.length, false);
      return;
    }
    let sent: Promise<void>;
    try {
      sent = this.#transport(body, controller.signal);
    } catch {
      sent = Promise.reject(new Error('the transport failed'));
    }
    sent.then(
      () => this.#finish(controller, deadline, batch.length, true),
      () => this.#finish(controller, deadline, batch.length, false),
    );
  }

  #finish(
    controller: AbortController,
    deadline: NodeJS.Timeout,
    spans: number,
    accepted: boolean,
  ): void {
    clearTimeout(deadline);
    this.#inFlight.delete(controller);
    if (accepted) {
      this.#exported += spans;
      this.#pauseMs = 0;
    } else {
      this.#drop(spans);
      this.#pauseMs = Math.min(LONGEST_PAUSE_MS, Math.max(FIRST_PAUSE_MS, this.#pauseMs * 2));
      this.#pausedUntilMs = this.#now() + this.#pauseMs;
    }
    if (this.#inFlight.size === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
    // Full batches go at once; a part-filled one waits for the timer as usual.
    this.#send(false);
  }

  #arm(ms: number): void {
    if (this.#timer !== undefined || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#send(true);
    }, ms);
    this.#timer.unref();
  }

  #drop(spans: number): void {
    if (spans <= 0) return;
    this.#dropped += spans;
    if (this.#onDropped === undefined) return;
    const now = this.#now();
    if (
      this.#lastDropReportMs !== undefined &&
      now - this.#lastDropReportMs < this.#dropReportIntervalMs
    )
      return;
    this.#lastDropReportMs = now;
    try {
      this.#onDropped(this.counts());
    } catch {
      // a report that fails is not the exporter's concern
    }
  }
}

/**
 * POSTs to `<endpoint>/v1/traces` (the URL the relay's traces go to as well) through a keep-alive
 * agent (two sockets at most).
 */
export function httpTransport(endpoint: string): OtlpTransport {
  const url = collectorUrls(endpoint).traces;
  const secure = url.protocol === 'https:';
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, maxSockets: 2 })
    : new HttpAgent({ keepAlive: true, maxSockets: 2 });
  const request = secure ? httpsRequest : httpRequest;
  return (body, signal) =>
    new Promise<void>((resolve, reject) => {
      const req = request(url, {
        method: 'POST',
        agent,
        signal,
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      });
      req.once('response', (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        // The answer's body (an ExportTraceServiceResponse) is not needed: read and discarded.
        res.resume();
        res.once('end', () =>
          status >= 200 && status < 300
            ? resolve()
            : reject(new Error(`the collector answered ${status}`)),
        );
        res.once('error', reject);
        res.once('close', () => {
          if (!res.complete) reject(new Error('the answer was cut short'));
        });
      });
      req.once('error', reject);
      req.end(body);
    });
}
