/**
 * The CloudWatch Logs API under hostile input, against a server process: filter patterns nested a
 * thousand deep, a megabyte long, of wildcards built to backtrack; forged, garbled and borrowed
 * paging tokens; group and stream names that climb (`..`, `/`); limits and numbers out of range;
 * bodies that are not JSON objects; signatures for another service and callers without the
 * rights. Each is refused in the Logs error shape, and filters over streams of 100,000 and
 * 400,000 lines answer in bounded pages, while a victim function keeps its warm latency, the
 * server's memory comes back, and the server goes on serving.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import {
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
  paginateFilterLogEvents,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  memoryReturns,
  peakRssDuring,
  prepareVictim,
  rssMiB,
  VICTIM_P99_LIMIT_MS,
  type Victim,
} from '../helpers/attack-harness.js';
import { failureOf } from '../helpers/lambda-client.js';
import { logsClient, logsRequest, type LogsAnswer } from '../helpers/logs-client.js';
import { TEST_CREDENTIALS } from '../helpers/server-process.js';
import { useServer } from '../helpers/server-suite.js';
import { logGroupFolder, logStreamFile } from '../../src/observability/log-file-names.js';

const BIG = '/aws/lambda/big';
const BASE_MS = Date.now() - 3_600_000;

/** Writes a stream file of `count` events into the server's logs, as FileLogStore would. */
function writeStream(
  dataDir: string,
  group: string,
  stream: string,
  count: number,
  every: number,
): void {
  const folder = join(dataDir, 'logs', logGroupFolder(group));
  mkdirSync(folder, { recursive: true });
  const lines: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const message =
      i % every === 0
        ? JSON.stringify({ level: 'ERROR', n: i, text: 'a'.repeat(2_000) })
        : `2026-01-01T00:00:00.000Z\t5f0c3ad2-0000-4000-8000-000000000000\tINFO\tline ${i} of ${stream} ${'a'.repeat(60)}`;
    lines.push(`${JSON.stringify({ t: BASE_MS + i, m: message })}\n`);
  }
  writeFileSync(join(folder, logStreamFile(stream)), lines.join(''));
}

function expectRefusal(answer: LogsAnswer, type: string, message?: string | RegExp): void {
  assert.equal(answer.status, type === 'ServiceUnavailableException' ? 500 : 400, answer.text);
  assert.equal(answer.type, type, answer.text);
  if (message instanceof RegExp) assert.match(String(answer.json?.['message']), message);
  else if (message !== undefined) assert.equal(answer.json?.['message'], message);
}

