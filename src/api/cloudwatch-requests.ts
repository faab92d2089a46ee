/**
 * The requests of GetMetricStatistics, GetMetricData and ListMetrics: read from the decoded fields
 * (either protocol) and checked against the service model's bounds and CloudWatch's rules
 * (periods, statistics, time ranges, Ids, MetricStat or Expression), with AWS's error codes.
 */
import type { Dimension } from '../monitoring/lambda-metric-catalog.js';
import {
  BASIC_STATISTICS,
  parseExtendedStatistic,
  parseStatistic,
  type Statistic,
} from '../monitoring/metric-aggregate.js';
import {
  MathError,
  parseMathExpression,
  referencedIds,
  type MathExpression,
} from '../monitoring/metric-math.js';
import { validPeriod } from '../monitoring/metric-periods.js';
import { cloudWatchErrors, constraintError } from './cloudwatch-errors.js';
import {
  booleanAt,
  integerAt,
  listAt,
  required,
  stringAt,
  structureAt,
  timestampAt,
  type Fields,
} from './cloudwatch-input.js';

export const STANDARD_UNITS = [
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
] as const;

/** Most dimensions a metric has (the model's bound). */
const MAX_DIMENSIONS = 30;
/** Most queries in one GetMetricData. */
export const MAX_QUERIES = 500;
/** Most datapoints GetMetricData answers per call (and its default MaxDatapoints). */
export const MAX_DATAPOINTS = 100_800;
/** Characters of metric math in one GetMetricData, all expressions together (each: 2,048). */
export const MAX_EXPRESSION_CHARS = 50_000;
/** Longest NextToken taken. */
const MAX_TOKEN_LENGTH = 4096;

/** A metric as a request names it. */
export interface MetricName {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: readonly Dimension[];
}

/** A statistic as asked for (its text is echoed back) and parsed. */
export interface NamedStatistic {
  readonly name: string;
  readonly statistic: Statistic;
}

export interface GetMetricStatisticsRequest {
  readonly metric: MetricName;
  readonly startMs: number;
  readonly endMs: number;
  readonly periodSeconds: number;
  readonly statistics: readonly NamedStatistic[];
  readonly extendedStatistics: readonly NamedStatistic[];
  readonly unit: string | undefined;
}

export interface MetricStatQuery {
  readonly metric: MetricName;
  readonly periodSeconds: number;
  readonly stat: NamedStatistic;
  readonly unit: string | undefined;
}

export interface MetricDataQueryRequest {
  readonly id: string;
  readonly label: string | undefined;
  readonly returnData: boolean;
  readonly metricStat: MetricStatQuery | undefined;
  readonly expression: { readonly text: string; readonly parsed: MathExpression } | undefined;
}

export interface GetMetricDataRequest {
  readonly queries: readonly MetricDataQueryRequest[];
  readonly startMs: number;
  readonly endMs: number;
  readonly scanBy: 'TimestampDescending' | 'TimestampAscending';
  readonly maxDatapoints: number;
  readonly nextToken: string | undefined;
}

export interface ListMetricsRequest {
  readonly namespace: string | undefined;
  readonly metricName: string | undefined;
  readonly dimensions: ReadonlyArray<{ readonly name: string; readonly value: string | undefined }>;
  readonly recentlyActive: boolean;
  readonly nextToken: string | undefined;
}

export function getMetricStatisticsRequest(fields: Fields): GetMetricStatisticsRequest {
  const metric = metricOf(fields, '');
  const startMs = required(timestampAt(fields['StartTime'], 'StartTime'), 'StartTime');
  const endMs = required(timestampAt(fields['EndTime'], 'EndTime'), 'EndTime');
  const periodSeconds = periodOf(fields['Period'], 'Period', true);
  const statistics = listAt(fields['Statistics'], 'statistics', 5).map((value, i) => {
    const name = required(
      stringAt(value, `Statistics.member.${i + 1}`),
      `Statistics.member.${i + 1}`,
    );
    if (!(BASIC_STATISTICS as readonly string[]).includes(name))
      throw constraintError(
        name,
        `statistics.${i + 1}.member`,
        `Member must satisfy enum value set: [${BASIC_STATISTICS.join(', ')}]`,
      );
    return { name, statistic: parseStatistic(name) as Statistic };
  });
  const extendedStatistics = listAt(fields['ExtendedStatistics'], 'extendedStatistics', 10).map(
    (value, i) => {
      const path = `ExtendedStatistics.member.${i + 1}`;
      const name = required(stringAt(value, path), path);
      const statistic = parseExtendedStatistic(name);
      if (statistic === undefined)
        throw cloudWatchErrors.invalidParameterValue(
          `The value ${name} for parameter ExtendedStatistics is not supported.`,
        );
      return { name, statistic };
    },
  );
  if (statistics.length === 0 && extendedStatistics.length === 0)
    throw cloudWatchErrors.invalidParameterCombination(
      'Must specify either Statistics or ExtendedStatistics',
    );
  const unit = unitOf(fields['Unit'], 'unit');
  checkRange(startMs, endMs);
  return { metric, startMs, endMs, periodSeconds, statistics, extendedStatistics, unit };
}

