/**
 * Forwards what functions post to their environment's OTLP endpoint to the collector
 * (`--otlp-endpoint`), shared by all environments. Functions are never kept waiting on the
 * collector: a body is queued and answered at once, and sent later, a few at a time, each with a
 * deadline. What does not fit is dropped and counted, never waited for: the bytes held (bodies
 * being read, queued or being sent) are bounded per environment and for the server, and so is
 * the number of bodies queued. A collector that is slow or down fills the queue and the rest is
 * dropped; one that hangs costs each request its deadline.
 *
 * Only the collector's `/v1/traces`, `/v1/metrics` and `/v1/logs` are ever requested, with the
 * body and its Content-Type and Content-Encoding: nothing else a function sends (its path, its
 * headers, its Host) reaches the request, so the relay cannot take a function anywhere else.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { collectorUrls } from '../core/otlp-collector-urls.js';
import type { OtlpDropReason, OtlpRelayCounts } from '../core/otlp-relay-counts.js';
import { OTLP_MEDIA_TYPES, type OtlpFormat, type OtlpSignal } from './otlp-wire.js';

/** One body a function posted, as it goes to the collector. */
export interface OtlpBody {
  readonly signal: OtlpSignal;
  readonly format: OtlpFormat;
  readonly gzipped: boolean;
  readonly body: Buffer;
}

/**
 * Room held for one body while it is read, queued and sent: it grows as the body arrives and is
 * given back once, when the body is dropped or its request to the collector has ended.
 */
export interface BodyHold {
  /** Takes `bytes` more; false (taking nothing) when the environment or server has no room. */
  grow(bytes: number): boolean;
  release(): void;
}

/** What an environment's endpoint needs of the forwarder (see OtlpReceiver). */
export interface OtlpIntake {
  /** Room for a new body of the environment `environmentId` (empty until it grows). */
  hold(environmentId: string): BodyHold;
  /**
   * Queues a complete body whose bytes `hold` holds; false when no more bodies may wait (it is
   * then dropped, counted, and the hold released).
   */
  forward(hold: BodyHold, body: OtlpBody): boolean;
  /** Counts a body dropped before it was queued. */
  dropped(reason: OtlpDropReason): void;
}

export interface OtlpForwarderOptions {
  /**
   * The collector's OTLP/HTTP base URL (`http://collector:4318`), as OTEL_EXPORTER_OTLP_ENDPOINT
   * takes it: each signal goes to `<base>/v1/<signal>`.
   */
  readonly collector: string;
  /** Headers every request to the collector carries (an operator's authorization, say). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Bytes held for all environments at once (default 64 MiB). */
  readonly maxHeldBytes?: number;
  /** Bytes held for one environment at once (default 8 MiB: two of the largest bodies). */
  readonly maxHeldBytesPerEnvironment?: number;
  /** Bodies queued or being sent, all environments together (default 256). */
  readonly maxQueued?: number;
  /** Bodies queued or being sent for one environment (default 32). */
  readonly maxQueuedPerEnvironment?: number;
  /** Requests to the collector at once (default 4). */
  readonly concurrency?: number;
  /** How long one request to the collector may take, answer included (ms; default 10 s). */
  readonly timeoutMs?: number;
  /** Told of the bytes of every body let go (for the server's memory reclaimer). */
  readonly onReleased?: ((bytes: number) => void) | undefined;
}

const MIB = 1024 * 1024;
const USER_AGENT = 'lamina-otlp-relay';

/** What one environment holds now. */
interface Usage {
  bytes: number;
  queued: number;
}

interface Queued {
  readonly hold: Hold;
  readonly body: OtlpBody;
}

