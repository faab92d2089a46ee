/**
 * GetMetricStatistics, GetMetricData and ListMetrics over the `AWS/Lambda` minutes: each reads the
 * minutes of the series a request names, rolls them up into its periods and answers in a shape
 * both protocols render (lists as arrays, timestamps as Dates, maps as Maps). Work per request is
 * bounded: a GetMetricData may read at most MAX_MINUTES_PER_REQUEST minutes (each distinct metric,
 * period and statistic counting the minutes its range covers) and evaluate at most
 * MAX_MATH_WORK operations × datapoints of metric math; reads fold a day of minutes at a time
 * straight into periods, and the event loop is given back between days, queries and expressions.
 */
import { createHash } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { LAMBDA_NAMESPACE, seriesKey, unitOf } from '../monitoring/lambda-metric-catalog.js';
import { statisticValue, type Statistic } from '../monitoring/metric-aggregate.js';
import {
  compileMath,
  MathError,
  mathDatapoints,
  mathTimestamps,
  type TimeSeries,
} from '../monitoring/metric-math.js';
import type { CatalogEntry, MetricReader } from '../monitoring/metric-minutes.js';
import { alignedStart, requestedDatapoints } from '../monitoring/metric-periods.js';
import { cloudWatchErrors } from './cloudwatch-errors.js';
import type {
  GetMetricDataRequest,
  GetMetricStatisticsRequest,
  ListMetricsRequest,
  MetricDataQueryRequest,
  MetricName,
} from './cloudwatch-requests.js';

/** An answer's fields: both protocols render it. */
export type Answer = Record<string, unknown>;

/** Most datapoints one GetMetricStatistics answers (CloudWatch's limit). */
const MAX_STATISTICS_DATAPOINTS = 1440;
/** Metrics per ListMetrics page. */
const LIST_PAGE = 500;
const RECENT_MS = 3 * 3_600_000;
/**
 * Most minutes one GetMetricData reads: each distinct metric, period and statistic counts the
 * minutes of its range within the 15 days kept (23 statistics over all 15 days, or 500 over 16
 * hours). Past it: InvalidParameterCombination.
 */
export const MAX_MINUTES_PER_REQUEST = 500_000;
/** Most metric-math work per request: operations in each expression × the datapoints it walks. */
export const MAX_MATH_WORK = 2_000_000;
/** Metric-math work between two turns of the event loop (a few milliseconds). */
const MATH_WORK_PER_TURN = 100_000;

export async function getMetricStatistics(
  reader: MetricReader,
  request: GetMetricStatisticsRequest,
): Promise<Answer> {
  const { metric, startMs, endMs, periodSeconds } = request;
  const asked = requestedDatapoints(startMs, endMs, periodSeconds);
  if (asked > MAX_STATISTICS_DATAPOINTS)
    throw cloudWatchErrors.invalidParameterCombination(
      `You have requested up to ${asked} datapoints, which exceeds the limit of ${MAX_STATISTICS_DATAPOINTS}. You may reduce the datapoints requested by increasing Period, or decreasing the time range.`,
    );
  const unit = unitOfRequested(metric, request.unit);
  const histograms = request.extendedStatistics.length > 0;
  const datapoints: Answer[] = [];
  if (unit !== undefined)
    await reader.fold(
      seriesKey(metric.metricName, metric.dimensions),
      { startMs, endMs, periodSeconds },
      histograms,
      ({ timestampMs, aggregate }) => {
        const datapoint: Answer = { Timestamp: new Date(timestampMs) };
        for (const { name, statistic } of request.statistics)
          datapoint[name] = statisticValue(aggregate, statistic);
        datapoint['Unit'] = unit;
        if (histograms) {
          const extended = new Map<string, number | undefined>();
          for (const { name, statistic } of request.extendedStatistics)
            extended.set(name, statisticValue(aggregate, statistic));
          datapoint['ExtendedStatistics'] = extended;
        }
        datapoints.push(datapoint);
      },
    );
  return { Label: metric.metricName, Datapoints: datapoints };
}

