/**
 * The Prometheus registry of one Lamina server (its own, never prom-client's global one): the
 * Lambda metric set, the platform's gauges, and prom-client's process metrics (CPU, memory,
 * descriptors, event-loop lag, GC) once the server starts. Rendering reads every source then;
 * scrapes that arrive while one renders share its text.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { LiveMetrics } from '../monitoring/live-metrics.js';
import type { PlatformGauges } from '../monitoring/platform-gauges.js';
import { lambdaMetrics } from './prometheus-lambda-metrics.js';
import { registerAll } from './prometheus-metric.js';
import { platformMetrics } from './prometheus-platform-metrics.js';

/** A rendered scrape. */
export interface RenderedMetrics {
  readonly contentType: string;
  readonly body: string;
}

export class PrometheusMetrics {
  /** The registry; other parts may register their own prom-client metrics on it. */
  readonly registry: Registry = new Registry();
  #processMetrics = false;
  #last: { readonly atMs: number; readonly rendered: RenderedMetrics } | undefined;
  #rendering: Promise<RenderedMetrics> | undefined;

  /**
   * `reuseMs`: a rendering this recent is served again instead of rendering anew. A rendering at
   * the series cap holds the event loop for a few hundred milliseconds; scrapers that come
   * back-to-back (or several Prometheus servers) must not hold it once each.
   */
  constructor(
    live: LiveMetrics,
    gauges: PlatformGauges,
    private readonly reuse: { readonly ms: number; readonly now: () => number } = {
      ms: 1000,
      now: () => performance.now(),
    },
  ) {
    registerAll(this.registry, [...lambdaMetrics(live), ...platformMetrics(gauges)]);
  }

  /**
   * Adds the process metrics (`process_*`, `nodejs_*`, among them `nodejs_eventloop_lag_*`).
   * Their event-loop and GC monitors run from then on, so a server adds them when it starts, not
   * when it is built; once.
   */
  startProcessMetrics(): void {
    if (this.#processMetrics) return;
    this.#processMetrics = true;
    collectDefaultMetrics({ register: this.registry });
    this.#last = undefined;
  }

  /**
   * The exposition text of every metric now (concurrent callers share one rendering, and one
   * finished less than `reuse.ms` ago is served again).
   */
  render(): Promise<RenderedMetrics> {
    const last = this.#last;
    if (last !== undefined && this.reuse.now() - last.atMs < this.reuse.ms)
      return Promise.resolve(last.rendered);
    this.#rendering ??= this.registry.metrics().then(
      (body) => {
        this.#rendering = undefined;
        const rendered = { contentType: this.registry.contentType, body };
        this.#last = { atMs: this.reuse.now(), rendered };
        return rendered;
      },
      (error: unknown) => {
        this.#rendering = undefined;
        throw error;
      },
    );
    return this.#rendering;
  }
}
