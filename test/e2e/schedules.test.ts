/**
 * EventBridge Scheduler end to end: the real AWS CLI and the SDK's Scheduler client against a
 * server in this process (real SQLite, real sandboxes), on a controllable clock. Schedules are
 * made, read, listed, changed and deleted; a cron in a time zone fires at its local instants as
 * the clock moves and the function receives the Input; disabled schedules stay silent; a one-time
 * schedule deletes itself after its fire; a flexible window fires where the injected random
 * source puts it; a fire for a missing function reaches the dead-letter function; fires missed
 * while the server was stopped are made once at the next start.
 * The CLI runs before the clock moves far (it signs with the real time); SDK calls sign with the
 * clock's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  DeleteScheduleGroupCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UntagResourceCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  UpdateScheduleCommand,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import pino from 'pino';
import { buildLamina } from '../../src/server/build-lamina.js';
import type { LaminaServer } from '../../src/server/lamina-server.js';
import { DEFAULT_CONFIG } from '../../src/server/server-config.js';
import { awsCommand } from '../helpers/aws-cli.js';
import { deploy } from '../helpers/functions.js';
import { useInProcessServer } from '../helpers/in-process-server.js';
import { failureOf, lambdaClient } from '../helpers/lambda-client.js';
import { ManualClock } from '../helpers/manual-clock.js';
import {
  grantSchedulerRole,
  receivedBy,
  runnerSettled,
  SCHEDULER_ROLE,
  untilReceived,
  withScheduler,
  type Received,
} from '../helpers/scheduler.js';
import { tempDir, TEST_CREDENTIALS } from '../helpers/server-process.js';
import { grantTestRoles } from '../helpers/test-roles.js';

const FN = 'arn:aws:lambda:us-east-1:000000000000:function';
const RECORDER = { 'index.js': 'exports.handler = async (event) => event;' };
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const withPayload = (events: Received[], payload: unknown) =>
  events.filter((e) => sameJson(e.payload, payload));

/** The instant `hour`:00 falls on `y-m-d` in Paris (CET or CEST). */
function parisInstant(y: number, m: number, d: number, hour: number): number {
  const format = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Paris',
    hourCycle: 'h23',
    day: 'numeric',
    hour: 'numeric',
  });
  for (const offset of [1, 2]) {
    const instant = Date.UTC(y, m - 1, d, hour) - offset * HOUR;
    const parts = format.formatToParts(instant);
    const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    if (part('hour') === hour && part('day') === d) return instant;
  }
  throw new Error(`${y}-${m}-${d} ${hour}:00 does not exist in Paris`);
}

/** The first 03:00 in Paris after `afterMs`. */
function nextParis3am(afterMs: number): number {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Europe/Paris',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
  }).formatToParts(afterMs);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  for (let i = 0; i < 3; i += 1) {
    const day = new Date(Date.UTC(part('year'), part('month') - 1, part('day') + i));
    const instant = parisInstant(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), 3);
    if (instant > afterMs) return instant;
  }
  throw new Error('no 03:00 within three days');
}

