/**
 * End to end: the CloudWatch Logs API over real function logs, driven by the real AWS CLI v2
 * (`describe-log-groups`, `describe-log-streams`, `get-log-events` paged with `--start-from-head`,
 * `filter-log-events` with each kind of filter pattern, `aws logs tail --follow`, retention
 * policies, `delete-log-group`) and by the AWS SDK for JavaScript v3 (paginators over thousands of
 * events, AWS's errors). Retention is enforced on an in-process server whose clock the test
 * moves: expired events are never returned, and the periodic sweep deletes the expired streams.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  PutRetentionPolicyCommand,
  paginateDescribeLogGroups,
  paginateFilterLogEvents,
  paginateGetLogEvents,
  type CloudWatchLogsClient,
  type FilteredLogEvent,
  type OutputLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { awsCommand } from '../helpers/aws-cli.js';
import { deploy, invokeJson } from '../helpers/functions.js';
import { useInProcessServer } from '../helpers/in-process-server.js';
import { failureOf } from '../helpers/lambda-client.js';
import { awsLogs, cliEnvironment, logsClient } from '../helpers/logs-client.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { poll } from '../helpers/poll.js';
import { useServer } from '../helpers/server-suite.js';
import { tempDir, TEST_CREDENTIALS } from '../helpers/server-process.js';
import { DAY_MS } from '../../src/monitoring/log-retention.js';
import { logGroupFolder } from '../../src/observability/log-file-names.js';

/** Prints what the event asks: raw lines on stdout, and console lines at a level. */
const CHATTY = `
exports.handler = async (event) => {
  for (const line of event.lines ?? []) process.stdout.write(line + '\\n');
  if (event.flood) process.stdout.write(Array.from({ length: event.flood }, (_, i) => 'flood ' + i).join('\\n') + '\\n');
  for (const text of event.errors ?? []) console.error(text);
  return 'ok';
};`;

const GROUP = '/aws/lambda/chatty';
const STRUCTURED = '/aws/lambda/structured';
const ACCESS_LINES = [
  '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534',
  '127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324',
  '127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /index.html HTTP/1.0" 404 999',
];

type Json = Record<string, unknown>;

/** Every event of a group matching a pattern, through the SDK's paginator. */
async function filtered(
  client: CloudWatchLogsClient,
  group: string,
  filterPattern: string,
  pageSize = 10_000,
): Promise<FilteredLogEvent[]> {
  const events: FilteredLogEvent[] = [];
  for await (const page of paginateFilterLogEvents(
    { client, pageSize },
    { logGroupName: group, filterPattern },
  ))
    events.push(...(page.events ?? []));
  return events;
}

