/**
 * A real OTLP/HTTP receiver for tests (`--otlp-endpoint` points at it): it keeps every request,
 * reads the spans of OTLP/JSON trace exports, and can be told to answer with a status or to hang.
 * Waiting for a request or a span is event-driven (no polling).
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
} from 'node:http';

/** One span as OTLP/JSON carries it (ids in hex). */
export interface CollectedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly attributes?: ReadonlyArray<{
    readonly key: string;
    readonly value: Record<string, unknown>;
  }>;
  /** The request's resource attributes (service.name, …), flattened to strings. */
  readonly resource: Readonly<Record<string, string>>;
}

export interface CollectedRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly bytes: number;
  /** The body as sent (its first 8 MiB). */
  readonly body: Buffer;
}

interface ExportRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value: Record<string, unknown> }> };
    scopeSpans?: Array<{ spans?: Array<Omit<CollectedSpan, 'resource'>> }>;
  }>;
}

export class OtlpCollector {
  readonly requests: CollectedRequest[] = [];
  readonly spans: CollectedSpan[] = [];
  /** `{ status }` answers every request with it; `hang` reads it and never answers. */
  behaviour: { readonly status: number } | 'hang' = { status: 200 };
  readonly #server: Server;
  readonly #listeners = new Set<() => void>();
  readonly #hanging = new Set<IncomingMessage>();

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes <= 8 * 1024 * 1024) chunks.push(chunk);
      });
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        this.requests.push({ path: req.url ?? '', headers: req.headers, bytes, body });
        if (req.url === '/v1/traces' && req.headers['content-type'] === 'application/json')
          this.#readSpans(body);
        for (const listener of [...this.#listeners]) listener();
        const behaviour = this.behaviour;
        if (behaviour === 'hang') {
          this.#hanging.add(req);
          req.socket.once('close', () => this.#hanging.delete(req));
          return;
        }
        res.writeHead(behaviour.status, { 'Content-Type': 'application/json' }).end('{}');
      });
    });
  }

  /** Listens on a free loopback port; resolves with the base URL to give `--otlp-endpoint`. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return `http://127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Lets the requests it is hanging on go (closing their connections) and answers from now on. */
  release(): void {
    this.behaviour = { status: 200 };
    for (const req of this.#hanging) req.socket.destroy();
    this.#hanging.clear();
  }

  /** Resolves with the first span (seen or to come) that `matches`; rejects after `deadlineMs`. */
  span(matches: (span: CollectedSpan) => boolean, deadlineMs = 30_000): Promise<CollectedSpan> {
    return this.until(() => this.spans.find(matches), deadlineMs, 'span');
  }

  /** Resolves once `read` gives something (checked now and after every request). */
  until<T>(read: () => T | undefined, deadlineMs = 30_000, what = 'condition'): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const value = read();
        if (value === undefined) return;
        this.#listeners.delete(check);
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.#listeners.delete(check);
        reject(new Error(`the collector got no ${what} in ${deadlineMs} ms`));
      }, deadlineMs);
      this.#listeners.add(check);
      check();
    });
  }

  #readSpans(body: Buffer): void {
    let request: ExportRequest;
    try {
      request = JSON.parse(body.toString('utf8')) as ExportRequest;
    } catch {
      return;
    }
    for (const resourceSpans of request.resourceSpans ?? []) {
      const resource: Record<string, string> = {};
      for (const { key, value } of resourceSpans.resource?.attributes ?? [])
        resource[key] = String(Object.values(value)[0]);
      for (const scope of resourceSpans.scopeSpans ?? [])
        for (const span of scope.spans ?? []) this.spans.push({ ...span, resource });
    }
  }
}

/** The W3C trace id of an X-Ray header's Root (`1-5759e988-bd86…` → `5759e988bd86…`). */
export function traceIdOfXRay(header: string | undefined): string | undefined {
  const root = /(?:^|;)\s*Root=1-([0-9a-f]{8})-([0-9a-f]{24})\s*(?:;|$)/.exec(header ?? '');
  return root === null ? undefined : `${root[1]}${root[2]}`;
}

/** A field (`Parent`, `Sampled`) of an X-Ray header. */
export function xrayField(header: string | undefined, field: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, value] = part.split('=');
    if (key?.trim() === field) return value?.trim();
  }
  return undefined;
}