export class OtlpForwarder implements OtlpIntake {
  readonly #urls: Readonly<Record<OtlpSignal, URL>>;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #maxHeld: number;
  readonly #maxHeldEach: number;
  readonly #maxQueued: number;
  readonly #maxQueuedEach: number;
  readonly #concurrency: number;
  readonly #timeoutMs: number;
  readonly #onReleased: ((bytes: number) => void) | undefined;
  readonly #agent: HttpAgent;
  readonly #usage = new Map<string, Usage>();
  readonly #queue: Queued[] = [];
  /** The requests under way, each with what ends it. */
  readonly #sending = new Map<ClientRequest, () => void>();
  #held = 0;
  #queued = 0;
  #closed = false;
  #received = 0;
  #forwarded = 0;
  readonly #dropped: Record<OtlpDropReason, number> = {
    full: 0,
    tooLarge: 0,
    rejected: 0,
    failed: 0,
  };

  constructor(options: OtlpForwarderOptions) {
    this.#urls = collectorUrls(options.collector);
    this.#headers = options.headers ?? {};
    this.#maxHeld = options.maxHeldBytes ?? 64 * MIB;
    this.#maxHeldEach = options.maxHeldBytesPerEnvironment ?? 8 * MIB;
    this.#maxQueued = options.maxQueued ?? 256;
    this.#maxQueuedEach = options.maxQueuedPerEnvironment ?? 32;
    this.#concurrency = options.concurrency ?? 4;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#onReleased = options.onReleased;
    const agentOptions = { keepAlive: true, maxSockets: this.#concurrency };
    this.#agent =
      this.#urls.traces.protocol === 'https:'
        ? new HttpsAgent(agentOptions)
        : new HttpAgent(agentOptions);
  }

  hold(environmentId: string): BodyHold {
    return new Hold(this, environmentId);
  }

  forward(hold: BodyHold, body: OtlpBody): boolean {
    if (!(hold instanceof Hold) || hold.released) return false;
    const usage = this.#usageOf(hold.environmentId);
    if (this.#closed || this.#queued >= this.#maxQueued || usage.queued >= this.#maxQueuedEach) {
      hold.release();
      this.dropped('full');
      return false;
    }
    usage.queued += 1;
    this.#queued += 1;
    this.#received += 1;
    hold.queued = true;
    this.#queue.push({ hold, body });
    this.#pump();
    return true;
  }

  dropped(reason: OtlpDropReason): void {
    this.#dropped[reason] += 1;
  }

  /** Counts since the start and what is held now (for the server's metrics). */
  counts(): OtlpRelayCounts {
    return {
      received: this.#received,
      forwarded: this.#forwarded,
      dropped: { ...this.#dropped },
      queuedBodies: this.#queued,
      heldBytes: this.#held,
    };
  }

  /** Drops what is queued and ends the requests under way (the server is stopping). */
  close(): void {
    this.#closed = true;
    for (const { hold } of this.#queue.splice(0)) hold.release();
    for (const abort of [...this.#sending.values()]) abort();
    this.#agent.destroy();
  }

  /** Takes `bytes` for an environment's hold if both it and the server have room (see Hold). */
  take(environmentId: string, bytes: number): boolean {
    if (this.#closed) return false;
    const usage = this.#usageOf(environmentId);
    if (this.#held + bytes > this.#maxHeld || usage.bytes + bytes > this.#maxHeldEach) {
      if (usage.bytes <= 0 && usage.queued <= 0) this.#usage.delete(environmentId);
      return false;
    }
    usage.bytes += bytes;
    this.#held += bytes;
    return true;
  }

  /** Gives back what a hold had (and its place in the queue, if it had one). */
  give(environmentId: string, bytes: number, queued: boolean): void {
    this.#held -= bytes;
    if (queued) this.#queued -= 1;
    const usage = this.#usage.get(environmentId);
    if (usage !== undefined) {
      usage.bytes -= bytes;
      if (queued) usage.queued -= 1;
      if (usage.bytes <= 0 && usage.queued <= 0) this.#usage.delete(environmentId);
    }
    if (bytes > 0) this.#onReleased?.(bytes);
  }

  /** An environment's usage, made when it first holds something (removed once it holds nothing). */
  #usageOf(environmentId: string): Usage {
    let usage = this.#usage.get(environmentId);
    if (usage === undefined) {
      usage = { bytes: 0, queued: 0 };
      this.#usage.set(environmentId, usage);
    }
    return usage;
  }

  #pump(): void {
    while (!this.#closed && this.#sending.size < this.#concurrency) {
      const next = this.#queue.shift();
      if (next === undefined) return;
      this.#send(next);
    }
  }

  #send({ hold, body }: Queued): void {
    const url = this.#urls[body.signal];
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(url, {
      method: 'POST',
      agent: this.#agent,
      headers: {
        ...this.#headers,
        'Content-Type': OTLP_MEDIA_TYPES[body.format],
        'Content-Length': String(body.body.length),
        ...(body.gzipped ? { 'Content-Encoding': 'gzip' } : {}),
        'User-Agent': USER_AGENT,
      },
    });
    let settled = false;
    const settle = (outcome: 'forwarded' | 'rejected' | 'failed') => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      this.#sending.delete(request);
      hold.release();
      if (outcome === 'forwarded') this.#forwarded += 1;
      else if (!this.#closed) this.dropped(outcome);
      this.#pump();
    };
    const abort = () => {
      request.destroy();
      settle('failed');
    };
    this.#sending.set(request, abort);
    const deadline = setTimeout(abort, this.#timeoutMs);
    deadline.unref();
    let answered: 'forwarded' | 'rejected' | 'failed' | undefined;
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      const outcome = (answered =
        status >= 200 && status < 300
          ? 'forwarded'
          : status >= 400 && status < 500 && status !== 429
            ? 'rejected'
            : 'failed');
      // The answer is read to its end (and dropped), so the connection can be used again.
      response.on('end', () => settle(outcome));
      response.on('error', () => settle(outcome));
      response.on('close', () => settle(outcome));
      response.resume();
    });
    request.on('error', () => settle('failed'));
    request.on('close', () => settle(answered ?? 'failed'));
    request.end(body.body);
  }
}

/** A hold on the forwarder's room (see BodyHold). */
class Hold implements BodyHold {
  readonly environmentId: string;
  readonly #forwarder: OtlpForwarder;
  #bytes = 0;
  released = false;
  queued = false;

  constructor(forwarder: OtlpForwarder, environmentId: string) {
    this.#forwarder = forwarder;
    this.environmentId = environmentId;
  }

  grow(bytes: number): boolean {
    if (this.released || !this.#forwarder.take(this.environmentId, bytes)) return false;
    this.#bytes += bytes;
    return true;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.#forwarder.give(this.environmentId, this.#bytes, this.queued);
  }
}