export async function getMetricData(
  reader: MetricReader,
  request: GetMetricDataRequest,
): Promise<Answer> {
  const fingerprint = fingerprintOf(request);
  const offset = request.nextToken === undefined ? 0 : offsetOf(request.nextToken, fingerprint);
  const values = await queryValues(reader, request);
  const labels = labelsOf(request.queries);
  const descending = request.scanBy === 'TimestampDescending';
  let skip = offset;
  let room = request.maxDatapoints;
  let consumed = offset;
  let more = false;
  const results: Answer[] = [];
  for (const query of request.queries) {
    if (!query.returnData) continue;
    const series = [...(values.get(query.id) ?? new Map<number, number>())].sort(([a], [b]) =>
      descending ? b - a : a - b,
    );
    const skipped = Math.min(skip, series.length);
    skip -= skipped;
    const page = series.slice(skipped, skipped + room);
    room -= page.length;
    consumed += page.length;
    const complete = skipped + page.length === series.length;
    if (!complete) more = true;
    results.push({
      Id: query.id,
      Label: labels.get(query.id),
      Timestamps: page.map(([t]) => new Date(t)),
      Values: page.map(([, v]) => v),
      StatusCode: complete ? 'Complete' : 'PartialData',
    });
    // Sorting tens of thousands of datapoints is work: the loop is given back between results.
    await yieldToLoop();
  }
  return {
    MetricDataResults: results,
    NextToken: more ? tokenOf(consumed, fingerprint) : undefined,
    Messages: [],
  };
}

export function listMetrics(reader: MetricReader, request: ListMetricsRequest): Answer {
  const after = request.nextToken === undefined ? undefined : listPositionOf(request.nextToken);
  const recentMs = reader.now() - RECENT_MS;
  const matching = reader
    .listSeries()
    .filter(
      (entry) =>
        entry.lastMinuteMs > -Infinity &&
        (request.namespace === undefined || request.namespace === entry.namespace) &&
        (request.metricName === undefined || request.metricName === entry.metric) &&
        (!request.recentlyActive || entry.lastMinuteMs >= recentMs) &&
        request.dimensions.every((filter) =>
          entry.dimensions.some(
            (d) =>
              d.name === filter.name && (filter.value === undefined || d.value === filter.value),
          ),
        ),
    )
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const from = after === undefined ? 0 : matching.findIndex((entry) => entry.key > after);
  const page = from < 0 ? [] : matching.slice(from, from + LIST_PAGE);
  const last = page.at(-1);
  const more = from >= 0 && from + LIST_PAGE < matching.length && last !== undefined;
  return {
    Metrics: page.map((entry: CatalogEntry) => ({
      Namespace: entry.namespace,
      MetricName: entry.metric,
      Dimensions: entry.dimensions.map((d) => ({ Name: d.name, Value: d.value })),
    })),
    NextToken: more
      ? Buffer.from(JSON.stringify({ after: last.key })).toString('base64url')
      : undefined,
  };
}

// ---- GetMetricData's parts ----

/** The metric queries that read the same series over the same periods: read once together. */
interface ReadGroup {
  readonly key: string;
  readonly periodSeconds: number;
  /** Each statistic asked of it, by name, and the queries that asked it. */
  readonly statistics: Map<string, { readonly statistic: Statistic; readonly ids: string[] }>;
}

