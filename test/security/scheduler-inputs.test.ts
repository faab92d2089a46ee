/**
 * EventBridge Scheduler under hostile input: bodies of bracket soup, bodies over the limit, an Input nested thousands deep, expressions
 * built to be slow, signatures for another service — each refused in Scheduler's error shape while
 * a victim function keeps its warm latency; the schedule and group quotas answered with
 * ServiceQuotaExceededException; and per-minute crons across a clock jump of a year fire once
 * each, not once per missed minute.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  CreateScheduleCommand,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { SCHEDULER_LIMITS } from '../../src/core/schedule.js';
import type { LaminaServer } from '../../src/server/lamina-server.js';
import { prepareVictim, VICTIM_P99_LIMIT_MS, type Victim } from '../helpers/attack-harness.js';
import { useServer } from '../helpers/server-suite.js';
import {
  prepareSigned,
  sendInWorker,
  sendSigned,
  type PreparedRequest,
  type SentOutcome,
} from '../helpers/signed-requests.js';
import { deploy } from '../helpers/functions.js';
import { useInProcessServer } from '../helpers/in-process-server.js';
import { failureOf } from '../helpers/lambda-client.js';
import { ManualClock } from '../helpers/manual-clock.js';
import {
  grantSchedulerRole,
  receivedBy,
  runnerSettled,
  SCHEDULER_ROLE,
  SCHEDULER_ROLE_NAME,
  SCHEDULER_TRUST,
  untilReceived,
  withScheduler,
} from '../helpers/scheduler.js';
import { TEST_CREDENTIALS } from '../helpers/server-process.js';

const FN = 'arn:aws:lambda:us-east-1:000000000000:function';
const YEAR = 365 * 24 * 3_600_000;

/** Signs and sends from this thread (outside any measured window). */
async function signed(
  endpoint: string,
  method: 'POST' | 'GET',
  path: string,
  body: string | undefined,
  service = 'scheduler',
): Promise<SentOutcome> {
  return sendSigned(await prepareSigned(endpoint, method, path, body, service));
}

function scheduleBody(expression: string, input?: string): string {
  return JSON.stringify({
    ScheduleExpression: expression,
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: {
      Arn: `${FN}:sink`,
      RoleArn: SCHEDULER_ROLE,
      ...(input === undefined ? {} : { Input: input }),
    },
  });
}

describe('hostile Scheduler requests against a server process', () => {
  const suite = useServer();
  let victim: Victim;

  before(async () => {
    const iam = new IAMClient({
      endpoint: suite.server.endpoint,
      region: 'us-east-1',
      credentials: TEST_CREDENTIALS,
      maxAttempts: 1,
    });
    try {
      await iam.send(
        new CreateRoleCommand({
          RoleName: SCHEDULER_ROLE_NAME,
          AssumeRolePolicyDocument: SCHEDULER_TRUST,
        }),
      );
    } finally {
      iam.destroy();
    }
    victim = await prepareVictim(suite.client);
  });

  test('hostile bodies are refused in Scheduler’s shape while a victim keeps its latency', async () => {
    const endpoint = suite.server.endpoint;
    const soup = '['.repeat(300_000) + ']'.repeat(300_000);
    // Signed before the measured window: the attacker's own hashing is not the server's cost.
    const cases: Array<[string, PreparedRequest, number, string]> = [
      [
        '600 KB of brackets',
        await prepareSigned(endpoint, 'POST', '/schedules/soup', soup, 'scheduler'),
        400,
        'ValidationException',
      ],
      [
        'a body over the limit',
        await prepareSigned(
          endpoint,
          'POST',
          '/schedules/big',
          `{"Description":"${'x'.repeat(1_500_000)}"}`,
          'scheduler',
        ),
        413,
        'RequestEntityTooLargeException',
      ],
      [
        'an Input nested 5,000 deep',
        await prepareSigned(
          endpoint,
          'POST',
          '/schedules/deep',
          scheduleBody('rate(1 hour)', '['.repeat(5000) + ']'.repeat(5000)),
          'scheduler',
        ),
        400,
        'ValidationException',
      ],
      [
        'an expression of 300,000 characters',
        await prepareSigned(
          endpoint,
          'POST',
          '/schedules/huge',
          scheduleBody(`cron(${'1,'.repeat(150_000)}1 * * * ? *)`),
          'scheduler',
        ),
        400,
        'ValidationException',
      ],
      [
        'a signature for Lambda on a Scheduler route',
        await prepareSigned(
          endpoint,
          'POST',
          '/schedules/x',
          scheduleBody('rate(1 hour)'),
          'lambda',
        ),
        403,
        'InvalidSignatureException',
      ],
      [
        'a Scheduler signature on a Lambda route',
        await prepareSigned(endpoint, 'GET', '/2015-03-31/functions', undefined, 'scheduler'),
        403,
        'InvalidSignatureException',
      ],
    ];
    // One round first, unmeasured: the server compiles its refusal paths once, not per attack.
    await sendInWorker(
      cases.map(([, request]) => request),
      1,
    );
    // Sent from a worker thread: the bodies' sending is not the test thread's (the victim's) time.
    // Rounds enough for a hundred victim invokes: its 99th percentile is then not its one worst.
    const rounds = 16;
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
      const [what, , status, type] = cases[i % cases.length] ?? ['?', undefined, 0, ''];
      assert.deepEqual([outcome.status, outcome.type], [status, type], `${what}: ${outcome.text}`);
    });
    assert.ok(
      p99Ms < VICTIM_P99_LIMIT_MS,
      `victim p99 ${p99Ms.toFixed(1)} ms over ${latenciesMs.length} invokes`,
    );
    const [soupCase] = cases;
    assert.ok(soupCase !== undefined);
    const soupAnswer = await sendSigned(soupCase[1]);
    assert.deepEqual(JSON.parse(soupAnswer.text), {
      Message: 'The request body is nested more than 32 levels deep.',
    });
    // Nothing was made by any of them.
    const listed = await signed(endpoint, 'GET', '/schedules', undefined);
    assert.deepEqual(JSON.parse(listed.text), { Schedules: [] });
  });
});

