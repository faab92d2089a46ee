/**
 * Lambda's metric set in Prometheus's names (`lamina_` prefix, `_total` counters, seconds and
 * bytes), per function and resource, read from LiveMetrics at scrape time: invocations, errors,
 * throttles, duration, cold starts and init duration, provisioned and spillover invocations,
 * the asynchronous queue's events, and event source mappings' batches and iterator age.
 */
import { INVOCATION_TRIGGERS } from '../core/invocation-report.js';
import type { FunctionSeries, LiveMetrics, MappingSeries } from '../monitoring/live-metrics.js';
import {
  histogramSamples,
  PublishedMetric,
  type Labels,
  type Sample,
} from './prometheus-metric.js';

const MiB = 1024 * 1024;

function labelsOf(series: FunctionSeries): Labels {
  return { function_name: series.functionName, resource: series.resource };
}

function mappingLabels(series: MappingSeries): Labels {
  return {
    function_name: series.functionName,
    resource: series.resource,
    event_source_mapping: series.mappingUuid,
    source: series.source,
  };
}

/** A counter or gauge with one sample per function series (`value` undefined: no sample). */
function perFunction(
  live: LiveMetrics,
  name: string,
  help: string,
  type: 'counter' | 'gauge',
  value: (series: FunctionSeries) => number | undefined,
): PublishedMetric {
  return new PublishedMetric(name, help, type, () => {
    const out: Sample[] = [];
    for (const series of live.functions()) {
      const v = value(series);
      if (v !== undefined) out.push({ labels: labelsOf(series), value: v });
    }
    return out;
  });
}

/** A histogram per function series, for the series that observed anything. */
function histogramPerFunction(
  live: LiveMetrics,
  name: string,
  help: string,
  counts: (series: FunctionSeries) => FunctionSeries['duration'],
): PublishedMetric {
  return new PublishedMetric(name, help, 'histogram', () => {
    const out: Sample[] = [];
    for (const series of live.functions()) {
      const histogram = counts(series);
      if (histogram.count > 0) out.push(...histogramSamples(name, labelsOf(series), histogram));
    }
    return out;
  });
}

function perMapping(
  live: LiveMetrics,
  name: string,
  help: string,
  type: 'counter' | 'gauge',
  samples: (series: MappingSeries, labels: Labels) => readonly Sample[],
): PublishedMetric {
  return new PublishedMetric(name, help, type, () => {
    const out: Sample[] = [];
    for (const series of live.mappings()) out.push(...samples(series, mappingLabels(series)));
    return out;
  });
}

