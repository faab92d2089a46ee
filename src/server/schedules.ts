/**
 * Composition of EventBridge Scheduler: the schedules' store, the API's service, the runner that
 * fires them into the asynchronous queue, and the check that a schedule's execution role exists
 * and trusts `scheduler.amazonaws.com`.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { AsyncEventService } from '../async/async-event-service.js';
import type { Scope } from '../core/arn.js';
import type { Clock } from '../core/clock.js';
import { LambdaError } from '../core/errors.js';
import type { IdSource } from '../core/ids.js';
import { policyAllows } from '../core/policy-evaluation.js';
import type { Authorizer } from '../iam/authorizer.js';
import type { IamService } from '../iam/iam-service.js';
import type { RandomSource } from '../schedules/fire-plan.js';
import type { FireSink, ScheduleRoles } from '../schedules/ports.js';
import { ScheduleRunner, type ScheduleRunnerDeps } from '../schedules/schedule-runner.js';
import { ScheduleService } from '../schedules/schedule-service.js';
import type { Database } from '../store/database-schema.js';
import { SqliteScheduleRepository } from '../store/sqlite-schedule-repository.js';

const SCHEDULER = 'scheduler.amazonaws.com';

export interface Schedules {
  readonly service: ScheduleService;
  readonly runner: ScheduleRunner;
}

export function buildSchedules(deps: {
  readonly db: Kysely<Database>;
  readonly scope: Scope;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly logger: Logger;
  readonly random?: RandomSource | undefined;
  readonly asyncEvents: Pick<AsyncEventService, 'accept' | 'get'>;
  readonly iam: IamService;
  readonly authorizer: Authorizer;
  /** Hears of fires their dead-letter function refused too (metrics). */
  readonly observer?: ScheduleRunnerDeps['observer'];
}): Schedules {
  const { scope, clock, logger, asyncEvents } = deps;
  const random = deps.random ?? Math.random;
  const repository = new SqliteScheduleRepository(deps.db);
  const sink: FireSink = {
    deliver: async (fire) => {
      if (await exists(asyncEvents, fire.requestId)) return 'duplicate';
      await asyncEvents.accept({
        requestId: fire.requestId,
        functionName: fire.functionName,
        qualifier: fire.qualifier,
        payload: fire.payload,
        clientContext: undefined,
        limits: fire.retryPolicy,
        trigger: 'schedule',
      });
      return 'enqueued';
    },
  };
  const runner = new ScheduleRunner({
    scope,
    repository,
    sink,
    clock,
    random,
    observer: deps.observer,
    onError: (error, scheduleArn) =>
      logger.error({ err: error, scheduleArn }, 'a schedule could not fire'),
  });
  const service = new ScheduleService({
    scope,
    repository,
    roles: schedulerRoles(deps.iam, deps.authorizer),
    clock,
    ids: deps.ids,
    random,
    onChanged: () => runner.wake(),
  });
  return { service, runner };
}

async function exists(
  asyncEvents: Pick<AsyncEventService, 'get'>,
  requestId: string,
): Promise<boolean> {
  try {
    await asyncEvents.get(requestId);
    return true;
  } catch (error) {
    if (error instanceof LambdaError && error.code === 'ResourceNotFoundException') return false;
    throw error;
  }
}

/**
 * A role a schedule may name: it exists in this account and its trust policy lets Scheduler
 * assume it (with `aws:SourceAccount` and `aws:SourceArn` — the schedule group — as AWS sets
 * them). Its permission policies are not consulted when the schedule fires.
 */
function schedulerRoles(iam: IamService, authorizer: Authorizer): ScheduleRoles {
  return {
    schedulerMayAssume: async (roleArn, scheduleGroupArn) => {
      const match = /^arn:aws[a-zA-Z-]*:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(roleArn);
      const account = iam.accountId;
      if (match === null || match[1] !== account) return false;
      const role = await iam.getRole(match[2]).catch(() => undefined);
      if (role === undefined || role.arn !== roleArn) return false;
      const trust = authorizer.compile(role.assumeRolePolicyDocument, 'trust');
      return (
        policyAllows(trust, {
          principal: { arn: SCHEDULER, account, service: SCHEDULER },
          action: 'sts:AssumeRole',
          resource: role.arn,
          context: { 'aws:SourceAccount': account, 'aws:SourceArn': scheduleGroupArn },
        }) === 'allow'
      );
    },
  };
}