describe('the Logs API against a server process', () => {
  const suite = useServer();
  const home = tempDir();
  let client: CloudWatchLogsClient;
  const cli = (args: readonly string[]) => awsLogs(suite.server.endpoint, home.path, args);

  before(async () => {
    client = logsClient(suite.server.endpoint);
    await deploy(suite.client, 'chatty', { 'index.js': CHATTY });
    await deploy(
      suite.client,
      'structured',
      {
        'index.js':
          'exports.handler = async (e) => { (e.level === "error" ? console.error : console.log)(e.msg); return "ok"; };',
      },
      { loggingConfig: { LogFormat: 'JSON' } },
    );
    await invokeJson(suite.client, 'chatty', {
      lines: ['ERROR first failure', 'WARN slow disk', 'ERROR boring retry', ...ACCESS_LINES],
    });
    await invokeJson(suite.client, 'structured', { level: 'error', msg: 'payment failed' });
    await invokeJson(suite.client, 'structured', { level: 'info', msg: 'payment ok' });
    // The function logs reach the files within a batch: wait until the last line is readable.
    await poll(
      () => filtered(client, STRUCTURED, '"payment ok"').catch(() => []),
      (events) => events.length === 1,
      30_000,
      'the structured function logs',
    );
    await poll(
      () => filtered(client, GROUP, '"404 999"').catch(() => []),
      (events) => events.length === 1,
      30_000,
      'the chatty function logs',
    );
  });
  after(() => {
    client.destroy();
    home.remove();
  });

  test('describe-log-groups and describe-log-streams show the functions groups and streams', async () => {
    const groups = (await cli(['describe-log-groups', '--log-group-name-prefix', '/aws/lambda/']))[
      'logGroups'
    ] as Json[];
    assert.deepEqual(
      groups.map((g) => g['logGroupName']),
      [GROUP, STRUCTURED],
    );
    const chatty = groups[0] as Json;
    assert.equal(chatty['arn'], `arn:aws:logs:us-east-1:000000000000:log-group:${GROUP}:*`);
    assert.equal(chatty['metricFilterCount'], 0);
    // Members newer than the CLI's model, through the SDK.
    const sdkGroup = (
      await client.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: GROUP }))
    ).logGroups?.[0];
    assert.equal(sdkGroup?.logGroupArn, `arn:aws:logs:us-east-1:000000000000:log-group:${GROUP}`);
    assert.equal(sdkGroup?.logGroupClass, 'STANDARD');
    assert.ok((chatty['storedBytes'] as number) > 0);
    assert.equal(typeof chatty['creationTime'], 'number');
    assert.equal(chatty['retentionInDays'], undefined);

    const streams = (
      await cli([
        'describe-log-streams',
        '--log-group-name',
        GROUP,
        '--order-by',
        'LastEventTime',
        '--descending',
      ])
    )['logStreams'] as Json[];
    assert.equal(streams.length, 1);
    const stream = streams[0] as Json;
    assert.match(
      stream['logStreamName'] as string,
      /^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/,
    );
    assert.equal(
      stream['arn'],
      `arn:aws:logs:us-east-1:000000000000:log-group:${GROUP}:log-stream:${stream['logStreamName'] as string}`,
    );
    assert.ok(
      (stream['lastEventTimestamp'] as number) >= (stream['firstEventTimestamp'] as number),
    );
    // By ARN too (logGroupIdentifier).
    const byArn = await client.send(
      new DescribeLogStreamsCommand({ logGroupIdentifier: sdkGroup?.logGroupArn }),
    );
    assert.equal(byArn.logStreams?.[0]?.logStreamName, stream['logStreamName']);
    // One group a page, through the SDK's paginator and its nextToken.
    const names: string[] = [];
    for await (const page of paginateDescribeLogGroups(
      { client, pageSize: 1 },
      { logGroupNamePrefix: '/aws/lambda/' },
    ))
      names.push(...(page.logGroups ?? []).map((g) => g.logGroupName ?? ''));
    assert.deepEqual(names, [GROUP, STRUCTURED]);
  });

  test('get-log-events pages forward with --start-from-head until the same token comes back', async () => {
    const streams = await client.send(new DescribeLogStreamsCommand({ logGroupName: GROUP }));
    const name = streams.logStreams?.[0]?.logStreamName ?? '';
    const messages: string[] = [];
    let token: string | undefined;
    for (let pages = 0; ; pages += 1) {
      assert.ok(pages < 50, 'paging ends');
      const page = await cli([
        'get-log-events',
        '--log-group-name',
        GROUP,
        '--log-stream-name',
        name,
        '--start-from-head',
        '--limit',
        '4',
        ...(token === undefined ? [] : ['--next-token', token]),
      ]);
      const events = page['events'] as Json[];
      assert.ok(events.length <= 4);
      messages.push(...events.map((e) => e['message'] as string));
      assert.equal(typeof page['nextBackwardToken'], 'string');
      const next = page['nextForwardToken'] as string;
      if (next === token) {
        assert.equal(events.length, 0);
        break;
      }
      token = next;
    }
    assert.match(messages[0] ?? '', /^INIT_START /);
    assert.match(messages[1] ?? '', /^START RequestId: /);
    assert.deepEqual(messages.slice(2, 5), [
      'ERROR first failure',
      'WARN slow disk',
      'ERROR boring retry',
    ]);
    assert.match(messages.at(-1) ?? '', /^REPORT RequestId: /);
    // Without --start-from-head the newest events come first, and a backward token pages back.
    const latest = await cli([
      'get-log-events',
      '--log-group-name',
      GROUP,
      '--log-stream-name',
      name,
      '--limit',
      '2',
    ]);
    assert.match(((latest['events'] as Json[])[1] as Json)['message'] as string, /^REPORT /);
    const earlier = await cli([
      'get-log-events',
      '--log-group-name',
      GROUP,
      '--log-stream-name',
      name,
      '--limit',
      '2',
      '--next-token',
      latest['nextBackwardToken'] as string,
    ]);
    assert.deepEqual(
      (earlier['events'] as Json[]).map((e) => e['message']),
      messages.slice(-4, -2),
    );
  });

  test('filter-log-events with terms, ?, -, JSON and space-delimited patterns', async () => {
    const messages = async (group: string, pattern: string) =>
      (
        (
          await cli([
            'filter-log-events',
            '--log-group-name',
            group,
            '--filter-pattern',
            pattern,
            '--page-size',
            '2',
          ])
        )['events'] as Json[]
      ).map((e) => e['message'] as string);
    assert.deepEqual(await messages(GROUP, 'ERROR'), ['ERROR first failure', 'ERROR boring retry']);
    assert.deepEqual(await messages(GROUP, '?ERROR ?WARN'), [
      'ERROR first failure',
      'WARN slow disk',
      'ERROR boring retry',
    ]);
    assert.deepEqual(await messages(GROUP, 'ERROR -boring'), ['ERROR first failure']);
    assert.deepEqual(await messages(GROUP, '"slow disk"'), ['WARN slow disk']);
    assert.deepEqual(await messages(GROUP, '[ip, user, ..., status = 4*, bytes > 1000]'), [
      ACCESS_LINES[0],
    ]);
    assert.deepEqual(
      await messages(GROUP, '[ip, user, username, timestamp, request = *index*, status, bytes]'),
      [ACCESS_LINES[0], ACCESS_LINES[2]],
    );
    const errors = (await messages(STRUCTURED, '{ $.level = "ERROR" }')).map(
      (m) => JSON.parse(m) as Json,
    );
    assert.deepEqual(
      errors.map((record) => record['message']),
      ['payment failed'],
    );
    assert.equal(errors[0]?.['requestId'] !== undefined, true);
    const reports = await messages(
      STRUCTURED,
      '{ $.type = "platform.report" && $.record.metrics.durationMs >= 0 }',
    );
    assert.equal(reports.length, 2);
    const events = (
      await cli(['filter-log-events', '--log-group-name', GROUP, '--filter-pattern', 'WARN'])
    )['events'] as Json[];
    const event = events[0] as Json;
    assert.deepEqual(Object.keys(event).sort(), [
      'eventId',
      'ingestionTime',
      'logStreamName',
      'message',
      'timestamp',
    ]);
    const refused = await awsCommand(suite.server.endpoint, home.path, [
      'logs',
      'filter-log-events',
      '--log-group-name',
      GROUP,
      '--filter-pattern',
      '{ $.level = "ERROR"',
    ]);
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      /\(InvalidParameterException\).*If a filter pattern starts with '\{' it must end with '\}'/,
    );
  });

  test('aws logs tail --follow --filter-pattern prints new matching events as they come', async () => {
    await invokeJson(suite.client, 'chatty', { lines: ['MARKER_ONE before tail', 'unrelated'] });
    const child = spawn(
      '/usr/bin/aws',
      [
        'logs',
        'tail',
        GROUP,
        '--follow',
        '--format',
        'short',
        '--filter-pattern',
        '?MARKER_ONE ?MARKER_TWO',
        '--endpoint-url',
        suite.server.endpoint,
      ],
      // Python buffers what it prints to a pipe: unbuffered, each event is seen as printed.
      {
        env: { ...cliEnvironment(home.path), PYTHONUNBUFFERED: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    const printed = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (stdout.includes(text)) resolve();
        };
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          check();
        });
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.once('exit', (code) =>
          reject(new Error(`aws logs tail exited (${code}): ${stderr}`)),
        );
        check();
      });
    try {
      await printed('MARKER_ONE before tail');
      await invokeJson(suite.client, 'chatty', {
        lines: ['MARKER_TWO while tailing', 'unrelated'],
      });
      await printed('MARKER_TWO while tailing');
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
    }
    assert.doesNotMatch(stdout, /unrelated/);
    assert.equal(stdout.match(/MARKER_ONE/g)?.length, 1, 'each event is printed once');
  });

  test('the SDK pages through thousands of events with FilterLogEvents and GetLogEvents', async () => {
    await invokeJson(suite.client, 'chatty', { flood: 3_000 });
    const events = await poll(
      () => filtered(client, GROUP, 'flood', 400),
      (found) => found.length === 3_000,
      30_000,
      'the flood lines',
    );
    assert.deepEqual(
      events.map((e) => e.message),
      Array.from({ length: 3_000 }, (_, i) => `flood ${i}`),
    );
    assert.equal(new Set(events.map((e) => e.eventId)).size, 3_000);
    const stream = events[0]?.logStreamName ?? '';
    const all: OutputLogEvent[] = [];
    for await (const page of paginateGetLogEvents(
      { client, pageSize: 700, stopOnSameToken: true },
      { logGroupName: GROUP, logStreamName: stream, startFromHead: true },
    ))
      all.push(...(page.events ?? []));
    const floods = all.map((e) => e.message ?? '').filter((m) => m.startsWith('flood '));
    assert.deepEqual(
      floods,
      Array.from({ length: 3_000 }, (_, i) => `flood ${i}`),
    );
    const times = all.map((e) => e.timestamp ?? 0);
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
    );
  });

  test('AWS errors: unknown groups and streams, bad tokens, limits, exclusive parameters', async () => {
    const missing = await failureOf(
      client.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/nobody' })),
    );
    assert.deepEqual(
      [missing.name, missing.message, missing.status],
      ['ResourceNotFoundException', 'The specified log group does not exist.', 400],
    );
    const noStream = await failureOf(
      client.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: 'nope' })),
    );
    assert.equal(noStream.message, 'The specified log stream does not exist.');
    const token = await failureOf(
      client.send(new FilterLogEventsCommand({ logGroupName: GROUP, nextToken: 'invalid-token' })),
    );
    assert.deepEqual(
      [token.name, token.message],
      ['InvalidParameterException', 'The specified nextToken is invalid.'],
    );
    const limit = await failureOf(
      client.send(
        new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: 'x', limit: 10_001 }),
      ),
    );
    assert.equal(
      limit.message,
      "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000",
    );
    const both = await failureOf(
      client.send(
        new DescribeLogStreamsCommand({ logGroupName: GROUP, logGroupIdentifier: GROUP }),
      ),
    );
    assert.deepEqual(
      [both.name, both.message],
      ['ValidationException', 'LogGroup name and LogGroup ARN are mutually exclusive parameters.'],
    );
    const exclusive = await failureOf(
      client.send(
        new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws', logGroupNamePattern: 'aws' }),
      ),
    );
    assert.equal(
      exclusive.message,
      'LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.',
    );
  });

  test('put-retention-policy and delete-retention-policy, then delete-log-group', async () => {
    await cli(['put-retention-policy', '--log-group-name', STRUCTURED, '--retention-in-days', '7']);
    const described = async () =>
      (
        (await cli(['describe-log-groups', '--log-group-name-prefix', STRUCTURED]))[
          'logGroups'
        ] as Json[]
      )[0];
    assert.equal((await described())?.['retentionInDays'], 7);
    const invalid = await awsCommand(suite.server.endpoint, home.path, [
      'logs',
      'put-retention-policy',
      '--log-group-name',
      STRUCTURED,
      '--retention-in-days',
      '2',
    ]);
    assert.match(
      invalid.stderr,
      /\(InvalidParameterException\).*Value '2' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: \[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653\]/,
    );
    await cli(['delete-retention-policy', '--log-group-name', STRUCTURED]);
    assert.equal((await described())?.['retentionInDays'], undefined);

    await cli(['delete-log-group', '--log-group-name', STRUCTURED]);
    assert.equal(await described(), undefined);
    const again = await awsCommand(suite.server.endpoint, home.path, [
      'logs',
      'delete-log-group',
      '--log-group-name',
      STRUCTURED,
    ]);
    assert.match(
      again.stderr,
      /\(ResourceNotFoundException\).*The specified log group does not exist\./,
    );
    // The function writing again brings its group back, with only the new events.
    await invokeJson(suite.client, 'structured', { level: 'error', msg: 'after deletion' });
    const back = await poll(
      () => filtered(client, STRUCTURED, '{ $.level = "ERROR" }').catch(() => []),
      (events) => events.length > 0,
      30_000,
      'the group written again',
    );
    assert.deepEqual(
      back.map((e) => (JSON.parse(e.message ?? '{}') as Json)['message']),
      ['after deletion'],
    );
  });
});