/** The series of every query (ReturnData or not): metrics read, then expressions evaluated. */
async function queryValues(
  reader: MetricReader,
  request: GetMetricDataRequest,
): Promise<Map<string, TimeSeries>> {
  const values = new Map<string, TimeSeries>();
  const groups = readGroups(reader, request);
  for (const group of groups.values()) {
    const histograms = [...group.statistics.values()].some((s) => needsHistogram(s.statistic));
    const series = [...group.statistics.values()].map((s) => ({
      ...s,
      out: new Map<number, number>(),
    }));
    // Each period's statistics are taken as it completes; neither minutes nor periods are kept.
    await reader.fold(
      group.key,
      { startMs: request.startMs, endMs: request.endMs, periodSeconds: group.periodSeconds },
      histograms,
      ({ timestampMs, aggregate }) => {
        for (const { statistic, out } of series) {
          const value = statisticValue(aggregate, statistic);
          if (value !== undefined) out.set(timestampMs, value);
        }
      },
    );
    for (const { ids, out } of series) for (const id of ids) values.set(id, out);
    // A request may name 500 metrics: the loop is given back between them.
    await yieldToLoop();
  }
  for (const query of request.queries)
    if (query.metricStat !== undefined && !values.has(query.id)) values.set(query.id, new Map());
  await evaluateExpressions(request, values);
  return values;
}

/**
 * The request's metric queries grouped by what they read, refused when together they would read
 * more than MAX_MINUTES_PER_REQUEST minutes. Queries of no data (another namespace, a unit that
 * does not fit) are left out: they answer nothing.
 */
function readGroups(reader: MetricReader, request: GetMetricDataRequest): Map<string, ReadGroup> {
  const groups = new Map<string, ReadGroup>();
  let minutes = 0;
  for (const query of request.queries) {
    const stat = query.metricStat;
    if (stat === undefined || unitOfRequested(stat.metric, stat.unit) === undefined) continue;
    const key = seriesKey(stat.metric.metricName, stat.metric.dimensions);
    const groupKey = `${stat.periodSeconds}\n${key}`;
    let group = groups.get(groupKey);
    if (group === undefined) {
      group = { key, periodSeconds: stat.periodSeconds, statistics: new Map() };
      groups.set(groupKey, group);
    }
    const asked = group.statistics.get(stat.stat.name);
    if (asked !== undefined) {
      asked.ids.push(query.id);
      continue;
    }
    group.statistics.set(stat.stat.name, { statistic: stat.stat.statistic, ids: [query.id] });
    minutes += reader.minutesToRead(
      key,
      alignedStart(request.startMs, stat.periodSeconds),
      request.endMs,
    );
    if (minutes > MAX_MINUTES_PER_REQUEST)
      throw cloudWatchErrors.invalidParameterCombination(
        `The request reads more than ${MAX_MINUTES_PER_REQUEST} minutes of metric data (each distinct metric, period and statistic counts the minutes of its time range). Shorten the time range, or split the queries across requests.`,
      );
  }
  return groups;
}

/**
 * Evaluates every expression once the Ids it names are known, giving the event loop back after
 * each; refuses the request once their work (operations × datapoints) would pass MAX_MATH_WORK.
 */
async function evaluateExpressions(
  request: GetMetricDataRequest,
  values: Map<string, TimeSeries>,
): Promise<void> {
  const byId = new Map(request.queries.map((q) => [q.id, q]));
  const evaluating = new Set<string>();
  let work = 0;
  const valueOf = async (id: string): Promise<TimeSeries> => {
    const known = values.get(id);
    if (known !== undefined) return known;
    const query = byId.get(id);
    if (query?.expression === undefined) return new Map();
    if (evaluating.has(id))
      throw cloudWatchErrors.invalidParameterValue(
        `Error in expression '${id}': it refers to itself, through the Ids it names.`,
      );
    evaluating.add(id);
    const compiled = compileMath(query.expression.parsed);
    const inputs: TimeSeries[] = [];
    for (const ref of compiled.ids) inputs.push(await valueOf(ref));
    work += compiled.operations * mathDatapoints(inputs);
    if (work > MAX_MATH_WORK)
      throw cloudWatchErrors.invalidParameterValue(
        `Error in expression '${id}': the request's expressions take more than ${MAX_MATH_WORK} operations over their datapoints (terms in each expression × datapoints). Use shorter expressions, fewer datapoints (a longer period or a shorter time range), or split the queries across requests.`,
      );
    const result = new Map<number, number>();
    const timestamps = mathTimestamps(inputs);
    // A long expression over many datapoints is evaluated a slice at a time.
    const step = Math.max(1, Math.floor(MATH_WORK_PER_TURN / compiled.operations));
    for (let from = 0; from < timestamps.length || from === 0; from += step) {
      try {
        compiled.evaluateAt(inputs, timestamps.slice(from, from + step), result);
      } catch (error) {
        if (!(error instanceof MathError)) throw error;
        throw cloudWatchErrors.invalidParameterValue(
          `Error in expression '${id}': ${error.message}`,
        );
      }
      if (from + step < timestamps.length) await yieldToLoop();
    }
    evaluating.delete(id);
    values.set(id, result);
    await yieldToLoop();
    return result;
  };
  for (const query of request.queries) await valueOf(query.id);
}