describe('EventBridge Scheduler quotas and clock jumps', () => {
  const clock = new ManualClock();
  const suite = useInProcessServer({ logLevel: 'error' }, clock);
  let server: LaminaServer;

  before(async () => {
    server = suite.server;
    await grantSchedulerRole(server.parts.iam);
    await deploy(suite.client, 'sink', { 'index.js': 'exports.handler = async () => ({});' });
  });

  test('the schedule and group quotas answer ServiceQuotaExceededException (402)', async () => {
    const { db } = server.parts;
    // Fill the store straight away (making 10,000 schedules through the API takes minutes).
    const filler = Array.from({ length: SCHEDULER_LIMITS.schedules }, (_, i) => ({
      group_name: 'default',
      name: `filler-${i}`,
      state: 'DISABLED',
      due_ms: null,
      revision: 1,
      record_json: '{}',
    }));
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < filler.length; i += 500)
        await trx
          .insertInto('schedules')
          .values(filler.slice(i, i + 500))
          .execute();
    });
    const full = await failureOf(
      withScheduler(server.endpoint, clock, (c) =>
        c.send(
          new CreateScheduleCommand({
            Name: 'one-too-many',
            ScheduleExpression: 'rate(1 hour)',
            FlexibleTimeWindow: { Mode: 'OFF' },
            Target: { Arn: `${FN}:sink`, RoleArn: SCHEDULER_ROLE },
          }),
        ),
      ),
    );
    assert.equal(full.name, 'ServiceQuotaExceededException');
    assert.equal(full.status, 402);
    assert.match(full.message, /quota of 10000 schedules/);
    await db.deleteFrom('schedules').where('name', 'like', 'filler-%').execute();

    const groups = Array.from({ length: SCHEDULER_LIMITS.groups - 1 }, (_, i) => ({
      name: `g-${i}`,
      record_json: '{}',
    }));
    await db.insertInto('schedule_groups').values(groups).execute();
    const tooMany = await failureOf(
      withScheduler(server.endpoint, clock, (c) =>
        c.send(new CreateScheduleGroupCommand({ Name: 'one-too-many' })),
      ),
    );
    assert.equal(tooMany.name, 'ServiceQuotaExceededException');
    await db.deleteFrom('schedule_groups').where('name', 'like', 'g-%').execute();
  });

  test('a cron that never matches (31 February) is taken at once and never fires', async () => {
    const started = Date.now();
    const made = await signed(
      server.endpoint,
      'POST',
      '/schedules/never',
      scheduleBody('cron(0 0 31 2 ? *)'),
    );
    assert.equal(made.status, 200, made.text);
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
    const row = await server.parts.db
      .selectFrom('schedules')
      .select('due_ms')
      .where('name', '=', 'never')
      .executeTakeFirstOrThrow();
    assert.equal(row.due_ms, null);
    await withScheduler(server.endpoint, clock, (c) =>
      c.send(new DeleteScheduleCommand({ Name: 'never' })),
    );
  });

  test('per-minute crons across a clock jump of a year fire once each, then each minute', async () => {
    const count = 40;
    for (let i = 0; i < count; i += 1)
      await withScheduler(server.endpoint, clock, (c) =>
        c.send(
          new CreateScheduleCommand({
            Name: `every-minute-${i}`,
            ScheduleExpression: 'cron(* * * * ? *)',
            FlexibleTimeWindow: { Mode: 'OFF' },
            Target: { Arn: `${FN}:sink`, RoleArn: SCHEDULER_ROLE, Input: `{"i":${i}}` },
          }),
        ),
      );
    const before = (await receivedBy(server, 'sink')).length;
    clock.advance(YEAR);
    await untilReceived(
      server,
      'sink',
      (events) => events.length >= before + count,
      'one fire of each schedule',
    );
    await runnerSettled(server);
    assert.equal((await receivedBy(server, 'sink')).length, before + count);
    // Nothing is left due: the runner sleeps until the next minute instead of catching up.
    const due = await server.parts.db
      .selectFrom('schedules')
      .select((eb) => eb.fn.min<number>('due_ms').as('next'))
      .executeTakeFirstOrThrow();
    assert.ok(due.next > clock.now() && due.next <= clock.now() + 60_000, `next due ${due.next}`);
    clock.advance(60_000);
    await untilReceived(
      server,
      'sink',
      (events) => events.length >= before + 2 * count,
      'the next minute’s fires',
    );
    await runnerSettled(server);
    assert.equal((await receivedBy(server, 'sink')).length, before + 2 * count);
  });
});
