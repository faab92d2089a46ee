/**
 * CloudWatch requests as clients send them: the AWS CLI's Query forms (the bodies CLI 2.9.19 was
 * recorded sending) and the SDK's JSON bodies decode to the same request; the model's bounds and
 * CloudWatch's rules are refused with AWS's codes and messages (recorded where AWS's are known);
 * metric math parses and evaluates the arithmetic subset and names what it refuses.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CloudWatchError } from '../../src/api/cloudwatch-errors.js';
import { decodeForm, decodeJson } from '../../src/api/cloudwatch-input.js';
import {
  getMetricDataRequest,
  getMetricStatisticsRequest,
  listMetricsRequest,
} from '../../src/api/cloudwatch-requests.js';
import {
  compileMath,
  evaluateMath,
  MathError,
  mathDatapoints,
  parseMathExpression,
} from '../../src/monitoring/metric-math.js';

const form = (body: string) => decodeForm(Buffer.from(body)).fields;
const json = (value: unknown) => decodeJson(Buffer.from(JSON.stringify(value)));

/** The CloudWatch error a call is refused with. */
function refusal(call: () => unknown): CloudWatchError {
  try {
    call();
  } catch (error) {
    assert.ok(error instanceof CloudWatchError, String(error));
    return error;
  }
  throw new Error('expected a CloudWatch error');
}

describe('decoding both protocols', () => {
  test("the CLI's GetMetricStatistics form and the SDK's JSON body are the same request", () => {
    const fromCli = getMetricStatisticsRequest(
      form(
        'Action=GetMetricStatistics&Version=2010-08-01&Namespace=AWS%2FLambda&MetricName=Invocations&Dimensions.member.1.Name=FunctionName&Dimensions.member.1.Value=fn&StartTime=2026-01-01T00%3A00%3A00Z&EndTime=2026-01-01T01%3A00%3A00Z&Period=300&Statistics.member.1=Sum&Statistics.member.2=Maximum',
      ),
    );
    const fromSdk = getMetricStatisticsRequest(
      json({
        Namespace: 'AWS/Lambda',
        MetricName: 'Invocations',
        StartTime: 1767225600,
        EndTime: 1767229200,
        Period: 300,
        Dimensions: [{ Name: 'FunctionName', Value: 'fn' }],
        Statistics: ['Sum', 'Maximum'],
      }),
    );
    assert.deepEqual(fromCli, fromSdk);
    assert.equal(fromCli.startMs, Date.UTC(2026, 0, 1));
    assert.deepEqual(
      fromCli.statistics.map((s) => s.name),
      ['Sum', 'Maximum'],
    );
  });

  test("the CLI's GetMetricData form: nested lists, ReturnData, an expression with a label", () => {
    const { action, fields } = decodeForm(
      Buffer.from(
        'Action=GetMetricData&Version=2010-08-01&MetricDataQueries.member.1.Id=inv&MetricDataQueries.member.1.MetricStat.Metric.Namespace=AWS%2FLambda&MetricDataQueries.member.1.MetricStat.Metric.MetricName=Invocations&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name=FunctionName&MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value=fn&MetricDataQueries.member.1.MetricStat.Period=60&MetricDataQueries.member.1.MetricStat.Stat=Sum&MetricDataQueries.member.1.ReturnData=true&MetricDataQueries.member.2.Id=err&MetricDataQueries.member.2.MetricStat.Metric.Namespace=AWS%2FLambda&MetricDataQueries.member.2.MetricStat.Metric.MetricName=Errors&MetricDataQueries.member.2.MetricStat.Metric.Dimensions.member.1.Name=FunctionName&MetricDataQueries.member.2.MetricStat.Metric.Dimensions.member.1.Value=fn&MetricDataQueries.member.2.MetricStat.Period=60&MetricDataQueries.member.2.MetricStat.Stat=Sum&MetricDataQueries.member.2.ReturnData=false&MetricDataQueries.member.3.Id=rate&MetricDataQueries.member.3.Expression=100%2Aerr%2Finv&MetricDataQueries.member.3.Label=error+rate&StartTime=2026-01-01T00%3A00%3A00Z&EndTime=2026-01-01T01%3A00%3A00Z&ScanBy=TimestampDescending',
      ),
    );
    assert.equal(action, 'GetMetricData');
    const request = getMetricDataRequest(fields);
    assert.deepEqual(
      request.queries.map((q) => [q.id, q.returnData, q.label, q.expression?.text]),
      [
        ['inv', true, undefined, undefined],
        ['err', false, undefined, undefined],
        ['rate', true, 'error rate', '100*err/inv'],
      ],
    );
    assert.deepEqual(request.queries[0]?.metricStat?.metric.dimensions, [
      { name: 'FunctionName', value: 'fn' },
    ]);
    assert.equal(request.scanBy, 'TimestampDescending');
    assert.equal(request.maxDatapoints, 100_800);
  });

  test('list members come in index order; ill-formed keys and bodies are refused', () => {
    const request = listMetricsRequest(
      form(
        'Dimensions.member.2.Name=Resource&Dimensions.member.1.Name=FunctionName&Dimensions.member.1.Value=f',
      ),
    );
    assert.deepEqual(request.dimensions, [
      { name: 'FunctionName', value: 'f' },
      { name: 'Resource', value: undefined },
    ]);
    for (const bad of [
      'Dimensions.member.0.Name=x',
      'Dimensions.member.x.Name=x',
      'Dimensions.member.1=x&Dimensions.member.1.Name=y',
      'A.B.C.D.E.F.G.H.I.J.K.L.M.N.O.P.Q=1',
      'Namespace=a&Namespace.Sub=b',
      '__proto__.polluted=1',
    ])
      assert.equal(refusal(() => form(bad)).code, 'SerializationException', bad);
    assert.equal(refusal(() => decodeJson(Buffer.from('{"a":'))).code, 'SerializationException');
    assert.equal(
      refusal(() => decodeJson(Buffer.from('['.repeat(100) + ']'.repeat(100)))).code,
      'SerializationException',
    );
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });
});

