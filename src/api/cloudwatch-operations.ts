/**
 * GetMetricStatistics, GetMetricData and ListMetrics over the `AWS/Lambda` minutes: each reads the
 * minutes of the series a request names, rolls them up into its periods and answers in a shape
 * both protocols render (lists as arrays, timestamps as Dates, maps as Maps). Work per request is
 * bounded by the data kept (15 days of minutes per series) and the request's own bounds, and the
 * event loop is given back between the queries of a GetMetricData.
 */
import { createHash } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { LAMBDA_NAMESPACE, seriesKey, unitOf } from '../monitoring/lambda-metric-catalog.js';
import {
  statisticValue,
  type MetricAggregate,
  type Statistic,
} from '../monitoring/metric-aggregate.js';
import { evaluateMath, MathError, type TimeSeries } from '../monitoring/metric-math.js';
import type { CatalogEntry, MetricReader } from '../monitoring/metric-minutes.js';
import { alignedStart, requestedDatapoints, rollUp } from '../monitoring/metric-periods.js';
import { cloudWatchErrors } from './cloudwatch-errors.js';
import type {
  GetMetricDataRequest,
  GetMetricStatisticsRequest,
  ListMetricsRequest,
  MetricDataQueryRequest,
  MetricName,
  MetricStatQuery,
} from './cloudwatch-requests.js';

/** An answer's fields: both protocols render it. */
export type Answer = Record<string, unknown>;

/** Most datapoints one GetMetricStatistics answers (CloudWatch's limit). */
const MAX_STATISTICS_DATAPOINTS = 1440;
/** Metrics per ListMetrics page. */
const LIST_PAGE = 500;
const RECENT_MS = 3 * 3_600_000;

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
  if (unit !== undefined) {
    const minutes = await reader.minutes(
      seriesKey(metric.metricName, metric.dimensions),
      alignedStart(startMs, periodSeconds),
      endMs,
      histograms,
    );
    for (const { timestampMs, aggregate } of rollUp(
      minutes,
      startMs,
      endMs,
      periodSeconds,
      histograms,
    )) {
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
    }
  }
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

/** The series of every query (ReturnData or not): metrics read, then expressions evaluated. */
async function queryValues(
  reader: MetricReader,
  request: GetMetricDataRequest,
): Promise<Map<string, TimeSeries>> {
  const values = new Map<string, TimeSeries>();
  const read = new Map<string, Map<number, MetricAggregate>>();
  for (const query of request.queries) {
    if (query.metricStat === undefined) continue;
    values.set(query.id, await statValues(reader, query.metricStat, request, read));
    // A request may name 500 metrics: the loop is given back between them.
    await yieldToLoop();
  }
  const byId = new Map(request.queries.map((q) => [q.id, q]));
  const evaluating = new Set<string>();
  const valueOf = (id: string): TimeSeries => {
    const known = values.get(id);
    if (known !== undefined) return known;
    const query = byId.get(id);
    if (query?.expression === undefined) return new Map();
    if (evaluating.has(id))
      throw cloudWatchErrors.invalidParameterValue(
        `Error in expression '${id}': it refers to itself, through the Ids it names.`,
      );
    evaluating.add(id);
    let result: TimeSeries;
    try {
      result = evaluateMath(query.expression.parsed, valueOf);
    } catch (error) {
      if (!(error instanceof MathError)) throw error;
      throw cloudWatchErrors.invalidParameterValue(`Error in expression '${id}': ${error.message}`);
    }
    evaluating.delete(id);
    values.set(id, result);
    return result;
  };
  for (const query of request.queries) valueOf(query.id);
  return values;
}

async function statValues(
  reader: MetricReader,
  stat: MetricStatQuery,
  request: GetMetricDataRequest,
  read: Map<string, Map<number, MetricAggregate>>,
): Promise<TimeSeries> {
  const out = new Map<number, number>();
  if (unitOfRequested(stat.metric, stat.unit) === undefined) return out;
  const histograms = needsHistogram(stat.stat.statistic);
  const from = alignedStart(request.startMs, stat.periodSeconds);
  const key = seriesKey(stat.metric.metricName, stat.metric.dimensions);
  // The same series is read once per request, however many queries name it.
  const cacheKey = `${key}\n${from}\n${histograms}`;
  let minutes = read.get(cacheKey);
  if (minutes === undefined) {
    minutes = await reader.minutes(key, from, request.endMs, histograms);
    read.set(cacheKey, minutes);
  }
  for (const { timestampMs, aggregate } of rollUp(
    minutes,
    request.startMs,
    request.endMs,
    stat.periodSeconds,
    histograms,
  )) {
    const value = statisticValue(aggregate, stat.stat.statistic);
    if (value !== undefined) out.set(timestampMs, value);
  }
  return out;
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