describe('EventBridge Scheduler with the AWS CLI and the SDK', () => {
  const clock = new ManualClock();
  // Flexible windows put every fire half-way through the window.
  const suite = useInProcessServer({ logLevel: 'warn' }, clock, { random: () => 0.5 });
  const home = tempDir();
  let server: LaminaServer;

  const cli = async (args: readonly string[]) => {
    const result = await awsCommand(server.endpoint, home.path, ['scheduler', ...args]);
    return {
      ...result,
      json: () =>
        (result.stdout.trim() === '' ? {} : JSON.parse(result.stdout)) as Record<string, unknown>,
    };
  };
  const sdk = <T>(call: Parameters<typeof withScheduler<T>>[2]) =>
    withScheduler(server.endpoint, clock, call);
  const create = (
    input: Partial<CreateScheduleCommandInput> & { Name: string },
    payload: unknown,
  ) =>
    sdk((c) =>
      c.send(
        new CreateScheduleCommand({
          ScheduleExpression: 'rate(1 hour)',
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: {
            Arn: `${FN}:recorder`,
            RoleArn: SCHEDULER_ROLE,
            Input: JSON.stringify(payload),
          },
          ...input,
        }),
      ),
    );
  /** Waits until the recorder has run `count` events with `payload`. */
  const received = (payload: unknown, count: number, what: string) =>
    untilReceived(
      server,
      'recorder',
      (events) =>
        withPayload(events, payload).filter((e) => e.status === 'Succeeded').length >= count,
      what,
    ).then((events) => withPayload(events, payload));

  before(async () => {
    server = suite.server;
    await grantSchedulerRole(server.parts.iam);
    await deploy(suite.client, 'recorder', RECORDER);
    await deploy(suite.client, 'always-fails', {
      'index.js': "exports.handler = async () => { throw new Error('no'); };",
    });
  });
  after(() => home.remove());

  test('the CLI: a group, a schedule that fires with its Input, get, list, update, delete', async () => {
    const group = await cli(['create-schedule-group', '--name', 'g1']);
    assert.equal(group.code, 0, group.stderr);
    assert.deepEqual(group.json(), {
      ScheduleGroupArn: 'arn:aws:scheduler:us-east-1:000000000000:schedule-group/g1',
    });
    const target = {
      Arn: `${FN}:recorder`,
      RoleArn: SCHEDULER_ROLE,
      Input: '{"k":1}',
      RetryPolicy: { MaximumRetryAttempts: 2 },
    };
    const made = await cli([
      'create-schedule',
      '--name',
      'every5',
      '--group-name',
      'g1',
      '--schedule-expression',
      'rate(5 minutes)',
      '--flexible-time-window',
      'Mode=OFF',
      '--target',
      JSON.stringify(target),
    ]);
    assert.equal(made.code, 0, made.stderr);
    const arn = 'arn:aws:scheduler:us-east-1:000000000000:schedule/g1/every5';
    assert.deepEqual(made.json(), { ScheduleArn: arn });

    // A rate schedule without StartDate fires at once, and the function gets the Input.
    const [fire] = await received({ k: 1 }, 1, 'the first fire of every5');
    assert.deepEqual(fire?.response, { k: 1 });

    const got = await cli(['get-schedule', '--name', 'every5', '--group-name', 'g1']);
    assert.equal(got.code, 0, got.stderr);
    const schedule = got.json();
    assert.equal(typeof schedule['CreationDate'], 'string');
    assert.equal(typeof schedule['LastModificationDate'], 'string');
    delete schedule['CreationDate'];
    delete schedule['LastModificationDate'];
    // CLI 2.9.19's model predates ActionAfterCompletion: it drops the member (the SDK shows it).
    assert.deepEqual(schedule, {
      Arn: arn,
      FlexibleTimeWindow: { Mode: 'OFF' },
      GroupName: 'g1',
      Name: 'every5',
      ScheduleExpression: 'rate(5 minutes)',
      ScheduleExpressionTimezone: 'UTC',
      State: 'ENABLED',
      Target: {
        Arn: `${FN}:recorder`,
        RoleArn: SCHEDULER_ROLE,
        Input: '{"k":1}',
        RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 2 },
      },
    });

    const listed = await cli([
      'list-schedules',
      '--group-name',
      'g1',
      '--name-prefix',
      'ev',
      '--state',
      'ENABLED',
    ]);
    assert.equal(listed.code, 0, listed.stderr);
    const summaries = listed.json()['Schedules'] as Record<string, unknown>[];
    assert.equal(summaries.length, 1);
    assert.equal(summaries[0]?.['Arn'], arn);
    assert.deepEqual(summaries[0]?.['Target'], { Arn: `${FN}:recorder` });
    const none = await cli(['list-schedules', '--state', 'DISABLED']);
    assert.deepEqual(none.json()['Schedules'], []);

    // UpdateSchedule replaces everything: what it leaves out takes its default again.
    const updated = await cli([
      'update-schedule',
      '--name',
      'every5',
      '--group-name',
      'g1',
      '--schedule-expression',
      'rate(1 hour)',
      '--flexible-time-window',
      'Mode=OFF',
      '--target',
      `Arn=${FN}:recorder,RoleArn=${SCHEDULER_ROLE}`,
    ]);
    assert.equal(updated.code, 0, updated.stderr);
    const changed = (await cli(['get-schedule', '--name', 'every5', '--group-name', 'g1'])).json();
    assert.equal(changed['ScheduleExpression'], 'rate(1 hour)');
    assert.deepEqual(changed['Target'], {
      Arn: `${FN}:recorder`,
      RoleArn: SCHEDULER_ROLE,
      RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
    });

    const groups = (await cli(['list-schedule-groups'])).json()['ScheduleGroups'] as Record<
      string,
      unknown
    >[];
    assert.deepEqual(
      groups.map((g) => [g['Name'], g['State']]),
      [
        ['default', 'ACTIVE'],
        ['g1', 'ACTIVE'],
      ],
    );

    const deleted = await cli(['delete-schedule', '--name', 'every5', '--group-name', 'g1']);
    assert.equal(deleted.code, 0, deleted.stderr);
    const gone = await cli(['get-schedule', '--name', 'every5', '--group-name', 'g1']);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /\(ResourceNotFoundException\).*Schedule every5 does not exist\./);

    // Deleting a group deletes its schedules.
    assert.equal((await cli([...createArgs('inside', 'g1')])).code, 0);
    const groupGone = await cli(['delete-schedule-group', '--name', 'g1']);
    assert.equal(groupGone.code, 0, groupGone.stderr);
    assert.match(
      (await cli(['get-schedule', '--name', 'inside', '--group-name', 'g1'])).stderr,
      /ResourceNotFoundException/,
    );
    assert.match(
      (await cli(['get-schedule-group', '--name', 'g1'])).stderr,
      /\(ResourceNotFoundException\).*Schedule group g1 does not exist\./,
    );
  });

  test("the CLI: AWS's errors for bad input, and nothing is left half-made", async () => {
    const refused = async (args: readonly string[], code: string, message: RegExp) => {
      const result = await cli(args);
      assert.notEqual(result.code, 0, `${args.join(' ')} succeeded`);
      assert.match(result.stderr, new RegExp(`\\(${code}\\)`), result.stderr);
      assert.match(result.stderr, message);
    };
    await refused(
      createArgs('bad', undefined, { expression: 'rate(10 seconds)' }),
      'ValidationException',
      /Invalid Schedule Expression rate\(10 seconds\)\./,
    );
    await refused(
      createArgs('bad', 'nope'),
      'ResourceNotFoundException',
      /Schedule group nope does not exist\./,
    );
    await refused(
      createArgs('bad', undefined, {
        target: `Arn=arn:aws:sqs:us-east-1:000000000000:q,RoleArn=${SCHEDULER_ROLE}`,
      }),
      'ValidationException',
      /sqs targets are not supported/,
    );
    await refused(
      createArgs('bad', undefined, {
        target: JSON.stringify({ Arn: `${FN}:recorder`, RoleArn: SCHEDULER_ROLE, Input: '{"k":' }),
      }),
      'ValidationException',
      /Input must be well-formed JSON/,
    );
    // A role that exists but trusts only Lambda.
    await refused(
      createArgs('bad', undefined, {
        target: `Arn=${FN}:recorder,RoleArn=arn:aws:iam::000000000000:role/lambda-role`,
      }),
      'ValidationException',
      /must allow AWS EventBridge Scheduler to assume the role/,
    );
    await refused(
      ['delete-schedule-group', '--name', 'default'],
      'ValidationException',
      /cannot be performed on schedule group default/,
    );
    assert.equal((await cli(createArgs('dup'))).code, 0);
    await refused(createArgs('dup'), 'ConflictException', /Schedule dup already exists/);
    const names = (await cli(['list-schedules'])).json()['Schedules'] as Record<string, unknown>[];
    assert.deepEqual(
      names.map((s) => s['Name']),
      ['dup'],
    );
    assert.equal((await cli(['delete-schedule', '--name', 'dup'])).code, 0);
  });

  test('a cron in Europe/Paris fires at 03:00 Paris time as the clock moves', async () => {
    const payload = { tz: 'paris' };
    await create(
      {
        Name: 'paris',
        ScheduleExpression: 'cron(0 3 * * ? *)',
        ScheduleExpressionTimezone: 'Europe/Paris',
      },
      payload,
    );
    const got = await sdk((c) => c.send(new GetScheduleCommand({ Name: 'paris' })));
    assert.equal(got.ScheduleExpressionTimezone, 'Europe/Paris');
    assert.ok(got.CreationDate instanceof Date);

    const first = nextParis3am(clock.now());
    clock.advance(first - MINUTE - clock.now());
    await runnerSettled(server);
    assert.equal(withPayload(await receivedBy(server, 'recorder'), payload).length, 0);
    clock.advance(MINUTE);
    const [fire] = await received(payload, 1, 'the first 03:00 fire');
    assert.ok(fire !== undefined && fire.enqueuedMs >= first && fire.enqueuedMs < first + MINUTE);
    assert.deepEqual(fire.response, payload);

    const second = nextParis3am(first);
    clock.advance(second - clock.now());
    const fires = await received(payload, 2, "the next day's 03:00 fire");
    const late = fires[1];
    assert.ok(late !== undefined && late.enqueuedMs >= second && late.enqueuedMs < second + MINUTE);
    await sdk((c) => c.send(new DeleteScheduleCommand({ Name: 'paris' })));
  });

  test('a disabled schedule does not fire; enabled again it fires on its rhythm', async () => {
    const payload = { s: 'toggled' };
    const base = {
      Name: 'toggled',
      ScheduleExpression: 'rate(1 hour)',
      FlexibleTimeWindow: { Mode: 'OFF' as const },
      Target: { Arn: `${FN}:recorder`, RoleArn: SCHEDULER_ROLE, Input: JSON.stringify(payload) },
    };
    await create(base, payload);
    await received(payload, 1, 'the fire at creation');
    await sdk((c) => c.send(new UpdateScheduleCommand({ ...base, State: 'DISABLED' })));
    clock.advance(2 * HOUR);
    await runnerSettled(server);
    assert.equal(withPayload(await receivedBy(server, 'recorder'), payload).length, 1);
    const listed = await sdk((c) => c.send(new ListSchedulesCommand({ State: 'DISABLED' })));
    assert.deepEqual(
      listed.Schedules?.map((s) => s.Name),
      ['toggled'],
    );
    await sdk((c) => c.send(new UpdateScheduleCommand({ ...base, State: 'ENABLED' })));
    await runnerSettled(server);
    assert.equal(withPayload(await receivedBy(server, 'recorder'), payload).length, 1);
    clock.advance(HOUR);
    await received(payload, 2, 'the fire after enabling');
    await sdk((c) => c.send(new DeleteScheduleCommand({ Name: 'toggled' })));
  });

  test('a one-time at() schedule with ActionAfterCompletion DELETE fires once and is gone', async () => {
    const payload = { once: true };
    const at = new Date(clock.now() + 10 * MINUTE).toISOString().slice(0, 19);
    await create(
      { Name: 'once', ScheduleExpression: `at(${at})`, ActionAfterCompletion: 'DELETE' },
      payload,
    );
    const got = await sdk((c) => c.send(new GetScheduleCommand({ Name: 'once' })));
    assert.equal(got.ActionAfterCompletion, 'DELETE');
    clock.advance(10 * MINUTE);
    await received(payload, 1, 'the one fire');
    await runnerSettled(server);
    const failure = await failureOf(sdk((c) => c.send(new GetScheduleCommand({ Name: 'once' }))));
    assert.deepEqual(failure, {
      name: 'ResourceNotFoundException',
      message: 'Schedule once does not exist.',
      status: 404,
    });
    clock.advance(HOUR);
    await runnerSettled(server);
    assert.equal(withPayload(await receivedBy(server, 'recorder'), payload).length, 1);
  });

  test('a flexible window fires where the random source says: half-way through 10 minutes', async () => {
    const payload = { flexible: true };
    const noon = new Date(clock.now() + 24 * HOUR);
    noon.setUTCHours(12, 0, 0, 0);
    await create(
      {
        Name: 'flexible',
        ScheduleExpression: 'cron(0 12 * * ? *)',
        FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 10 },
        StartDate: new Date(noon.getTime() - HOUR),
      },
      payload,
    );
    clock.advance(noon.getTime() + 5 * MINUTE - 1000 - clock.now());
    await runnerSettled(server);
    assert.equal(withPayload(await receivedBy(server, 'recorder'), payload).length, 0);
    clock.advance(1000);
    const [fire] = await received(payload, 1, 'the flexible fire');
    assert.ok(fire !== undefined && fire.enqueuedMs >= noon.getTime() + 5 * MINUTE);
    await sdk((c) => c.send(new DeleteScheduleCommand({ Name: 'flexible' })));
  });

  test("the SDK: AWS's errors with their statuses, and pages of ListSchedules", async () => {
    const invalid = await failureOf(
      create({ Name: 'bad', ScheduleExpression: 'cron(71 8 1 * ? *)' }, {}),
    );
    assert.deepEqual(invalid, {
      name: 'ValidationException',
      message: 'Invalid Schedule Expression cron(71 8 1 * ? *).',
      status: 400,
    });
    await create({ Name: 'taken' }, { n: 'taken' });
    const conflict = await failureOf(create({ Name: 'taken' }, {}));
    assert.equal(conflict.name, 'ConflictException');
    assert.equal(conflict.status, 409);
    const missing = await failureOf(create({ Name: 'x', GroupName: 'absent' }, {}));
    assert.deepEqual(missing, {
      name: 'ResourceNotFoundException',
      message: 'Schedule group absent does not exist.',
      status: 404,
    });
    const badInput = await failureOf(
      sdk((c) =>
        c.send(
          new CreateScheduleCommand({
            Name: 'bad',
            ScheduleExpression: 'rate(1 hour)',
            FlexibleTimeWindow: { Mode: 'OFF' },
            Target: { Arn: `${FN}:recorder`, RoleArn: SCHEDULER_ROLE, Input: 'not json' },
          }),
        ),
      ),
    );
    assert.equal(badInput.name, 'ValidationException');

    for (const name of ['p1', 'p2']) await create({ Name: name }, { n: name });
    const first = await sdk((c) => c.send(new ListSchedulesCommand({ MaxResults: 2 })));
    assert.deepEqual(
      first.Schedules?.map((s) => s.Name),
      ['p1', 'p2'],
    );
    assert.ok(first.NextToken !== undefined);
    const rest = await sdk((c) =>
      c.send(new ListSchedulesCommand({ MaxResults: 2, NextToken: first.NextToken })),
    );
    assert.deepEqual(
      rest.Schedules?.map((s) => s.Name),
      ['taken'],
    );
    assert.equal(rest.NextToken, undefined);
    for (const name of ['p1', 'p2', 'taken'])
      await sdk((c) => c.send(new DeleteScheduleCommand({ Name: name })));
  });
  test('a role trusting Scheduler only for one group (aws:SourceArn, aws:SourceAccount) serves that group alone', async () => {
    await server.parts.iam.createRole({
      roleName: 'scheduler-default-only',
      assumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'scheduler.amazonaws.com' },
            Action: 'sts:AssumeRole',
            Condition: {
              StringEquals: { 'aws:SourceAccount': '000000000000' },
              ArnEquals: {
                'aws:SourceArn': 'arn:aws:scheduler:us-east-1:000000000000:schedule-group/default',
              },
            },
          },
        ],
      }),
    });
    const role = 'arn:aws:iam::000000000000:role/scheduler-default-only';
    const target = { Arn: `${FN}:recorder`, RoleArn: role, Input: '{}' };
    await create({ Name: 'in-default', Target: target }, {});
    await sdk((c) => c.send(new CreateScheduleGroupCommand({ Name: 'elsewhere' })));
    const refused = await failureOf(
      create({ Name: 'in-elsewhere', GroupName: 'elsewhere', Target: target }, {}),
    );
    assert.deepEqual(refused, {
      name: 'ValidationException',
      message:
        'The execution role you provide must allow AWS EventBridge Scheduler to assume the role.',
      status: 400,
    });
    await sdk((c) => c.send(new DeleteScheduleCommand({ Name: 'in-default' })));
    await sdk((c) => c.send(new DeleteScheduleGroupCommand({ Name: 'elsewhere' })));
  });

  test("RetryPolicy narrows the asynchronous retries of the target's fires", async () => {
    await create(
      {
        Name: 'no-retries',
        Target: {
          Arn: `${FN}:always-fails`,
          RoleArn: SCHEDULER_ROLE,
          Input: '{}',
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
        },
      },
      {},
    );
    // With the function's own settings (2 retries) it would be Retrying; RetryPolicy allows none.
    const [failed] = await untilReceived(
      server,
      'always-fails',
      (events) => events.some((e) => e.status === 'Failed'),
      'the fire failed',
    );
    assert.equal(failed?.status, 'Failed');
    const event = await server.parts.asyncStore.get(failed?.requestId ?? '');
    assert.equal(event?.attempts, 1);
    assert.equal(event?.condition, 'RetriesExhausted');
    assert.deepEqual(event?.limits, { maximumRetryAttempts: 0, maximumEventAgeSeconds: 60 });
    await sdk((c) => c.send(new DeleteScheduleCommand({ Name: 'no-retries' })));
  });

  test('a fire for a function that does not exist goes to the dead-letter function', async () => {
    await sdk((c) =>
      c.send(
        new CreateScheduleCommand({
          Name: 'ghostly',
          ScheduleExpression: 'rate(1 day)',
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: {
            Arn: `${FN}:ghost`,
            RoleArn: SCHEDULER_ROLE,
            Input: '{"to":"ghost"}',
            DeadLetterConfig: { Arn: `${FN}:recorder` },
          },
        }),
      ),
    );
    const events = await untilReceived(
      server,
      'recorder',
      (all) => all.some((e) => (e.payload as { targetArn?: string }).targetArn === `${FN}:ghost`),
      'the dead-letter event',
    );
    const dead = events.find(
      (e) => (e.payload as { targetArn?: string }).targetArn === `${FN}:ghost`,
    );
    assert.deepEqual(
      {
        ...(dead?.payload as Record<string, unknown>),
        timestamp: undefined,
        invocationId: undefined,
        scheduledTime: undefined,
        errorMessage: undefined,
      },
      {
        version: '1.0',
        timestamp: undefined,
        scheduleArn: 'arn:aws:scheduler:us-east-1:000000000000:schedule/default/ghostly',
        targetArn: `${FN}:ghost`,
        invocationId: undefined,
        scheduledTime: undefined,
        errorCode: 'ResourceNotFoundException',
        errorMessage: undefined,
        exhaustedRetryCondition: 'MaximumRetryAttemptsExhausted',
        retryAttempts: 0,
        payload: { to: 'ghost' },
      },
    );
    const sqs = await failureOf(
      sdk((c) =>
        c.send(
          new UpdateScheduleCommand({
            Name: 'ghostly',
            ScheduleExpression: 'rate(1 day)',
            FlexibleTimeWindow: { Mode: 'OFF' },
            Target: {
              Arn: `${FN}:ghost`,
              RoleArn: SCHEDULER_ROLE,
              DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:000000000000:dlq' },
            },
          }),
        ),
      ),
    );
    assert.equal(sqs.name, 'ValidationException');
    assert.match(sqs.message, /Lamina has no SQS queues/);
    await sdk((c) => c.send(new DeleteScheduleCommand({ Name: 'ghostly' })));
  });

  test('a retried call with the same ClientToken answers as the first; tags of a group', async () => {
    const input = {
      Name: 'retried',
      ScheduleExpression: 'rate(1 day)',
      FlexibleTimeWindow: { Mode: 'OFF' as const },
      Target: { Arn: `${FN}:recorder`, RoleArn: SCHEDULER_ROLE, Input: '{"n":"retried"}' },
      ClientToken: 'token-1',
    };
    const first = await sdk((c) => c.send(new CreateScheduleCommand(input)));
    const again = await sdk((c) => c.send(new CreateScheduleCommand(input)));
    assert.equal(again.ScheduleArn, first.ScheduleArn);
    const other = await failureOf(
      sdk((c) => c.send(new CreateScheduleCommand({ ...input, ClientToken: 'token-2' }))),
    );
    assert.equal(other.name, 'ConflictException');
    const deleteInput = { Name: 'retried', ClientToken: 'token-3' };
    await sdk((c) => c.send(new DeleteScheduleCommand(deleteInput)));
    await sdk((c) => c.send(new DeleteScheduleCommand(deleteInput)));

    const group = await sdk((c) =>
      c.send(
        new CreateScheduleGroupCommand({ Name: 'tagged', Tags: [{ Key: 'team', Value: 'a' }] }),
      ),
    );
    const arn = group.ScheduleGroupArn ?? '';
    assert.equal(arn, 'arn:aws:scheduler:us-east-1:000000000000:schedule-group/tagged');
    await sdk((c) =>
      c.send(new TagResourceCommand({ ResourceArn: arn, Tags: [{ Key: 'env', Value: 'dev' }] })),
    );
    await sdk((c) => c.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: ['team'] })));
    const tags = await sdk((c) => c.send(new ListTagsForResourceCommand({ ResourceArn: arn })));
    assert.deepEqual(tags.Tags, [{ Key: 'env', Value: 'dev' }]);
    await sdk((c) => c.send(new DeleteScheduleGroupCommand({ Name: 'tagged' })));
  });
});

