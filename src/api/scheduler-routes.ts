/**
 * EventBridge Scheduler at the control API's endpoint: its routes (restJson1 under `/schedules`,
 * `/schedule-groups` and `/tags`, signed for the `scheduler` service) and its error shape —
 * `x-amzn-ErrorType` and `{"Message": …}`, with the statuses of Scheduler's model. Errors raised
 * in Lambda's vocabulary (a body that is not JSON, a conflict) are said in Scheduler's.
 */
import { LambdaError, type ErrorCode } from '../core/errors.js';
import type { RenderedError } from './error-response.js';
import {
  createSchedule,
  deleteSchedule,
  getSchedule,
  listSchedules,
  updateSchedule,
} from './handlers/schedules.js';
import {
  createScheduleGroup,
  deleteScheduleGroup,
  getScheduleGroup,
  listScheduleGroups,
  listSchedulerTags,
  tagSchedulerResource,
  untagSchedulerResource,
} from './handlers/schedule-groups.js';
import type { Route } from './route-table.js';

/**
 * Largest Scheduler request body (640 KB): a schedule with the largest Input (256 KB), whose JSON
 * escaping at most doubles it (`"` → `\"`; control characters cannot appear in it unescaped),
 * and the rest of the schedule. Anything larger is refused before it is parsed.
 */
export const SCHEDULER_BODY_LIMIT = 655_360;

const route = (
  method: Route['method'],
  path: string,
  operation: string,
  handler: Route['handler'],
): Route => ({
  method,
  path,
  operation,
  handler,
  bodyLimit: SCHEDULER_BODY_LIMIT,
  service: 'scheduler',
});

export const SCHEDULER_ROUTES: readonly Route[] = [
  route('POST', '/schedules/:Name', 'CreateSchedule', createSchedule),
  route('GET', '/schedules/:Name', 'GetSchedule', getSchedule),
  route('PUT', '/schedules/:Name', 'UpdateSchedule', updateSchedule),
  route('DELETE', '/schedules/:Name', 'DeleteSchedule', deleteSchedule),
  route('GET', '/schedules', 'ListSchedules', listSchedules),
  route('POST', '/schedule-groups/:Name', 'CreateScheduleGroup', createScheduleGroup),
  route('GET', '/schedule-groups/:Name', 'GetScheduleGroup', getScheduleGroup),
  route('DELETE', '/schedule-groups/:Name', 'DeleteScheduleGroup', deleteScheduleGroup),
  route('GET', '/schedule-groups', 'ListScheduleGroups', listScheduleGroups),
  route('GET', '/tags/:ResourceArn', 'SchedulerListTagsForResource', listSchedulerTags),
  route('POST', '/tags/:ResourceArn', 'SchedulerTagResource', tagSchedulerResource),
  route('DELETE', '/tags/:ResourceArn', 'SchedulerUntagResource', untagSchedulerResource),
];

/** Lambda's codes said in Scheduler's vocabulary; the others (signatures, access) pass as they are. */
const AS_SCHEDULER: Partial<Record<ErrorCode, string>> = {
  InvalidRequestContentException: 'ValidationException',
  InvalidParameterValueException: 'ValidationException',
  UnsupportedMediaTypeException: 'ValidationException',
  ResourceConflictException: 'ConflictException',
  TooManyRequestsException: 'ThrottlingException',
  ServiceException: 'InternalServerException',
};

/** Statuses of the names Scheduler's model has that Lamina's catalogue lacks. */
const STATUS: Readonly<Record<string, number>> = { ThrottlingException: 429 };

/** Renders an error of a Scheduler request; anything unexpected is an InternalServerException. */
export function renderSchedulerError(error: unknown, requestId: string): RenderedError {
  const known =
    error instanceof LambdaError
      ? error
      : new LambdaError(
          'InternalServerException',
          `An internal error occurred (request ${requestId}); the server log has the details.`,
        );
  const type = AS_SCHEDULER[known.code] ?? known.code;
  const status = STATUS[type] ?? (type === 'ValidationException' ? 400 : known.spec.status);
  const headers: Record<string, string> = {
    'x-amzn-errortype': type,
    'content-type': 'application/json',
  };
  if (known.extras.retryAfterSeconds !== undefined)
    headers['retry-after'] = String(known.extras.retryAfterSeconds);
  return { status, headers, body: JSON.stringify({ Message: known.message }) };
}
