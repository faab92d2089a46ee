/**
 * The gauges read from the platform at scrape time: concurrent executions (per function,
 * unreserved, the account limit), provisioned concurrency per version or alias, execution
 * environments by state, the memory they reserve, pre-started sandboxes, and the asynchronous
 * queue's depth.
 */
import type { PlatformGauges } from '../monitoring/platform-gauges.js';
import { PublishedMetric, type Sample } from './prometheus-metric.js';

const MiB = 1024 * 1024;

function one(value: number): Sample[] {
  return [{ labels: {}, value }];
}

/** Provisioned concurrency figures, one sample per version or alias. */
function provisioned(
  gauges: PlatformGauges,
  name: string,
  help: string,
  value: (p: ReturnType<PlatformGauges['provisioned']>[number]) => number,
): PublishedMetric {
  return new PublishedMetric(name, help, 'gauge', () =>
    gauges.provisioned().map((p) => ({
      labels: { function_name: p.functionName, resource: p.qualifier },
      value: value(p),
    })),
  );
}

export function platformMetrics(gauges: PlatformGauges): PublishedMetric[] {
  return [
    new PublishedMetric(
      'lamina_concurrent_executions',
      'Invocations of the function running now (Lambda: ConcurrentExecutions).',
      'gauge',
      () =>
        [...gauges.concurrency().byFunction].map(([functionName, value]) => ({
          labels: { function_name: functionName },
          value,
        })),
    ),
    new PublishedMetric(
      'lamina_unreserved_concurrent_executions',
      'Invocations running on the unreserved pool (Lambda: UnreservedConcurrentExecutions).',
      'gauge',
      () => one(gauges.concurrency().unreserved),
    ),
    new PublishedMetric(
      'lamina_account_concurrency_limit',
      "The account's concurrent executions limit.",
      'gauge',
      () => one(gauges.concurrency().accountLimit),
    ),
    provisioned(
      gauges,
      'lamina_provisioned_concurrency_requested',
      'Provisioned concurrency configured for the version or alias.',
      (p) => p.requested,
    ),
    provisioned(
      gauges,
      'lamina_provisioned_concurrency_allocated',
      'Initialised environments kept for the version or alias.',
      (p) => p.allocated,
    ),
    provisioned(
      gauges,
      'lamina_provisioned_concurrent_executions',
      'Provisioned environments running an invocation now (Lambda: ProvisionedConcurrentExecutions).',
      (p) => p.busy,
    ),
    provisioned(
      gauges,
      'lamina_provisioned_concurrency_utilization',
      'Busy provisioned environments over allocated ones, 0 to 1 (Lambda: ProvisionedConcurrencyUtilization).',
      (p) => (p.allocated > 0 ? p.busy / p.allocated : 0),
    ),
    new PublishedMetric(
      'lamina_environments',
      'Execution environments by state: starting (init), idle (warm), busy.',
      'gauge',
      () => {
        const e = gauges.environments();
        return [
          { labels: { state: 'starting' }, value: e.starting },
          { labels: { state: 'idle' }, value: e.idle },
          { labels: { state: 'busy' }, value: e.busy },
        ];
      },
    ),
    new PublishedMetric(
      'lamina_environment_memory_reserved_bytes',
      'MemorySize reserved by live and starting execution environments.',
      'gauge',
      () => one(gauges.environments().reservedMiB * MiB),
    ),
    new PublishedMetric(
      'lamina_environment_memory_capacity_bytes',
      'Memory all execution environments may reserve together (--environment-memory).',
      'gauge',
      () => one(gauges.environments().capacityMiB * MiB),
    ),
    new PublishedMetric(
      'lamina_prestarted_sandboxes',
      'Pre-started generic sandboxes waiting to be specialised, per runtime family.',
      'gauge',
      () =>
        gauges.prestarted().map((p) => ({ labels: { runtime_family: p.family }, value: p.ready })),
    ),
    new PublishedMetric(
      'lamina_prestarted_specialisations_total',
      'Cold starts served by specialising a pre-started sandbox, per runtime family.',
      'counter',
      () =>
        gauges.prestarted().map((p) => ({ labels: { runtime_family: p.family }, value: p.taken })),
    ),
    new PublishedMetric(
      'lamina_spans_exported_total',
      'Platform spans the OTLP collector accepted (--otlp-endpoint).',
      'counter',
      () => {
        const spans = gauges.watching().spans;
        return spans === undefined ? [] : one(spans.exported);
      },
    ),
    new PublishedMetric(
      'lamina_spans_dropped_total',
      'Platform spans dropped: the buffer was full, or the collector was slow, down or refused them.',
      'counter',
      () => {
        const spans = gauges.watching().spans;
        return spans === undefined ? [] : one(spans.dropped);
      },
    ),
    new PublishedMetric(
      'lamina_otlp_relay_bodies_total',
      "Bodies functions sent to their environment's OTLP endpoint, by what became of them.",
      'counter',
      () => {
        const relay = gauges.watching().otlpRelay;
        if (relay === undefined) return [];
        return [
          { labels: { outcome: 'forwarded' }, value: relay.forwarded },
          ...Object.entries(relay.dropped).map(([reason, value]) => ({
            labels: { outcome: `dropped_${reason}` },
            value,
          })),
        ];
      },
    ),
    new PublishedMetric(
      'lamina_invocation_records_dropped_total',
      'Invocation records not written (too many waiting, or the database refused them).',
      'counter',
      () => one(gauges.watching().recordsDropped),
    ),
    new PublishedMetric(
      'lamina_async_queue_depth',
      'Asynchronous events not finished: waiting (queued or retrying) and running.',
      'gauge',
      async () => {
        try {
          const queue = await gauges.asyncQueue();
          return [
            { labels: { state: 'waiting' }, value: queue.waiting },
            { labels: { state: 'running' }, value: queue.running },
          ];
        } catch {
          // The store is closing (the server stops): the scrape goes on without it.
          return [];
        }
      },
    ),
  ];
}