export function getMetricDataRequest(fields: Fields): GetMetricDataRequest {
  const list = listAt(fields['MetricDataQueries'], 'metricDataQueries', MAX_QUERIES);
  if (fields['MetricDataQueries'] === undefined)
    throw cloudWatchErrors.missingParameter('The parameter MetricDataQueries is required.');
  // Parsing is work in proportion to the text: bounded for the whole request before any is done.
  let expressionChars = 0;
  for (const value of list) {
    const text = (value as Fields | undefined)?.['Expression'];
    if (typeof text === 'string') expressionChars += text.length;
  }
  if (expressionChars > MAX_EXPRESSION_CHARS)
    throw cloudWatchErrors.invalidParameterValue(
      `The expressions of a request may hold at most ${MAX_EXPRESSION_CHARS} characters in all; these hold ${expressionChars}. Split the queries across requests.`,
    );
  const ids = new Set<string>();
  const queries = list.map((value, i) => {
    const query = queryOf(value, i + 1);
    if (ids.has(query.id))
      throw cloudWatchErrors.invalidParameterValue(
        `The value ${query.id} for parameter MetricDataQueries.member.${i + 1}.Id is already used by another query.`,
      );
    ids.add(query.id);
    return query;
  });
  for (const [i, query] of queries.entries()) {
    if (query.expression === undefined) continue;
    for (const id of referencedIds(query.expression.parsed))
      if (!ids.has(id))
        throw cloudWatchErrors.invalidParameterValue(
          `Error in expression '${query.id}': Unrecognized identifier '${id}' (MetricDataQueries.member.${i + 1}.Expression).`,
        );
  }
  if (!queries.some((q) => q.returnData))
    throw cloudWatchErrors.invalidParameterValue(
      'At least one of the MetricDataQueries must have ReturnData set to true.',
    );
  const startMs = required(timestampAt(fields['StartTime'], 'StartTime'), 'StartTime');
  const endMs = required(timestampAt(fields['EndTime'], 'EndTime'), 'EndTime');
  checkRange(startMs, endMs);
  const scanBy = stringAt(fields['ScanBy'], 'scanBy') ?? 'TimestampDescending';
  if (scanBy !== 'TimestampDescending' && scanBy !== 'TimestampAscending')
    throw constraintError(
      scanBy,
      'scanBy',
      'Member must satisfy enum value set: [TimestampDescending, TimestampAscending]',
    );
  const max = integerAt(fields['MaxDatapoints'], 'MaxDatapoints');
  if (max !== undefined && max < 1)
    throw cloudWatchErrors.invalidParameterValue(
      `The value ${max} for parameter MaxDatapoints must be greater than 0.`,
    );
  return {
    queries,
    startMs,
    endMs,
    scanBy,
    maxDatapoints: Math.min(max ?? MAX_DATAPOINTS, MAX_DATAPOINTS),
    nextToken: tokenOf(fields['NextToken']),
  };
}

export function listMetricsRequest(fields: Fields): ListMetricsRequest {
  const namespace = stringAt(fields['Namespace'], 'namespace', { min: 1, max: 255 });
  const metricName = stringAt(fields['MetricName'], 'metricName', { min: 1, max: 255 });
  const dimensions = listAt(fields['Dimensions'], 'dimensions', 10).map((value, i) => {
    const path = `Dimensions.member.${i + 1}`;
    const filter = required(structureAt(value, path), path);
    return {
      name: required(
        stringAt(filter['Name'], `${path}.Name`, { min: 1, max: 255 }),
        `${path}.Name`,
      ),
      value: stringAt(filter['Value'], `${path}.Value`, { min: 1, max: 1024 }),
    };
  });
  const recently = stringAt(fields['RecentlyActive'], 'recentlyActive');
  if (recently !== undefined && recently !== 'PT3H')
    throw constraintError(recently, 'recentlyActive', 'Member must satisfy enum value set: [PT3H]');
  return {
    namespace,
    metricName,
    dimensions,
    recentlyActive: recently === 'PT3H',
    nextToken: tokenOf(fields['NextToken']),
  };
}

// ---- parts ----

