/**
 * CloudWatch metrics under hostile input, against a server process: twenty thousand queries in
 * one GetMetricData, 500-deep dimension lists in both protocols, ranges from 1970 to 9999 and
 * absurd periods, forged NextTokens, malformed forms and JSON (bracket soup, bad keys), a body
 * over the limit, unknown operations — each answered with a bounded, AWS-shaped error (or, for
 * the absurd range over real data, an answer) while a victim function keeps its warm latency;
 * and against a server holding 15 days of a busy series, metric math of a thousand terms, hundreds
 * of expressions and reads of many percentiles over the whole 15 days.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../src/core/node-sha256.js';
import { prepareVictim, VICTIM_P99_LIMIT_MS, type Victim } from '../helpers/attack-harness.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { MAX_MATH_WORK, MAX_MINUTES_PER_REQUEST } from '../../src/api/cloudwatch-operations.js';
import { seriesKey } from '../../src/monitoring/lambda-metric-catalog.js';
import { MetricAggregate } from '../../src/monitoring/metric-aggregate.js';
import { METRIC_RETENTION_MS, MINUTE_MS } from '../../src/monitoring/metric-minutes.js';
import type { SeriesMinute } from '../../src/monitoring/metric-store.js';
import { openSqliteDatabase } from '../../src/store/sqlite-database.js';
import { SqliteMetricStore } from '../../src/store/sqlite-metric-store.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import { useServer } from '../helpers/server-suite.js';
import { sendInWorker, sendSigned, type PreparedRequest } from '../helpers/signed-requests.js';
import {
  startServer,
  tempDir,
  TEST_CREDENTIALS,
  type ServerProcess,
} from '../helpers/server-process.js';

/** Signs a CloudWatch request: JSON with its target, or a Query form. */
async function cloudWatchRequest(
  endpoint: string,
  body: string,
  operation?: string,
): Promise<PreparedRequest> {
  const url = new URL('/', endpoint);
  const bytes = Buffer.from(body);
  const headers: Record<string, string> =
    operation === undefined
      ? { host: url.host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }
      : {
          host: url.host,
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': `GraniteServiceVersion20100801.${operation}`,
          'x-amzn-query-mode': 'true',
        };
  const signed = await new SignatureV4({
    service: 'monitoring',
    region: 'us-east-1',
    credentials: TEST_CREDENTIALS,
    sha256: NodeSha256,
  }).sign(
    new HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      headers,
      body: bytes,
    }),
  );
  return { url: url.toString(), method: 'POST', headers: signed.headers, body: bytes };
}

const metricStat = (id: string, stat = 'Sum', extra: Record<string, unknown> = {}) => ({
  Id: id,
  MetricStat: {
    Metric: {
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      Dimensions: [{ Name: 'FunctionName', Value: 'victim' }],
    },
    Period: 60,
    Stat: stat,
  },
  ...extra,
});

