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
  #rendering: Promise<RenderedMetrics> | undefined;

  constructor(live: LiveMetrics, gauges: PlatformGauges) {
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
  }

  /** The exposition text of every metric now (concurrent callers share one rendering). */
  render(): Promise<RenderedMetrics> {
    this.#rendering ??= this.registry.metrics().then(
      (body) => {
        this.#rendering = undefined;
        return { contentType: this.registry.contentType, body };
      },
      (error: unknown) => {
        this.#rendering = undefined;
        throw error;
      },
    );
    return this.#rendering;
  }
}