/** Every metric LiveMetrics feeds. */
export function lambdaMetrics(live: LiveMetrics): PublishedMetric[] {
  return [
    new PublishedMetric(
      'lamina_invocations_total',
      'Invocations that ran or failed to start, by what started them (Lambda: Invocations).',
      'counter',
      () => {
        const out: Sample[] = [];
        for (const series of live.functions()) {
          const labels = labelsOf(series);
          INVOCATION_TRIGGERS.forEach((trigger, i) => {
            const value = series.invocations[i] ?? 0;
            if (value > 0) out.push({ labels: { ...labels, trigger }, value });
          });
        }
        return out;
      },
    ),
    perFunction(
      live,
      'lamina_invocation_errors_total',
      'Invocations that ended in a function error, a platform error or a timeout (Lambda: Errors).',
      'counter',
      (s) => s.errors,
    ),
    perFunction(
      live,
      'lamina_throttles_total',
      'Requests refused under the concurrency limits with 429 (Lambda: Throttles).',
      'counter',
      (s) => s.throttles,
    ),
    histogramPerFunction(
      live,
      'lamina_invocation_duration_seconds',
      'Time the function spent on an invocation, as its REPORT line says (Lambda: Duration).',
      (s) => s.duration,
    ),
    perFunction(
      live,
      'lamina_cold_starts_total',
      'Invocations that started a new execution environment.',
      'counter',
      (s) => s.coldStarts,
    ),
    histogramPerFunction(
      live,
      'lamina_init_duration_seconds',
      "Init duration of cold starts (the REPORT line's Init Duration).",
      (s) => s.initDuration,
    ),
    perFunction(
      live,
      'lamina_provisioned_concurrency_invocations_total',
      'Invocations that ran on provisioned concurrency (Lambda: ProvisionedConcurrencyInvocations).',
      'counter',
      (s) => s.provisionedInvocations,
    ),
    perFunction(
      live,
      'lamina_provisioned_concurrency_spillover_invocations_total',
      'Invocations of a version or alias with provisioned concurrency that ran on-demand (Lambda: ProvisionedConcurrencySpilloverInvocations).',
      'counter',
      (s) => s.spilloverInvocations,
    ),
    perFunction(
      live,
      'lamina_max_memory_used_bytes',
      'Max Memory Used of the latest invocation that reported it.',
      'gauge',
      (s) => (s.maxMemoryUsedMiB > 0 ? s.maxMemoryUsedMiB * MiB : undefined),
    ),
    perFunction(
      live,
      'lamina_async_events_received_total',
      'Events accepted into the asynchronous queue (Lambda: AsyncEventsReceived).',
      'counter',
      (s) => s.asyncReceived,
    ),
    histogramPerFunction(
      live,
      'lamina_async_event_age_seconds',
      'How long an asynchronous event had been queued when an attempt started (Lambda: AsyncEventAge).',
      (s) => s.asyncAge,
    ),
    new PublishedMetric(
      'lamina_async_events_dropped_total',
      'Asynchronous events finished without success, by reason (Lambda: AsyncEventsDropped).',
      'counter',
      () => {
        const out: Sample[] = [];
        for (const series of live.functions()) {
          const labels = labelsOf(series);
          out.push(
            {
              labels: { ...labels, reason: 'RetriesExhausted' },
              value: series.droppedRetriesExhausted,
            },
            {
              labels: { ...labels, reason: 'EventAgeExceeded' },
              value: series.droppedEventAgeExceeded,
            },
          );
        }
        return out;
      },
    ),
    perFunction(
      live,
      'lamina_destination_delivery_failures_total',
      'Invocation records that could not be sent to their destination (Lambda: DestinationDeliveryFailures).',
      'counter',
      (s) => s.destinationFailures,
    ),
    perFunction(
      live,
      'lamina_dead_letter_errors_total',
      'Events that could not be sent to their dead-letter target (Lambda: DeadLetterErrors).',
      'counter',
      (s) => s.deadLetterErrors,
    ),
    perMapping(
      live,
      'lamina_event_source_mapping_batches_total',
      'Batches an event source mapping invoked its function with, by outcome.',
      'counter',
      (s, labels) => [
        { labels: { ...labels, outcome: 'success' }, value: s.succeeded },
        { labels: { ...labels, outcome: 'error' }, value: s.failed },
      ],
    ),
    perMapping(
      live,
      'lamina_event_source_mapping_records_total',
      'Records in the batches an event source mapping invoked its function with.',
      'counter',
      (s, labels) => [{ labels, value: s.records }],
    ),
    perMapping(
      live,
      'lamina_event_source_mapping_iterator_age_seconds',
      'Age of the oldest record of the latest batch when it was invoked (Lambda: IteratorAge).',
      'gauge',
      (s, labels) =>
        s.iteratorAgeMs === undefined ? [] : [{ labels, value: s.iteratorAgeMs / 1000 }],
    ),
    new PublishedMetric(
      'lamina_metrics_series',
      'Function and mapping series the metrics keep (capped; more are folded into "_overflow").',
      'gauge',
      () => [{ labels: {}, value: live.cardinality().series }],
    ),
    new PublishedMetric(
      'lamina_metrics_overflow_total',
      'Observations folded into the "_overflow" series because the series cap was reached.',
      'counter',
      () => [{ labels: {}, value: live.cardinality().folded }],
    ),
  ];
}