describe('hostile CloudWatch requests against a server process', () => {
  const suite = useServer();
  let victim: Victim;

  before(async () => {
    victim = await prepareVictim(suite.client);
  });

  test('hostile requests get bounded, AWS-shaped answers while a victim keeps its latency', async () => {
    const endpoint = suite.server.endpoint;
    const json = (operation: string, value: unknown) =>
      cloudWatchRequest(endpoint, JSON.stringify(value), operation);
    const deepDimensions = Array.from({ length: 500 }, (_, i) => ({ Name: `d${i}`, Value: 'v' }));
    const deepForm =
      'Action=GetMetricStatistics&Version=2010-08-01&Namespace=AWS%2FLambda&MetricName=Duration&StartTime=2026-01-01T00%3A00%3A00Z&EndTime=2026-01-01T01%3A00%3A00Z&Period=60&Statistics.member.1=Sum&' +
      deepDimensions
        .map((_, i) => `Dimensions.member.${i + 1}.Name=d${i}&Dimensions.member.${i + 1}.Value=v`)
        .join('&');
    const range = { StartTime: 0, EndTime: 253_402_300_799 };
    // [what, request, status, text the answer holds]
    const cases: Array<[string, PreparedRequest, number, string]> = [
      [
        '20,000 queries',
        await json('GetMetricData', {
          ...range,
          MetricDataQueries: Array.from({ length: 20_000 }, (_, i) => ({ Id: `q${i}` })),
        }),
        400,
        'ValidationException',
      ],
      [
        '500 dimensions (JSON)',
        await json('GetMetricStatistics', {
          Namespace: 'AWS/Lambda',
          MetricName: 'Duration',
          Dimensions: deepDimensions,
          StartTime: 1_767_225_600,
          EndTime: 1_767_229_200,
          Period: 60,
          Statistics: ['Sum'],
        }),
        400,
        'ValidationException',
      ],
      [
        '500 dimensions (Query)',
        await cloudWatchRequest(endpoint, deepForm),
        400,
        '<Code>ValidationError</Code>',
      ],
      [
        '500 percentile queries from 1970 to 9999',
        await json('GetMetricData', {
          ...range,
          MetricDataQueries: Array.from({ length: 500 }, (_, i) => metricStat(`q${i}`, 'p99')),
        }),
        200,
        'MetricDataResults',
      ],
      [
        'statistics from 1970 to 9999 by minute',
        await json('GetMetricStatistics', {
          ...range,
          Namespace: 'AWS/Lambda',
          MetricName: 'Duration',
          Period: 60,
          Statistics: ['Sum'],
        }),
        400,
        'which exceeds the limit of 1440',
      ],
      [
        'a period of 10^15 seconds',
        await json('GetMetricData', {
          ...range,
          MetricDataQueries: [
            { ...metricStat('a'), MetricStat: { ...metricStat('a').MetricStat, Period: 1e15 } },
          ],
        }),
        400,
        'InvalidParameterValueException',
      ],
      [
        'a period of 30 digits',
        await json('GetMetricStatistics', {
          ...range,
          Namespace: 'AWS/Lambda',
          MetricName: 'Duration',
          Period: '999999999999999999999999999999',
          Statistics: ['Sum'],
        }),
        400,
        'InvalidParameterValueException',
      ],
      [
        'a forged GetMetricData token',
        await json('GetMetricData', {
          ...range,
          MetricDataQueries: [metricStat('a')],
          NextToken: 'eyJvZmZzZXQiOjEsInJlcXVlc3QiOiJ4In0',
        }),
        400,
        'InvalidNextToken',
      ],
      [
        'a GetMetricData token of garbage',
        await json('GetMetricData', {
          ...range,
          MetricDataQueries: [metricStat('a')],
          NextToken: '%%%/../\u0000',
        }),
        400,
        'InvalidNextToken',
      ],
      [
        'a forged ListMetrics token',
        await json('ListMetrics', { NextToken: Buffer.from('[1,2,3]').toString('base64url') }),
        400,
        'InvalidParameterValueException',
      ],
      [
        'an expression that names itself',
        await json('GetMetricData', {
          ...range,
          MetricDataQueries: [metricStat('a'), { Id: 'b', Expression: 'a + b' }],
        }),
        400,
        'refers to itself',
      ],
      [
        'an expression nested 1,000 deep',
        await json('GetMetricData', {
          ...range,
          MetricDataQueries: [
            metricStat('a'),
            { Id: 'b', Expression: `${'('.repeat(1000)}a${')'.repeat(1000)}` },
          ],
        }),
        400,
        'InvalidParameterValueException',
      ],
      [
        '600 KB of brackets',
        await cloudWatchRequest(
          endpoint,
          '['.repeat(300_000) + ']'.repeat(300_000),
          'GetMetricData',
        ),
        400,
        'SerializationException',
      ],
      [
        'JSON cut short',
        await cloudWatchRequest(endpoint, '{"MetricDataQueries":[', 'GetMetricData'),
        400,
        'SerializationException',
      ],
      [
        'JSON of the wrong type',
        await json('ListMetrics', { Namespace: 42, Dimensions: 'x' }),
        400,
        'SerializationException',
      ],
      [
        'a form list index of a billion',
        await cloudWatchRequest(
          endpoint,
          'Action=ListMetrics&Version=2010-08-01&Dimensions.member.1000000000.Name=x',
        ),
        400,
        '<Code>SerializationException</Code>',
      ],
      [
        'a form of bad keys and escapes',
        await cloudWatchRequest(
          endpoint,
          'Action=ListMetrics&Version=2010-08-01&%E0%A4%A=1&..member..=2&Dimensions.member.1=x&Dimensions.member.1.Name=y',
        ),
        400,
        '<Code>SerializationException</Code>',
      ],
      [
        'a body over the limit',
        await json('ListMetrics', { Namespace: 'x'.repeat(1_200_000) }),
        413,
        'RequestEntityTooLarge',
      ],
      ['an unknown operation', await json('PutMetricData', {}), 400, 'UnknownOperationException'],
      [
        'an unknown Query action',
        await cloudWatchRequest(endpoint, 'Action=DeleteAlarms&Version=2010-08-01'),
        400,
        '<Code>InvalidAction</Code>',
      ],
    ];
    // One round first, unmeasured: the server compiles its refusal paths once, not per attack.
    await sendInWorker(
      cases.map(([, request]) => request),
      1,
    );
    const rounds = 4;
    const { result, p99Ms, latenciesMs } = await victim.during(
      () =>
        sendInWorker(
          cases.map(([, request]) => request),
          rounds,
        ),
      100,
      { repeat: true },
    );
    assert.equal(result.length, rounds * cases.length);
    result.forEach((outcome, i) => {
      const [what, , status, text] = cases[i % cases.length] ?? ['?', undefined, 0, ''];
      assert.equal(outcome.status, status, `${what}: ${outcome.text}`);
      assert.ok(outcome.text.includes(text), `${what}: ${outcome.text}`);
    });
    assert.ok(
      p99Ms < VICTIM_P99_LIMIT_MS,
      `victim p99 ${p99Ms.toFixed(1)} ms over ${latenciesMs.length} invokes`,
    );
  });

  test('JSON errors carry the query code AWS clients read; Query errors are XML', async () => {
    const endpoint = suite.server.endpoint;
    const answer = await fetch(endpoint, await json400(endpoint));
    assert.equal(answer.status, 400);
    assert.match(answer.headers.get('content-type') ?? '', /^application\/x-amz-json-1\.0\b/);
    assert.equal(answer.headers.get('x-amzn-query-error'), 'InvalidParameterValue;Sender');
    assert.deepEqual(await answer.json(), {
      __type: 'com.amazonaws.cloudwatch#InvalidParameterValueException',
      message: 'The parameter StartTime must be less than the parameter EndTime.',
    });
    const xml = await sendSigned(
      await cloudWatchRequest(
        endpoint,
        'Action=GetMetricStatistics&Version=2010-08-01&Namespace=AWS%2FLambda&MetricName=Duration&StartTime=2026-01-01T00%3A00%3A00Z&EndTime=2026-01-01T00%3A00%3A00Z&Period=60&Statistics.member.1=Sum',
      ),
    );
    assert.equal(xml.status, 400);
    assert.match(
      xml.text,
      /^<ErrorResponse xmlns="http:\/\/monitoring\.amazonaws\.com\/doc\/2010-08-01\/"><Error><Type>Sender<\/Type><Code>InvalidParameterValue<\/Code><Message>The parameter StartTime must be less than the parameter EndTime\.<\/Message><\/Error><RequestId>[0-9a-f-]{36}<\/RequestId><\/ErrorResponse>$/,
    );
    // Labels are the caller's text: escaped in XML.
    const labelled = await sendSigned(
      await cloudWatchRequest(
        endpoint,
        'Action=GetMetricData&Version=2010-08-01&MetricDataQueries.member.1.Id=a&MetricDataQueries.member.1.Label=%3C%2FLabel%3E%3Cx%3E%26&MetricDataQueries.member.1.MetricStat.Metric.Namespace=AWS%2FLambda&MetricDataQueries.member.1.MetricStat.Metric.MetricName=Duration&MetricDataQueries.member.1.MetricStat.Period=60&MetricDataQueries.member.1.MetricStat.Stat=Sum&StartTime=2026-01-01T00%3A00%3A00Z&EndTime=2026-01-01T01%3A00%3A00Z',
      ),
    );
    assert.equal(labelled.status, 200);
    assert.ok(labelled.text.includes('<Label>&lt;/Label&gt;&lt;x&gt;&amp;</Label>'), labelled.text);
  });
});