function queryOf(value: unknown, n: number): MetricDataQueryRequest {
  const path = `MetricDataQueries.member.${n}`;
  const query = required(structureAt(value, path), path);
  const id = required(stringAt(query['Id'], `${path}.Id`, { min: 1, max: 255 }), `${path}.Id`);
  if (!/^[a-z][a-zA-Z0-9_]*$/.test(id))
    throw cloudWatchErrors.invalidParameterValue(
      `The value ${id} for parameter ${path}.Id is not valid: it must start with a lowercase letter and hold only letters, digits and underscores.`,
    );
  const label = stringAt(query['Label'], `${path}.Label`, { max: 1024 });
  const returnData = booleanAt(query['ReturnData'], `${path}.ReturnData`) ?? true;
  const stat = structureAt(query['MetricStat'], `${path}.MetricStat`);
  const text = stringAt(query['Expression'], `${path}.Expression`, { min: 1, max: 2048 });
  if (stat !== undefined && text !== undefined)
    throw cloudWatchErrors.invalidParameterCombination(
      `The parameters ${path}.MetricStat and ${path}.Expression are mutually exclusive and you have specified both.`,
    );
  if (stat === undefined && text === undefined)
    throw cloudWatchErrors.missingParameter(
      `The parameter ${path}.MetricStat or ${path}.Expression is required.`,
    );
  if (text !== undefined) {
    let parsed: MathExpression;
    try {
      parsed = parseMathExpression(text);
    } catch (error) {
      if (!(error instanceof MathError)) throw error;
      throw cloudWatchErrors.invalidParameterValue(`Error in expression '${id}': ${error.message}`);
    }
    return { id, label, returnData, metricStat: undefined, expression: { text, parsed } };
  }
  const statFields = stat as Fields;
  const statPath = `${path}.MetricStat`;
  const metricFields = required(
    structureAt(statFields['Metric'], `${statPath}.Metric`),
    `${statPath}.Metric`,
  );
  const statName = required(stringAt(statFields['Stat'], `${statPath}.Stat`), `${statPath}.Stat`);
  const statistic = parseStatistic(statName);
  if (statistic === undefined)
    throw cloudWatchErrors.invalidParameterValue(
      `The value ${statName} for parameter ${statPath}.Stat is not supported.`,
    );
  return {
    id,
    label,
    returnData,
    expression: undefined,
    metricStat: {
      metric: metricOf(metricFields, `${statPath}.Metric.`),
      periodSeconds: periodOf(statFields['Period'], `${statPath}.Period`, true),
      stat: { name: statName, statistic },
      unit: unitOf(statFields['Unit'], `${statPath}.Unit`),
    },
  };
}

function metricOf(fields: Fields, prefix: string): MetricName {
  const namespace = required(
    stringAt(fields['Namespace'], `${prefix}Namespace`, { min: 1, max: 255 }),
    `${prefix}Namespace`,
  );
  if (namespace.startsWith(':'))
    throw constraintError(
      namespace,
      `${prefix}Namespace`,
      'Member must satisfy regular expression pattern: [^:].*',
    );
  const metricName = required(
    stringAt(fields['MetricName'], `${prefix}MetricName`, { min: 1, max: 255 }),
    `${prefix}MetricName`,
  );
  const dimensions = listAt(fields['Dimensions'], `${prefix}Dimensions`, MAX_DIMENSIONS).map(
    (value, i) => {
      const path = `${prefix}Dimensions.member.${i + 1}`;
      const dimension = required(structureAt(value, path), path);
      return {
        name: required(
          stringAt(dimension['Name'], `${path}.Name`, { min: 1, max: 255 }),
          `${path}.Name`,
        ),
        value: required(
          stringAt(dimension['Value'], `${path}.Value`, { min: 1, max: 1024 }),
          `${path}.Value`,
        ),
      };
    },
  );
  return { namespace, metricName, dimensions };
}

function periodOf(value: unknown, path: string, needed: boolean): number {
  const period = integerAt(value, path);
  if (period === undefined) {
    if (needed) throw cloudWatchErrors.missingParameter(`The parameter ${path} is required.`);
    return 60;
  }
  if (period < 1)
    throw constraintError(period, path, 'Member must have value greater than or equal to 1');
  if (!validPeriod(period))
    throw cloudWatchErrors.invalidParameterValue(
      `The parameter ${path} must be a multiple of 60, or 1, 5, 10 or 30.`,
    );
  return period;
}

function unitOf(value: unknown, path: string): string | undefined {
  const unit = stringAt(value, path);
  if (unit !== undefined && !(STANDARD_UNITS as readonly string[]).includes(unit))
    throw constraintError(
      unit,
      path,
      `Member must satisfy enum value set: [${STANDARD_UNITS.join(', ')}]`,
    );
  return unit;
}

function tokenOf(value: unknown): string | undefined {
  const token = stringAt(value, 'NextToken');
  if (token !== undefined && (token.length === 0 || token.length > MAX_TOKEN_LENGTH))
    throw cloudWatchErrors.invalidNextToken('The NextToken is not valid.');
  return token;
}

function checkRange(startMs: number, endMs: number): void {
  if (startMs >= endMs)
    throw cloudWatchErrors.invalidParameterValue(
      'The parameter StartTime must be less than the parameter EndTime.',
    );
}