describe('retention, on an in-process server whose clock the test moves', () => {
  const clock = new ManualClock();
  const suite = useInProcessServer({}, clock);
  let client: CloudWatchLogsClient;
  before(() => {
    client = logsClient(suite.server.endpoint);
  });
  after(() => client.destroy());

  /**
   * Runs `use` with clients signing by the server's clock, ahead of the real one. They are new for
   * each use: the SDK sets its clock back by the real time of the answers it gets.
   */
  async function serverTime<T>(
    use: (logs: CloudWatchLogsClient, lambda: LambdaClient) => Promise<T>,
  ): Promise<T> {
    const offset = clock.now() - Date.now();
    const logs = logsClient(suite.server.endpoint, TEST_CREDENTIALS, offset);
    const lambda = new LambdaClient({
      endpoint: suite.server.endpoint,
      region: 'us-east-1',
      credentials: TEST_CREDENTIALS,
      maxAttempts: 1,
      systemClockOffset: offset,
    });
    try {
      return await use(logs, lambda);
    } finally {
      logs.destroy();
      lambda.destroy();
    }
  }

  test('expired events are never returned, and the sweep deletes expired streams', async () => {
    await deploy(suite.client, 'aging', { 'index.js': CHATTY });
    await invokeJson(suite.client, 'aging', { lines: ['OLD event'] });
    const group = '/aws/lambda/aging';
    await poll(
      // The group exists once the function's first lines are on disk.
      () => filtered(client, group, 'OLD').catch(() => []),
      (events) => events.length === 1,
      30_000,
      'the first event',
    );
    await client.send(new PutRetentionPolicyCommand({ logGroupName: group, retentionInDays: 1 }));

    // Two days later, by the server's clock: the sweep that the jump brings has run.
    const { logRetention, config } = suite.server.parts;
    const swept = new Promise<void>((resolve) => {
      const jumpedTo = clock.now() + 2 * DAY_MS;
      const stop = logRetention.onPass((result, startedMs) => {
        if (startedMs >= jumpedTo && result.expiredStreams === 1) {
          stop();
          resolve();
        }
      });
    });
    clock.advance(2 * DAY_MS);
    assert.deepEqual(
      await serverTime((logs) => filtered(logs, group, 'OLD')),
      [],
      'expired, before any sweep too',
    );
    await swept;
    const folder = join(config.dataDir, 'logs', logGroupFolder(group));
    for (const file of readdirSync(folder).filter((name) => name.endsWith('.log')))
      // Written moments ago (by the wall clock), the stream may still have a writer: it is
      // emptied now, and removed by a sweep once quiet.
      assert.equal(statSync(join(folder, file)).size, 0, file);
    const streams = await serverTime((logs) =>
      logs.send(new DescribeLogStreamsCommand({ logGroupName: group })),
    );
    assert.deepEqual(streams.logStreams, []);
    const groups = await serverTime((logs) =>
      logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: group })),
    );
    assert.equal(groups.logGroups?.[0]?.retentionInDays, 1, 'the group keeps its retention');

    // Events written since (by this environment or a new one) are kept and shown.
    await serverTime((_, lambda) => invokeJson(lambda, 'aging', { lines: ['NEW event'] }));
    const fresh = await poll(
      () => serverTime((logs) => filtered(logs, group, '?OLD ?NEW')),
      (events) => events.length === 1,
      30_000,
      'the new event',
    );
    assert.equal(fresh[0]?.message, 'NEW event');
  });
});