async function json400(endpoint: string): Promise<RequestInit> {
  const request = await cloudWatchRequest(
    endpoint,
    JSON.stringify({
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      StartTime: 1_767_225_600,
      EndTime: 1_767_225_600,
      Period: 60,
      Statistics: ['Sum'],
    }),
    'GetMetricStatistics',
  );
  return { method: 'POST', headers: request.headers, body: request.body ?? null };
}

/** 15 days of one minute after another of a busy function's Duration and Invocations. */
async function fillFifteenDays(dataDir: string): Promise<number> {
  mkdirSync(dataDir, { recursive: true });
  const db = await openSqliteDatabase(join(dataDir, 'lamina.db'));
  try {
    const durations = new MetricAggregate();
    for (let i = 1; i <= 50; i += 1) durations.add(i * 7.5);
    const histogram = durations.histogram.encode();
    const ones = new MetricAggregate();
    ones.add(1);
    const dimensions = [{ name: 'FunctionName', value: 'busy' }];
    const nowMinute = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
    const minutes: SeriesMinute[] = [];
    for (let m = nowMinute - METRIC_RETENTION_MS + 5 * MINUTE_MS; m < nowMinute; m += MINUTE_MS)
      for (const [metric, figures] of [
        ['Duration', durations],
        ['Invocations', ones],
      ] as const)
        minutes.push({
          key: seriesKey(metric, dimensions),
          namespace: 'AWS/Lambda',
          metric,
          dimensions,
          minuteMs: m,
          batch: 1,
          count: figures.count,
          sum: figures.sum,
          min: figures.min,
          max: figures.max,
          histogram: metric === 'Duration' ? histogram : figures.histogram.encode(),
        });
    await new SqliteMetricStore(db).write(minutes);
    return minutes.length / 2;
  } finally {
    await db.destroy();
  }
}