/**
 * Each query's label: its own, or for a metric its name followed by the statistic and the period
 * when the request's metrics differ in them (`Invocations Sum 60`); an expression's is its Id.
 */
function labelsOf(queries: readonly MetricDataQueryRequest[]): Map<string, string> {
  const stats = queries.flatMap((q) => (q.metricStat === undefined ? [] : [q.metricStat]));
  const statsDiffer = new Set(stats.map((s) => s.stat.name)).size > 1;
  const periodsDiffer = new Set(stats.map((s) => s.periodSeconds)).size > 1;
  const labels = new Map<string, string>();
  for (const query of queries) {
    const stat = query.metricStat;
    let label = query.label;
    if (label === undefined && stat !== undefined) {
      label = stat.metric.metricName;
      if (statsDiffer) label += ` ${stat.stat.name}`;
      if (periodsDiffer) label += ` ${stat.periodSeconds}`;
    }
    labels.set(query.id, label ?? query.id);
  }
  return labels;
}

/** What a NextToken is bound to: the same queries over the same range, in the same order. */
function fingerprintOf(request: GetMetricDataRequest): string {
  const shape = JSON.stringify([
    request.startMs,
    request.endMs,
    request.scanBy,
    request.queries.map((q) => [
      q.id,
      q.returnData,
      q.expression?.text,
      q.metricStat === undefined
        ? undefined
        : [
            seriesKey(q.metricStat.metric.metricName, q.metricStat.metric.dimensions),
            q.metricStat.metric.namespace,
            q.metricStat.periodSeconds,
            q.metricStat.stat.name,
            q.metricStat.unit,
          ],
    ]),
  ]);
  return createHash('sha256').update(shape).digest('hex').slice(0, 16);
}

function tokenOf(offset: number, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ offset, request: fingerprint })).toString('base64url');
}

function offsetOf(token: string, fingerprint: string): number {
  const decoded = decodeToken(token);
  const offset = decoded?.['offset'];
  if (
    decoded?.['request'] !== fingerprint ||
    typeof offset !== 'number' ||
    !Number.isSafeInteger(offset) ||
    offset < 0
  )
    throw cloudWatchErrors.invalidNextToken('The NextToken is not valid for this request.');
  return offset;
}

function listPositionOf(token: string): string {
  const after = decodeToken(token)?.['after'];
  if (typeof after !== 'string')
    throw cloudWatchErrors.invalidParameterValue('The value of NextToken is not valid.');
  return after;
}

function decodeToken(token: string): Record<string, unknown> | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The unit of the metric a request names, if it has data here and the request's unit fits. */
function unitOfRequested(metric: MetricName, requested: string | undefined): string | undefined {
  if (metric.namespace !== LAMBDA_NAMESPACE) return undefined;
  const unit = unitOf(metric.metricName);
  if (unit === undefined || (requested !== undefined && requested !== unit)) return undefined;
  return unit;
}

function needsHistogram(statistic: Statistic): boolean {
  return statistic.kind === 'percentile' || statistic.kind === 'trimmedMean';
}