describe('hostile Logs API requests', () => {
  const suite = useServer();
  let victim: Victim;
  let endpoint: string;

  before(async () => {
    endpoint = suite.server.endpoint;
    writeStream(suite.dataDir, BIG, '2026/01/01/[$LATEST]aaaa', 100_000, 10_000);
    writeStream(suite.dataDir, BIG, '2026/01/01/[$LATEST]bbbb', 400_000, 100_000);
    victim = await prepareVictim(suite.client);
  });

  test('hostile patterns are refused or matched in bounded time, in the Logs shape', async () => {
    const filter = (pattern: string) =>
      logsRequest(
        endpoint,
        'FilterLogEvents',
        JSON.stringify({ logGroupName: BIG, filterPattern: pattern, limit: 50 }),
      );
    const deep = `{ ${'('.repeat(500)}$.a = 1${')'.repeat(500)} }`;
    expectRefusal(await filter(deep), 'InvalidParameterException', 'Invalid filter pattern');
    expectRefusal(
      await filter('x'.repeat(1_025)),
      'InvalidParameterException',
      /^1 validation error detected: Value 'x+' at 'filterPattern' failed to satisfy constraint: Member must have length less than or equal to 1024$/,
    );
    const megabyte = await logsRequest(
      endpoint,
      'FilterLogEvents',
      JSON.stringify({ logGroupName: BIG, filterPattern: 'x'.repeat(1024 * 1024) }),
    );
    expectRefusal(megabyte, 'RequestEntityTooLargeException');
    expectRefusal(
      await filter('[a, b'),
      'InvalidParameterException',
      "If a filter pattern starts with '[' it must end with ']'",
    );
    expectRefusal(
      await filter('user@example.com'),
      'InvalidParameterException',
      "Invalid character(s) in term 'user@example.com'",
    );
    // Patterns a backtracking matcher would not finish, over 500,000 events.
    const { result, p99Ms, latenciesMs } = await victim.during(async () => {
      const answers = [];
      for (const pattern of [
        `{ $.text = "${'*a'.repeat(300)}*b" }`,
        `"${'a'.repeat(1_000)}b"`,
        `[${Array.from({ length: 40 }, (_, i) => `f${i} = *a*a*a*a*b`).join(', ')}, ...]`,
        `{ ${Array.from({ length: 45 }, () => '$.text = *a*a*a*b').join(' || ')} }`,
      ])
        answers.push(await filter(pattern));
      return answers;
    }, 20);
    for (const answer of result) {
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(answer.json?.['events'], []);
    }
    assert.ok(
      p99Ms < VICTIM_P99_LIMIT_MS,
      `victim p99 ${p99Ms.toFixed(1)} ms over ${latenciesMs.length} invokes`,
    );
  });

  test('forged, garbled and borrowed tokens are invalid', async () => {
    const page = await logsRequest(
      endpoint,
      'FilterLogEvents',
      JSON.stringify({ logGroupName: BIG, filterPattern: 'ERROR', limit: 1 }),
    );
    const token = page.json?.['nextToken'];
    assert.equal(typeof token, 'string');
    const real = token as string;
    const [payload = '', mac = ''] = real.split('.');
    const forged = Buffer.from(
      JSON.stringify({ v: { t: 0, s: '../../etc/passwd', o: 0 }, e: Date.now() + 60_000 }),
    ).toString('base64url');
    for (const bad of [
      'invalid-token',
      `${forged}.${mac}`,
      `${payload}.${mac.slice(0, -2)}AA`,
      real.slice(0, -1),
      `${payload}.`,
      '.'.repeat(5_000),
      'x'.repeat(100_000),
    ])
      expectRefusal(
        await logsRequest(
          endpoint,
          'FilterLogEvents',
          JSON.stringify({ logGroupName: BIG, nextToken: bad }),
        ),
        'InvalidParameterException',
        'The specified nextToken is invalid.',
      );
    // A token of one group or operation is no token for another.
    writeStream(suite.dataDir, '/aws/lambda/other', 's', 10, 1);
    expectRefusal(
      await logsRequest(
        endpoint,
        'FilterLogEvents',
        JSON.stringify({ logGroupName: '/aws/lambda/other', nextToken: real }),
      ),
      'InvalidParameterException',
      'The specified nextToken is invalid.',
    );
    expectRefusal(
      await logsRequest(
        endpoint,
        'GetLogEvents',
        JSON.stringify({
          logGroupName: BIG,
          logStreamName: '2026/01/01/[$LATEST]aaaa',
          nextToken: real,
        }),
      ),
      'InvalidParameterException',
      'The specified nextToken is invalid.',
    );
    const next = await logsRequest(
      endpoint,
      'FilterLogEvents',
      JSON.stringify({ logGroupName: BIG, filterPattern: 'ERROR', limit: 1, nextToken: real }),
    );
    assert.equal(next.status, 200, next.text);
  });

  test('names that climb out of the logs folder name nothing', async () => {
    writeFileSync(
      join(suite.dataDir, 'outside.log'),
      `${JSON.stringify({ t: BASE_MS, m: 'secret' })}\n`,
    );
    for (const group of ['..', '.', '../..', '/..', 'a/../..'])
      expectRefusal(
        await logsRequest(endpoint, 'FilterLogEvents', JSON.stringify({ logGroupName: group })),
        'ResourceNotFoundException',
        'The specified log group does not exist.',
      );
    for (const stream of [
      '../../outside',
      '..',
      '../../../outside',
      '/etc/passwd',
      '\u0000',
      '\ud800',
    ])
      expectRefusal(
        await logsRequest(
          endpoint,
          'GetLogEvents',
          JSON.stringify({ logGroupName: BIG, logStreamName: stream }),
        ),
        'ResourceNotFoundException',
        'The specified log stream does not exist.',
      );
    // A valid prefix that names no group: nothing, and nothing outside.
    const prefixed = await logsRequest(
      endpoint,
      'DescribeLogGroups',
      JSON.stringify({ logGroupNamePrefix: '../' }),
    );
    assert.deepEqual(prefixed.json, { logGroups: [] });
    const streams = await logsRequest(
      endpoint,
      'FilterLogEvents',
      JSON.stringify({
        logGroupName: BIG,
        logStreamNames: ['../../outside'],
        filterPattern: 'secret',
      }),
    );
    assert.deepEqual(streams.json?.['events'], []);
    expectRefusal(
      await logsRequest(
        endpoint,
        'FilterLogEvents',
        JSON.stringify({
          logGroupIdentifier: 'arn:aws:logs:us-east-1:999999999999:log-group:/aws/lambda/big',
        }),
      ),
      'ResourceNotFoundException',
    );
  });

  test('limits, numbers, bodies and operations out of bounds', async () => {
    const cases: Array<[string, string | Buffer, string, (string | RegExp)?]> = [
      [
        'FilterLogEvents',
        JSON.stringify({ logGroupName: BIG, limit: 1e12 }),
        'InvalidParameterException',
        "1 validation error detected: Value '1000000000000' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000",
      ],
      [
        'FilterLogEvents',
        JSON.stringify({ logGroupName: BIG, limit: 0, startTime: -1 }),
        'InvalidParameterException',
        /^2 validation errors detected: /,
      ],
      [
        'FilterLogEvents',
        '{"logGroupName":"/aws/lambda/big","limit":1e400}',
        'SerializationException',
      ],
      [
        'FilterLogEvents',
        JSON.stringify({ logGroupName: BIG, limit: '10' }),
        'SerializationException',
      ],
      [
        'FilterLogEvents',
        JSON.stringify({
          logGroupName: BIG,
          logStreamNames: Array.from({ length: 101 }, (_, i) => `s${i}`),
        }),
        'InvalidParameterException',
        /at 'logStreamNames' failed to satisfy constraint: Member must have length less than or equal to 100/,
      ],
      [
        'FilterLogEvents',
        JSON.stringify({ logGroupName: BIG, logStreamNames: [], logStreamNamePrefix: 'x' }),
        'InvalidParameterException',
      ],
      [
        'DescribeLogStreams',
        JSON.stringify({ logGroupName: BIG, limit: 51 }),
        'InvalidParameterException',
      ],
      [
        'DescribeLogStreams',
        JSON.stringify({ logGroupName: BIG, orderBy: 'LastEventTime', logStreamNamePrefix: 'x' }),
        'InvalidParameterException',
        'Cannot order by LastEventTime with a logStreamNamePrefix.',
      ],
      [
        'GetLogEvents',
        JSON.stringify({ logGroupName: BIG }),
        'InvalidParameterException',
        "1 validation error detected: Value null at 'logStreamName' failed to satisfy constraint: Member must not be null",
      ],
      [
        'PutRetentionPolicy',
        JSON.stringify({ logGroupName: BIG, retentionInDays: 2 ** 40 }),
        'InvalidParameterException',
      ],
      [
        'DeleteLogGroup',
        JSON.stringify({ logGroupName: 'x'.repeat(513) }),
        'InvalidParameterException',
        'Invalid LogGroup or LogStream, both must have length less than or equal to 512.',
      ],
      ['FilterLogEvents', 'not json', 'SerializationException'],
      ['FilterLogEvents', '[1,2,3]', 'SerializationException'],
      ['FilterLogEvents', `${'['.repeat(100_000)}${']'.repeat(100_000)}`, 'SerializationException'],
      ['FilterLogEvents', Buffer.from([0xff, 0xfe, 0x00, 0x7b]), 'SerializationException'],
      ['DescribeEverything', '{}', 'UnknownOperationException'],
      ['__proto__', '{}', 'UnknownOperationException'],
      ['PutLogEvents', '{}', 'UnknownOperationException'],
    ];
    for (const [operation, body, type, message] of cases)
      expectRefusal(await logsRequest(endpoint, operation, body), type, message);
  });

  test('signatures for another service, and callers without the rights', async () => {
    expectRefusal(
      await logsRequest(endpoint, 'DescribeLogGroups', '{}', { service: 'lambda' }),
      'InvalidSignatureException',
    );
    expectRefusal(
      await logsRequest(endpoint, 'DescribeLogGroups', '{}', {
        credentials: { ...TEST_CREDENTIALS, secretAccessKey: 'wrong' },
      }),
      'InvalidSignatureException',
    );
    const iam = new IAMClient({
      endpoint,
      region: 'us-east-1',
      credentials: TEST_CREDENTIALS,
      maxAttempts: 1,
    });
    try {
      await iam.send(new CreateUserCommand({ UserName: 'log-reader' }));
      const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'log-reader' })))
        .AccessKey;
      const keys = {
        accessKeyId: key?.AccessKeyId ?? '',
        secretAccessKey: key?.SecretAccessKey ?? '',
      };
      const logs = logsClient(endpoint, keys);
      try {
        const denied = await failureOf(logs.send(new DescribeLogGroupsCommand({})));
        assert.deepEqual([denied.name, denied.status], ['AccessDeniedException', 400]);
        assert.match(
          denied.message,
          /not authorized to perform: logs:DescribeLogGroups on resource: arn:aws:logs:us-east-1:000000000000:log-group:\*/,
        );
        await iam.send(
          new PutUserPolicyCommand({
            UserName: 'log-reader',
            PolicyName: 'one-group',
            PolicyDocument: JSON.stringify({
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Action: 'logs:FilterLogEvents',
                  Resource: `arn:aws:logs:us-east-1:000000000000:log-group:${BIG}:*`,
                },
              ],
            }),
          }),
        );
        const allowed = await logs.send(
          new FilterLogEventsCommand({ logGroupName: BIG, limit: 1 }),
        );
        assert.equal(allowed.events?.length, 1);
        const other = await failureOf(
          logs.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/other', limit: 1 })),
        );
        assert.equal(other.name, 'AccessDeniedException');
      } finally {
        logs.destroy();
      }
    } finally {
      iam.destroy();
    }
  });

  test('filters over 500,000 lines answer in bounded pages; memory comes back', async () => {
    const pid = suite.server.child.pid ?? 0;
    const baseline = rssMiB(pid);
    const client = logsClient(endpoint);
    try {
      const { result, peakMiB } = await peakRssDuring(pid, async () => {
        let pages = 0;
        const found = [];
        for await (const page of paginateFilterLogEvents(
          { client, pageSize: 10_000 },
          { logGroupName: BIG, filterPattern: '{ $.level = "ERROR" }' },
        )) {
          pages += 1;
          found.push(...(page.events ?? []));
        }
        // Many concurrent readers of full pages: a few are read at a time, some wait, the rest
        // are throttled; memory holds a few pages, whatever their number.
        const crowd = await Promise.all(
          Array.from({ length: 200 }, () =>
            logsRequest(endpoint, 'FilterLogEvents', JSON.stringify({ logGroupName: BIG })),
          ),
        );
        return { pages, found, crowd };
      });
      // 10 + 4 errors; the page reading stopped at its budget at least once on the way.
      assert.equal(result.found.length, 14);
      assert.ok(result.pages >= 2, `${result.pages} pages`);
      for (const answer of result.crowd)
        assert.ok(
          (answer.status === 200 && answer.json?.['nextToken'] !== undefined) ||
            answer.type === 'ThrottlingException',
          answer.text,
        );
      assert.ok(result.crowd.some((answer) => answer.type === 'ThrottlingException'));
      assert.ok(
        peakMiB < baseline + 400,
        `peak ${peakMiB.toFixed(0)} MiB from ${baseline.toFixed(0)} MiB`,
      );
      await memoryReturns(pid, baseline, 30_000);
      const described = await client.send(
        new DescribeLogGroupsCommand({ logGroupNamePrefix: BIG }),
      );
      assert.equal(described.logGroups?.[0]?.logGroupName, BIG);
    } finally {
      client.destroy();
    }
  });
});
