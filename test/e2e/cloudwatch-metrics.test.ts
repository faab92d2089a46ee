/**
 * CloudWatch metrics for Lambda, end to end: a real server (in this process, on a controllable
 * clock) runs a function that succeeds, fails, times out and is throttled, directly, through an
 * alias and a version; then the real AWS CLI v2 (Query protocol) and the AWS SDK for JavaScript v3
 * (JSON protocol) read `AWS/Lambda` back and get what AWS would answer for that traffic:
 * Invocations, Errors, Throttles, Duration (Average, Maximum, p99, against the REPORT lines),
 * per function, resource and executed version; GetMetricData with a metric math expression;
 * ListMetrics; CloudWatch's errors in both protocols; IAM users without the rights refused; and
 * nothing older than 15 days.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  CloudWatchClient,
  GetMetricDataCommand,
  GetMetricStatisticsCommand,
  ListMetricsCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import {
  CreateAliasCommand,
  DeleteFunctionConcurrencyCommand,
  InvokeCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
} from '@aws-sdk/client-lambda';
import { awsCommand } from '../helpers/aws-cli.js';
import { deploy, invokeJson } from '../helpers/functions.js';
import { useInProcessServer } from '../helpers/in-process-server.js';
import { failureOf } from '../helpers/lambda-client.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { tempDir, TEST_CREDENTIALS } from '../helpers/server-process.js';

const F = 'metered';
const HANDLER = `
export const handler = async (event) => {
  if (event.fail) throw new Error('failing on purpose');
  if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
  return { ok: true };
};
`;

interface Keys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

describe('CloudWatch metrics of Lambda invocations', () => {
  const clock = new ManualClock();
  const suite = useInProcessServer({ logLevel: 'warn' }, clock);
  const home = tempDir();
  /** Durations from the REPORT lines of the function's invocations (ms). */
  const durations: number[] = [];
  /** A range holding every invocation of the test, in one period. */
  let startIso = '';
  let endIso = '';
  let startSeconds = 0;
  let endSeconds = 0;

  // Clients sign with the server's (moved) time, as one with a correct clock would.
  const cloudWatch = (keys: Keys = TEST_CREDENTIALS) =>
    new CloudWatchClient({
      endpoint: suite.server.endpoint,
      region: 'us-east-1',
      credentials: keys,
      maxAttempts: 1,
      systemClockOffset: clock.now() - Date.now(),
    });
  const cli = async (args: string[], keys: Keys = TEST_CREDENTIALS) => {
    const result = await awsCommand(suite.server.endpoint, home.path, ['cloudwatch', ...args], {
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    });
    return result;
  };
  const cliJson = async (args: string[]) => {
    const result = await cli(args);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };
  const statistics = async (metric: string, dimensions: string[], stats: string[]) =>
    cliJson([
      'get-metric-statistics',
      '--namespace',
      'AWS/Lambda',
      '--metric-name',
      metric,
      ...(dimensions.length === 0 ? [] : ['--dimensions', ...dimensions]),
      '--start-time',
      startIso,
      '--end-time',
      endIso,
      '--period',
      String(endSeconds - startSeconds),
      ...stats,
    ]);
  /** The only datapoint's field (every invocation falls in the one period). */
  const single = (answer: Record<string, unknown>, field: string): unknown => {
    const datapoints = answer['Datapoints'] as Array<Record<string, unknown>>;
    assert.equal(datapoints.length, 1, JSON.stringify(answer));
    return (datapoints[0] as Record<string, unknown>)[field];
  };

  const invoke = async (payload: unknown, qualifier?: string) => {
    const output = await suite.client.send(
      new InvokeCommand({
        FunctionName: F,
        Qualifier: qualifier,
        Payload: Buffer.from(JSON.stringify(payload)),
        LogType: 'Tail',
      }),
    );
    const log = Buffer.from(output.LogResult ?? '', 'base64').toString('utf8');
    const duration = /REPORT RequestId: \S+\tDuration: ([\d.]+) ms/.exec(log)?.[1];
    assert.ok(duration !== undefined, `a REPORT line in ${log}`);
    durations.push(Number(duration));
    return output;
  };

  before(async () => {
    const hour = 3_600_000;
    const start = Math.floor(clock.now() / hour) * hour - hour;
    startSeconds = start / 1000;
    endSeconds = startSeconds + 3 * 3600;
    startIso = new Date(start).toISOString();
    endIso = new Date(endSeconds * 1000).toISOString();

    await deploy(suite.client, F, { 'index.mjs': HANDLER }, { timeout: 1 });
    for (let i = 0; i < 3; i += 1) await invoke({});
    assert.equal((await invoke({ fail: true })).FunctionError, 'Unhandled');
    assert.equal((await invoke({ sleepMs: 3000 })).FunctionError, 'Unhandled');
    await suite.client.send(new PublishVersionCommand({ FunctionName: F }));
    await suite.client.send(
      new CreateAliasCommand({ FunctionName: F, Name: 'live', FunctionVersion: '1' }),
    );
    await invoke({}, 'live');
    await invoke({}, 'live');
    await invoke({}, '1');
    await suite.client.send(
      new PutFunctionConcurrencyCommand({ FunctionName: F, ReservedConcurrentExecutions: 0 }),
    );
    const throttled = await failureOf(invokeJson(suite.client, F, {}));
    assert.equal(throttled.name, 'TooManyRequestsException');
    await suite.client.send(new DeleteFunctionConcurrencyCommand({ FunctionName: F }));
  });

  test('get-metric-statistics: Invocations, Errors and Throttles as AWS counts them', async () => {
    const byFunction = [`Name=FunctionName,Value=${F}`];
    const sum = ['--statistics', 'Sum'];
    const invocations = await statistics('Invocations', byFunction, sum);
    assert.equal(invocations['Label'], 'Invocations');
    assert.equal(single(invocations, 'Sum'), 8, 'the throttled request is no invocation');
    assert.equal(single(invocations, 'Unit'), 'Count');
    assert.equal(
      single(await statistics('Errors', byFunction, sum), 'Sum'),
      2,
      'the error and the timeout',
    );
    assert.equal(single(await statistics('Throttles', byFunction, sum), 'Sum'), 1);
    assert.equal(single(await statistics('Invocations', [], sum), 'Sum'), 8, 'the whole account');
    const resource = (value: string) => [...byFunction, `Name=Resource,Value=${value}`];
    assert.equal(single(await statistics('Invocations', resource(F), sum), 'Sum'), 5);
    assert.equal(single(await statistics('Invocations', resource(`${F}:live`), sum), 'Sum'), 2);
    assert.equal(single(await statistics('Invocations', resource(`${F}:1`), sum), 'Sum'), 1);
    const executed = [...resource(`${F}:live`), 'Name=ExecutedVersion,Value=1'];
    assert.equal(single(await statistics('Invocations', executed, sum), 'Sum'), 2);
    // A combination never published has no data, as on AWS.
    const none = await statistics('Invocations', [`Name=Resource,Value=${F}:live`], sum);
    assert.deepEqual(none['Datapoints'], []);
  });

  test('get-metric-statistics: Duration Average, Maximum and p99 agree with the REPORT lines', async () => {
    const answer = await statistics(
      'Duration',
      [`Name=FunctionName,Value=${F}`],
      ['--statistics', 'Average', 'Maximum', 'SampleCount', '--extended-statistics', 'p99', 'p50'],
    );
    assert.equal(durations.length, 8);
    const mean = durations.reduce((a, b) => a + b, 0) / durations.length;
    const max = Math.max(...durations);
    assert.equal(single(answer, 'SampleCount'), 8);
    // REPORT lines print two decimals.
    assert.ok(Math.abs((single(answer, 'Average') as number) - mean) < 0.01);
    assert.ok(Math.abs((single(answer, 'Maximum') as number) - max) < 0.01);
    assert.ok(max >= 1000, 'the timed-out invocation ran for its whole timeout');
    assert.equal(single(answer, 'Unit'), 'Milliseconds');
    const extended = single(answer, 'ExtendedStatistics') as Record<string, number>;
    assert.ok(Math.abs((extended['p99'] ?? NaN) - max) < 0.01, 'p99 of 8 is the slowest');
    const sorted = [...durations].sort((a, b) => a - b);
    const median = sorted[3] as number;
    assert.ok(Math.abs((extended['p50'] ?? NaN) - median) <= median * 0.01 + 0.01);
  });

  test('get-metric-data: per-minute sums, an error-rate expression, labels', async () => {
    const queries = [
      {
        Id: 'inv',
        MetricStat: {
          Metric: {
            Namespace: 'AWS/Lambda',
            MetricName: 'Invocations',
            Dimensions: [{ Name: 'FunctionName', Value: F }],
          },
          Period: 60,
          Stat: 'Sum',
        },
      },
      {
        Id: 'err',
        MetricStat: {
          Metric: {
            Namespace: 'AWS/Lambda',
            MetricName: 'Errors',
            Dimensions: [{ Name: 'FunctionName', Value: F }],
          },
          Period: 60,
          Stat: 'Sum',
        },
        ReturnData: false,
      },
      { Id: 'rate', Expression: '100*err/inv', Label: 'error rate' },
    ];
    const answer = await cliJson([
      'get-metric-data',
      '--metric-data-queries',
      JSON.stringify(queries),
      '--start-time',
      startIso,
      '--end-time',
      endIso,
      '--scan-by',
      'TimestampAscending',
    ]);
    const results = answer['MetricDataResults'] as Array<Record<string, unknown>>;
    assert.deepEqual(
      results.map((r) => [r['Id'], r['Label'], r['StatusCode']]),
      [
        ['inv', 'Invocations', 'Complete'],
        ['rate', 'error rate', 'Complete'],
      ],
    );
    const inv = results[0] as { Values: number[]; Timestamps: string[] };
    assert.equal(
      inv.Values.reduce((a, b) => a + b, 0),
      8,
    );
    assert.equal(inv.Values.length, inv.Timestamps.length);
    const stamps = inv.Timestamps.map((t) => Date.parse(t));
    assert.deepEqual(
      stamps,
      [...stamps].sort((a, b) => a - b),
      'ascending as asked',
    );
    assert.ok(stamps.every((t) => t % 60_000 === 0));
    const rate = results[1] as { Values: number[] };
    assert.ok(rate.Values.every((v) => v >= 0 && v <= 100));
    assert.deepEqual(answer['Messages'], []);
  });

  test('list-metrics: the metrics and dimension sets published', async () => {
    const answer = await cliJson(['list-metrics', '--namespace', 'AWS/Lambda']);
    const metrics = answer['Metrics'] as Array<{
      Namespace: string;
      MetricName: string;
      Dimensions: Array<{ Name: string; Value: string }>;
    }>;
    const seen = new Set(
      metrics.map(
        (m) => `${m.MetricName} ${m.Dimensions.map((d) => `${d.Name}=${d.Value}`).join(',')}`,
      ),
    );
    for (const expected of [
      'Invocations ',
      `Invocations FunctionName=${F}`,
      `Invocations FunctionName=${F},Resource=${F}:live,ExecutedVersion=1`,
      `Errors FunctionName=${F},Resource=${F}`,
      `Duration FunctionName=${F}`,
      `Throttles FunctionName=${F}`,
      `ConcurrentExecutions FunctionName=${F}`,
    ])
      assert.ok(seen.has(expected), `${expected} in ${[...seen].join('; ')}`);
    assert.ok(metrics.every((m) => m.Namespace === 'AWS/Lambda'));
    const filtered = await cliJson([
      'list-metrics',
      '--namespace',
      'AWS/Lambda',
      '--metric-name',
      'Invocations',
      '--dimensions',
      `Name=Resource,Value=${F}:live`,
    ]);
    assert.equal((filtered['Metrics'] as unknown[]).length, 2, 'with and without ExecutedVersion');
  });

  test('the SDK (JSON protocol): GetMetricData, GetMetricStatistics, ListMetrics', async () => {
    const client = cloudWatch();
    const data = await client.send(
      new GetMetricDataCommand({
        StartTime: new Date(startSeconds * 1000),
        EndTime: new Date(endSeconds * 1000),
        MetricDataQueries: [
          {
            Id: 'p99',
            MetricStat: {
              Metric: {
                Namespace: 'AWS/Lambda',
                MetricName: 'Duration',
                Dimensions: [{ Name: 'FunctionName', Value: F }],
              },
              Period: endSeconds - startSeconds,
              Stat: 'p99',
            },
          },
        ],
      }),
    );
    const result = data.MetricDataResults?.[0];
    assert.equal(result?.Label, 'Duration');
    assert.ok(Math.abs((result?.Values?.[0] ?? NaN) - Math.max(...durations)) < 0.01);
    assert.ok(result?.Timestamps?.[0] instanceof Date);
    const stats = await client.send(
      new GetMetricStatisticsCommand({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: F }],
        StartTime: new Date(startSeconds * 1000),
        EndTime: new Date(endSeconds * 1000),
        Period: endSeconds - startSeconds,
        Statistics: ['Sum', 'Average'],
      }),
    );
    assert.equal(stats.Datapoints?.[0]?.Sum, 2);
    assert.equal(stats.Datapoints?.[0]?.Average, 2 / 8);
    const listed = await client.send(
      new ListMetricsCommand({
        Namespace: 'AWS/Lambda',
        MetricName: 'Duration',
        Dimensions: [{ Name: 'FunctionName', Value: F }],
      }),
    );
    assert.ok((listed.Metrics ?? []).length >= 3);
    const refused = await failureOf(
      client.send(
        new GetMetricStatisticsCommand({
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          StartTime: new Date(startSeconds * 1000),
          EndTime: new Date(startSeconds * 1000),
          Period: 60,
          Statistics: ['Sum'],
        }),
      ),
    );
    assert.equal(refused.name, 'InvalidParameterValueException');
    assert.equal(
      refused.message,
      'The parameter StartTime must be less than the parameter EndTime.',
    );
    assert.equal(refused.status, 400);
  });

  test("CloudWatch's errors through the CLI (Query protocol)", async () => {
    const tooMany = await cli([
      'get-metric-statistics',
      '--namespace',
      'AWS/Lambda',
      '--metric-name',
      'Invocations',
      '--start-time',
      startIso,
      '--end-time',
      new Date(Date.parse(startIso) + 86_400_000).toISOString(),
      '--period',
      '1',
      '--statistics',
      'SampleCount',
    ]);
    assert.notEqual(tooMany.code, 0);
    assert.match(
      tooMany.stderr,
      /\(InvalidParameterCombination\) when calling the GetMetricStatistics operation: You have requested up to 86400 datapoints, which exceeds the limit of 1440\. You may reduce the datapoints requested by increasing Period, or decreasing the time range\./,
    );
    const period = await cli([
      'get-metric-statistics',
      '--namespace',
      'AWS/Lambda',
      '--metric-name',
      'Invocations',
      '--start-time',
      startIso,
      '--end-time',
      endIso,
      '--period',
      '45',
      '--statistics',
      'Sum',
    ]);
    assert.match(period.stderr, /\(InvalidParameterValue\)/);
  });

  test('an IAM user without the rights is refused; one with them is served', async () => {
    const iam = new IAMClient({
      endpoint: suite.server.endpoint,
      region: 'us-east-1',
      credentials: TEST_CREDENTIALS,
      maxAttempts: 1,
    });
    const keysOf = async (user: string): Promise<Keys> => {
      await iam.send(new CreateUserCommand({ UserName: user }));
      const key = (await iam.send(new CreateAccessKeyCommand({ UserName: user }))).AccessKey;
      return { accessKeyId: key?.AccessKeyId ?? '', secretAccessKey: key?.SecretAccessKey ?? '' };
    };
    const nobody = await keysOf('no-metrics');
    const refused = await failureOf(
      cloudWatch(nobody).send(new ListMetricsCommand({ Namespace: 'AWS/Lambda' })),
    );
    assert.equal(refused.status, 403);
    assert.match(refused.message, /cloudwatch:ListMetrics/);
    const refusedCli = await cli(['list-metrics', '--namespace', 'AWS/Lambda'], nobody);
    assert.match(refusedCli.stderr, /\(AccessDenied\) when calling the ListMetrics operation/);

    // Lambda's read-only policy grants GetMetricData and ListMetrics, not GetMetricStatistics.
    const reader = await keysOf('lambda-reader');
    await iam.send(
      new AttachUserPolicyCommand({
        UserName: 'lambda-reader',
        PolicyArn: 'arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess',
      }),
    );
    const listed = await cloudWatch(reader).send(
      new ListMetricsCommand({ Namespace: 'AWS/Lambda' }),
    );
    assert.ok((listed.Metrics ?? []).length > 0);
    const statisticsRefused = await cli(
      [
        'get-metric-statistics',
        '--namespace',
        'AWS/Lambda',
        '--metric-name',
        'Invocations',
        '--start-time',
        startIso,
        '--end-time',
        endIso,
        '--period',
        '60',
        '--statistics',
        'Sum',
      ],
      reader,
    );
    assert.match(
      statisticsRefused.stderr,
      /\(AccessDenied\) when calling the GetMetricStatistics operation/,
    );
    iam.destroy();
  });

  test('after 15 days the data is gone', async () => {
    clock.advance(15 * 86_400_000 + 120_000);
    await suite.server.parts.cloudWatchMetrics.prune();
    const now = clock.now();
    // A client per call: the SDK takes its clock offset back from each answer's Date header.
    const answer = await cloudWatch().send(
      new GetMetricStatisticsCommand({
        Namespace: 'AWS/Lambda',
        MetricName: 'Invocations',
        Dimensions: [{ Name: 'FunctionName', Value: F }],
        StartTime: new Date(now - 16 * 86_400_000),
        EndTime: new Date(now),
        Period: 3600,
        Statistics: ['Sum'],
      }),
    );
    assert.deepEqual(answer.Datapoints, []);
    const listed = await cloudWatch().send(new ListMetricsCommand({ Namespace: 'AWS/Lambda' }));
    assert.deepEqual(listed.Metrics, []);
    const rows = await suite.server.parts.db.selectFrom('metric_minutes').selectAll().execute();
    assert.deepEqual(rows, [], 'pruned from the database too');
  });
});
