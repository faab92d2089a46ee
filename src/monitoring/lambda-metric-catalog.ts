/**
 * The `AWS/Lambda` metrics Lamina publishes: their units, and the dimension sets each one is
 * published under (docs/guide/metrics.md has the table). A series is one metric under one set of
 * dimension values; its key is canonical (dimensions sorted by name), so a query names it however
 * its dimensions are ordered.
 */

export const LAMBDA_NAMESPACE = 'AWS/Lambda';

/** CloudWatch's units, as the metrics of this namespace use them. */
export type MetricUnit = 'Count' | 'Milliseconds' | 'None';

export const LAMBDA_METRIC_UNITS = {
  Invocations: 'Count',
  Errors: 'Count',
  Throttles: 'Count',
  Duration: 'Milliseconds',
  ConcurrentExecutions: 'Count',
  UnreservedConcurrentExecutions: 'Count',
  ProvisionedConcurrentExecutions: 'Count',
  ProvisionedConcurrencyInvocations: 'Count',
  ProvisionedConcurrencySpilloverInvocations: 'Count',
  ProvisionedConcurrencyUtilization: 'None',
  AsyncEventsReceived: 'Count',
  AsyncEventAge: 'Milliseconds',
  AsyncEventsDropped: 'Count',
  DestinationDeliveryFailures: 'Count',
  DeadLetterErrors: 'Count',
  IteratorAge: 'Milliseconds',
} as const satisfies Record<string, MetricUnit>;

export type LambdaMetricName = keyof typeof LAMBDA_METRIC_UNITS;

export interface Dimension {
  readonly name: string;
  readonly value: string;
}

/** One metric under one set of dimension values. */
export interface MetricSeries {
  readonly metric: string;
  /** In the order they are listed: FunctionName, Resource, ExecutedVersion. */
  readonly dimensions: readonly Dimension[];
}

/** The unit of a metric of the namespace, or undefined for a name it does not have. */
export function unitOf(metric: string): MetricUnit | undefined {
  return Object.hasOwn(LAMBDA_METRIC_UNITS, metric)
    ? LAMBDA_METRIC_UNITS[metric as LambdaMetricName]
    : undefined;
}

/** The canonical key of a series: the same for the same dimensions in any order. */
export function seriesKey(metric: string, dimensions: readonly Dimension[]): string {
  const sorted = [...dimensions].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return JSON.stringify([metric, ...sorted.map((d) => [d.name, d.value])]);
}

/**
 * The dimension sets an invocation's metrics go to: the whole account, the function, the resource
 * named (`<function>` unqualified, `<function>:<qualifier>` otherwise), and, when a qualifier was
 * named, the resource with the version that ran.
 */
export function invocationDimensionSets(
  functionName: string,
  qualifier: string | undefined,
  executedVersion: string | undefined,
): Dimension[][] {
  const resource = qualifier === undefined ? functionName : `${functionName}:${qualifier}`;
  const sets: Dimension[][] = [
    [],
    [{ name: 'FunctionName', value: functionName }],
    [
      { name: 'FunctionName', value: functionName },
      { name: 'Resource', value: resource },
    ],
  ];
  if (qualifier !== undefined && executedVersion !== undefined)
    sets.push([
      { name: 'FunctionName', value: functionName },
      { name: 'Resource', value: resource },
      { name: 'ExecutedVersion', value: executedVersion },
    ]);
  return sets;
}
