/**
 * A metric whose samples are computed when the registry is read, for prom-client's Registry:
 * Lamina keeps its figures in plain counters and bucket arrays (monitoring/live-metrics.ts) and
 * publishes them only at scrape time, instead of calling prom-client's labelled `inc`/`observe`
 * on every invoke. The registry formats and escapes them like its own metrics.
 */
import type { Metric, Registry } from 'prom-client';
import type { BucketCounts } from '../monitoring/bucket-counts.js';

export type MetricKind = 'counter' | 'gauge' | 'histogram';

export type Labels = Readonly<Record<string, string>>;

/** One line of the exposition: `metricName` (default: the metric's name), labels and value. */
export interface Sample {
  readonly metricName?: string;
  readonly labels: Labels;
  readonly value: number;
}

export class PublishedMetric {
  /** How prom-client's cluster aggregation would combine it (unused here; required shape). */
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricKind,
    readonly samples: () => readonly Sample[] | Promise<readonly Sample[]>,
  ) {}

  /** What the registry reads at each scrape. */
  async get(): Promise<{
    name: string;
    help: string;
    type: MetricKind;
    aggregator: string;
    values: readonly Sample[];
  }> {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: await this.samples(),
    };
  }

  /** The registry's resetMetrics() calls it; the figures belong to their sources. */
  reset(): void {}
}

/** Adds `metrics` to `registry` (which takes any object with prom-client's metric shape). */
export function registerAll(registry: Registry, metrics: readonly PublishedMetric[]): void {
  for (const metric of metrics) registry.registerMetric(metric as unknown as Metric);
}

/** The `_bucket`, `_sum` and `_count` lines of one histogram series. */
export function histogramSamples(name: string, labels: Labels, counts: BucketCounts): Sample[] {
  const cumulative = counts.cumulative();
  const out: Sample[] = counts.bounds.map((bound, i) => ({
    metricName: `${name}_bucket`,
    labels: { ...labels, le: String(bound) },
    value: cumulative[i] ?? 0,
  }));
  out.push(
    { metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: counts.count },
    { metricName: `${name}_sum`, labels, value: counts.sum },
    { metricName: `${name}_count`, labels, value: counts.count },
  );
  return out;
}