describe('costly CloudWatch requests against a server holding 15 days of minutes', () => {
  const dir = tempDir();
  let server: ServerProcess;
  let client: LambdaClient;
  let victim: Victim;
  let minutesHeld = 0;

  before(async () => {
    const dataDir = join(dir.path, 'data');
    minutesHeld = await fillFifteenDays(dataDir);
    server = await startServer({ dataDir });
    client = lambdaClient(server.endpoint);
    victim = await prepareVictim(client);
  });

  after(async () => {
    client.destroy();
    await server.stop();
    dir.remove();
  });

  test('metric math and reads past their budgets are refused, not run, while a victim keeps its latency', async () => {
    const busy = (id: string, metric: string, stat: string) => ({
      Id: id,
      ReturnData: false,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: 'busy' }],
        },
        Period: 60,
        Stat: stat,
      },
    });
    const fifteenDays = {
      StartTime: Math.floor((Date.now() - METRIC_RETENTION_MS) / 1000),
      EndTime: Math.ceil(Date.now() / 1000) + 60,
      MaxDatapoints: 10,
    };
    const json = (value: unknown) =>
      cloudWatchRequest(server.endpoint, JSON.stringify(value), 'GetMetricData');
    const thousandTerms = Array.from({ length: 1000 }, () => 'm').join('+');
    const cases: Array<[string, PreparedRequest, number, string]> = [
      [
        'a thousand terms over 15 days by minute',
        await json({
          ...fifteenDays,
          MetricDataQueries: [
            busy('m', 'Invocations', 'Sum'),
            { Id: 'e', Expression: thousandTerms },
          ],
        }),
        400,
        `more than ${MAX_MATH_WORK} operations`,
      ],
      [
        '480 expressions of a thousand terms',
        await json({
          ...fifteenDays,
          MetricDataQueries: [
            busy('m', 'Invocations', 'Sum'),
            ...Array.from({ length: 480 }, (_, i) => ({ Id: `e${i}`, Expression: thousandTerms })),
          ],
        }),
        400,
        'InvalidParameterValueException',
      ],
      [
        '400 small expressions that add up',
        await json({
          ...fifteenDays,
          MetricDataQueries: [
            busy('m', 'Invocations', 'Sum'),
            ...Array.from({ length: 400 }, (_, i) => ({ Id: `e${i}`, Expression: 'm+m+m+m+m' })),
          ],
        }),
        400,
        `more than ${MAX_MATH_WORK} operations`,
      ],
      [
        'an expression within the budget',
        await json({
          ...fifteenDays,
          MetricDataQueries: [busy('m', 'Invocations', 'Sum'), { Id: 'e', Expression: 'm*2+1' }],
        }),
        200,
        'PartialData',
      ],
      [
        'five percentiles over 15 days by minute',
        await json({
          ...fifteenDays,
          MetricDataQueries: ['p50', 'p90', 'p99', 'p99.9', 'IQM'].map((stat, i) => ({
            ...busy(`p${i}`, 'Duration', stat),
            ReturnData: true,
          })),
        }),
        200,
        'PartialData',
      ],
      [
        'more percentiles over 15 days than a request may read',
        await json({
          ...fifteenDays,
          MetricDataQueries: Array.from(
            { length: Math.ceil(MAX_MINUTES_PER_REQUEST / minutesHeld) + 1 },
            (_, i) => ({ ...busy(`p${i}`, 'Duration', `p${i + 1}`), ReturnData: true }),
          ),
        }),
        400,
        'InvalidParameterCombinationException',
      ],
    ];
    await sendInWorker(
      cases.map(([, request]) => request),
      1,
    );
    const rounds = 2;
    const { result, p99Ms, latenciesMs } = await victim.during(
      () =>
        sendInWorker(
          cases.map(([, request]) => request),
          rounds,
        ),
      100,
      { repeat: true },
    );
    assert.equal(result.length, rounds * cases.length);
    result.forEach((outcome, i) => {
      const [what, , status, text] = cases[i % cases.length] ?? ['?', undefined, 0, ''];
      assert.equal(outcome.status, status, `${what}: ${outcome.text.slice(0, 300)}`);
      assert.ok(outcome.text.includes(text), `${what}: ${outcome.text.slice(0, 300)}`);
    });
    assert.ok(
      p99Ms < VICTIM_P99_LIMIT_MS,
      `victim p99 ${p99Ms.toFixed(1)} ms over ${latenciesMs.length} invokes`,
    );
  });
});