describe('GetMetricStatistics rules', () => {
  const base = {
    Namespace: 'AWS/Lambda',
    MetricName: 'Duration',
    StartTime: 1767225600,
    EndTime: 1767229200,
    Period: 60,
    Statistics: ['Average'],
  };

  test('StartTime not before EndTime: the recorded InvalidParameterValue', () => {
    const error = refusal(() =>
      getMetricStatisticsRequest(json({ ...base, EndTime: base.StartTime })),
    );
    assert.equal(error.code, 'InvalidParameterValue');
    assert.equal(error.message, 'The parameter StartTime must be less than the parameter EndTime.');
    assert.equal(error.shape, 'com.amazonaws.cloudwatch#InvalidParameterValueException');
  });

  test('periods: 45 is refused, 1 and 300 are taken', () => {
    assert.equal(
      refusal(() => getMetricStatisticsRequest(json({ ...base, Period: 45 }))).code,
      'InvalidParameterValue',
    );
    assert.equal(
      refusal(() => getMetricStatisticsRequest(json({ ...base, Period: 0 }))).code,
      'ValidationError',
    );
    assert.equal(getMetricStatisticsRequest(json({ ...base, Period: 1 })).periodSeconds, 1);
    assert.equal(getMetricStatisticsRequest(json({ ...base, Period: '300' })).periodSeconds, 300);
  });

  test('statistics: unknown names, neither kind, too many; percentiles taken', () => {
    assert.equal(
      refusal(() => getMetricStatisticsRequest(json({ ...base, Statistics: ['Median'] }))).code,
      'ValidationError',
    );
    const neither = refusal(() => getMetricStatisticsRequest(json({ ...base, Statistics: [] })));
    assert.equal(neither.code, 'InvalidParameterCombination');
    assert.equal(neither.message, 'Must specify either Statistics or ExtendedStatistics');
    assert.equal(
      refusal(() => getMetricStatisticsRequest(json({ ...base, Statistics: Array(6).fill('Sum') })))
        .code,
      'ValidationError',
    );
    assert.equal(
      refusal(() =>
        getMetricStatisticsRequest(
          json({ ...base, Statistics: undefined, ExtendedStatistics: ['p101'] }),
        ),
      ).code,
      'InvalidParameterValue',
    );
    const extended = getMetricStatisticsRequest(
      json({ ...base, Statistics: undefined, ExtendedStatistics: ['p99', 'p99.9', 'p50'] }),
    );
    assert.deepEqual(
      extended.extendedStatistics.map((s) => s.name),
      ['p99', 'p99.9', 'p50'],
    );
  });

  test('missing fields, long names, 31 dimensions, bad units and timestamps', () => {
    const missing = refusal(() =>
      getMetricStatisticsRequest(json({ ...base, Namespace: undefined })),
    );
    assert.equal(missing.code, 'MissingParameter');
    assert.equal(missing.shape, 'com.amazonaws.cloudwatch#MissingRequiredParameterException');
    assert.equal(
      refusal(() => getMetricStatisticsRequest(json({ ...base, MetricName: 'm'.repeat(256) })))
        .code,
      'ValidationError',
    );
    const dimensions = Array.from({ length: 31 }, (_, i) => ({ Name: `d${i}`, Value: 'v' }));
    const tooMany = refusal(() =>
      getMetricStatisticsRequest(json({ ...base, Dimensions: dimensions })),
    );
    assert.equal(tooMany.code, 'ValidationError');
    assert.match(tooMany.message, /^1 validation error detected: .*less than or equal to 30$/);
    assert.equal(
      refusal(() => getMetricStatisticsRequest(json({ ...base, Unit: 'Furlongs' }))).code,
      'ValidationError',
    );
    for (const StartTime of [
      'yesterday',
      '99999-01-01T00:00:00Z',
      -5,
      1e20,
      '2026-13-45T99:99:99Z',
    ])
      assert.equal(
        refusal(() => getMetricStatisticsRequest(json({ ...base, StartTime }))).code,
        'InvalidParameterValue',
        String(StartTime),
      );
    assert.equal(
      getMetricStatisticsRequest(json({ ...base, StartTime: '2026-01-01T00:00:00.500Z' })).startMs,
      Date.UTC(2026, 0, 1) + 500,
    );
  });
});