/** `create-schedule` arguments of a rate schedule targeting the recorder. */
function createArgs(
  name: string,
  group?: string,
  options: { expression?: string; target?: string } = {},
): string[] {
  return [
    'create-schedule',
    '--name',
    name,
    ...(group === undefined ? [] : ['--group-name', group]),
    '--schedule-expression',
    options.expression ?? 'rate(1 hour)',
    '--flexible-time-window',
    'Mode=OFF',
    '--target',
    options.target ?? `Arn=${FN}:recorder,RoleArn=${SCHEDULER_ROLE}`,
  ];
}

describe('fires missed while the server was stopped', () => {
  const clock = new ManualClock();
  const dir = tempDir();
  const overrides = {
    clock,
    logger: pino({ level: 'warn' }),
    env: {
      LAMINA_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      LAMINA_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    },
  };
  const start = async (): Promise<LaminaServer> => {
    const server = await buildLamina(
      { ...DEFAULT_CONFIG, port: 0, dataDir: dir.path, logLevel: 'warn' },
      overrides,
    );
    await grantTestRoles(server.parts.iam);
    await grantSchedulerRole(server.parts.iam);
    await server.start();
    return server;
  };
  let server: LaminaServer | undefined;
  after(async () => {
    await server?.stop();
    dir.remove();
  });

  test('an hourly schedule down for five and a half hours fires once at the next start', async () => {
    const payload = { n: 'missed' };
    const first = await start();
    server = first;
    const client = lambdaClient(first.endpoint);
    try {
      await deploy(client, 'recorder', RECORDER);
    } finally {
      client.destroy();
    }
    await withScheduler(first.endpoint, clock, (c) =>
      c.send(
        new CreateScheduleCommand({
          Name: 'hourly',
          ScheduleExpression: 'rate(1 hour)',
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: {
            Arn: `${FN}:recorder`,
            RoleArn: SCHEDULER_ROLE,
            Input: JSON.stringify(payload),
          },
        }),
      ),
    );
    await untilReceived(
      first,
      'recorder',
      (events) => withPayload(events, payload).some((e) => e.status === 'Succeeded'),
      'the fire at creation',
    );
    await first.stop();
    server = undefined;

    clock.advance(5 * HOUR + 30 * MINUTE);
    const second = await start();
    server = second;
    await untilReceived(
      second,
      'recorder',
      (events) => withPayload(events, payload).filter((e) => e.status === 'Succeeded').length >= 2,
      'the one catch-up fire',
    );
    await runnerSettled(second);
    const fires = withPayload(await receivedBy(second, 'recorder'), payload);
    assert.equal(fires.length, 2, 'five missed occurrences, one fire');
    // The next fire is on the hour's rhythm after the start, not at once.
    clock.advance(20 * MINUTE);
    await runnerSettled(second);
    assert.equal(withPayload(await receivedBy(second, 'recorder'), payload).length, 2);
    clock.advance(20 * MINUTE);
    await untilReceived(
      second,
      'recorder',
      (events) => withPayload(events, payload).length >= 3,
      'the next hourly fire',
    );
  });
});