describe('GetMetricData rules', () => {
  const stat = (id: string, extra: Record<string, unknown> = {}) => ({
    Id: id,
    MetricStat: {
      Metric: { Namespace: 'AWS/Lambda', MetricName: 'Invocations' },
      Period: 60,
      Stat: 'Sum',
    },
    ...extra,
  });
  const request = (queries: unknown[], extra: Record<string, unknown> = {}) =>
    getMetricDataRequest(
      json({ MetricDataQueries: queries, StartTime: 1767225600, EndTime: 1767229200, ...extra }),
    );

  test('Ids: the pattern, duplicates; MetricStat and Expression are exclusive', () => {
    assert.equal(refusal(() => request([stat('Bad')])).code, 'InvalidParameterValue');
    assert.equal(refusal(() => request([stat('a'), stat('a')])).code, 'InvalidParameterValue');
    assert.equal(
      refusal(() => request([stat('a', { Expression: 'a*2' })])).code,
      'InvalidParameterCombination',
    );
    assert.equal(refusal(() => request([{ Id: 'a' }])).code, 'MissingParameter');
  });

  test('expressions: unknown Ids and functions are named; at least one query returns data', () => {
    const unknown = refusal(() => request([stat('a'), { Id: 'b', Expression: 'a/c' }]));
    assert.match(unknown.message, /Unrecognized identifier 'c'/);
    const fn = refusal(() => request([stat('a'), { Id: 'b', Expression: 'SUM(METRICS())' }]));
    assert.match(fn.message, /Error in expression 'b': The function SUM is not supported/);
    assert.equal(
      refusal(() => request([stat('a', { ReturnData: false })])).code,
      'InvalidParameterValue',
    );
  });

  test('501 queries, a bad ScanBy, MaxDatapoints below 1, a too-long NextToken', () => {
    const many = Array.from({ length: 501 }, (_, i) => stat(`q${i}`));
    assert.equal(refusal(() => request(many)).code, 'ValidationError');
    assert.equal(
      refusal(() => request([stat('a')], { ScanBy: 'Sideways' })).code,
      'ValidationError',
    );
    assert.equal(
      refusal(() => request([stat('a')], { MaxDatapoints: 0 })).code,
      'InvalidParameterValue',
    );
    assert.equal(
      refusal(() => request([stat('a')], { NextToken: 'x'.repeat(5000) })).code,
      'InvalidNextToken',
    );
    assert.equal(request([stat('a')], { MaxDatapoints: 10_000_000 }).maxDatapoints, 100_800);
  });
});

describe('ListMetrics rules', () => {
  test('RecentlyActive takes only PT3H; at most 10 dimension filters', () => {
    assert.equal(listMetricsRequest(json({ RecentlyActive: 'PT3H' })).recentlyActive, true);
    assert.equal(
      refusal(() => listMetricsRequest(json({ RecentlyActive: 'PT1H' }))).code,
      'ValidationError',
    );
    const filters = Array.from({ length: 11 }, () => ({ Name: 'FunctionName' }));
    assert.equal(
      refusal(() => listMetricsRequest(json({ Dimensions: filters }))).code,
      'ValidationError',
    );
  });
});

describe('metric math', () => {
  const series = (entries: Array<[number, number]>) => new Map(entries);
  const lookup = (values: Record<string, Map<number, number>>) => (id: string) =>
    values[id] ?? new Map<number, number>();

  test('arithmetic with precedence; series meet at common timestamps; division by zero drops', () => {
    const values = {
      err: series([
        [1, 1],
        [2, 0],
        [3, 2],
      ]),
      inv: series([
        [1, 4],
        [2, 0],
        [4, 9],
      ]),
    };
    assert.deepEqual(
      [...evaluateMath(parseMathExpression('100*err/inv'), lookup(values))],
      [[1, 25]],
    );
    assert.deepEqual(
      [...evaluateMath(parseMathExpression('-(err + 1) * 2 ^ 2'), lookup(values))],
      [
        [1, -8],
        [2, -4],
        [3, -12],
      ],
    );
  });

  test('one pass per timestamp gives what part-by-part evaluation gave', () => {
    const values = {
      a: series([
        [1, 2],
        [2, 0],
        [3, -1],
        [5, 4],
      ]),
      b: series([
        [1, 3],
        [2, 5],
        [3, 1],
        [4, 1],
      ]),
    };
    const at = (text: string) => [...evaluateMath(parseMathExpression(text), lookup(values))];
    // A part that is not finite leaves its timestamp out, whatever is done with it afterwards.
    assert.deepEqual(at('1/(b/a)'), [
      [1, 2 / 3],
      [3, -1],
    ]);
    assert.deepEqual(at('(a/0)*0 + b'), []);
    assert.deepEqual(at('a + 1/0'), []);
    // Numbers alone are worked out first; an Id repeated is one series.
    assert.deepEqual(at('a*(2^3-6) + a - a'), [
      [1, 4],
      [2, 0],
      [3, -2],
      [5, 8],
    ]);
    const compiled = compileMath(parseMathExpression('a + a + a'));
    assert.deepEqual(compiled.ids, ['a']);
    assert.equal(compiled.operations, 5);
    assert.equal(mathDatapoints([values.a, values.b]), 4);
  });

  test('what is refused: functions, a lone number, bad syntax, deep nesting', () => {
    for (const bad of [
      'FILL(a, 0)',
      'a +',
      '(a',
      'a b',
      '1 $ 2',
      '',
      '('.repeat(100) + 'a' + ')'.repeat(100),
    ])
      assert.throws(() => parseMathExpression(bad), MathError, bad);
    assert.throws(() => evaluateMath(parseMathExpression('1 + 2'), lookup({})), MathError);
  });
});
