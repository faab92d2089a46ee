/**
 * EventBridge Scheduler at the control API's edge: every route is authorized with the action and
 * resource AWS's Service Authorization Reference lists, and errors are rendered in Scheduler's
 * shape (`x-amzn-ErrorType`, `{"Message": …}`, the model's statuses).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accessOf, AUTHORIZED_OPERATIONS } from '../../src/api/route-access.js';
import { renderSchedulerError, SCHEDULER_ROUTES } from '../../src/api/scheduler-routes.js';
import { nestingExceeds } from '../../src/core/json-depth.js';
import { LambdaError } from '../../src/core/errors.js';

const scope = { region: 'us-east-1', accountId: '111122223333' };
const base = 'arn:aws:scheduler:us-east-1:111122223333';

test('every Scheduler route has an action and a resource, signed for scheduler', () => {
  assert.deepEqual(
    SCHEDULER_ROUTES.map((r) => r.operation).filter((op) => !AUTHORIZED_OPERATIONS.has(op)),
    [],
  );
  assert.ok(SCHEDULER_ROUTES.every((r) => r.service === 'scheduler'));
});

test('schedules by group and name; groups by name; listings on *', () => {
  const of = (
    operation: string,
    params: Record<string, string>,
    query: Record<string, string> = {},
    body?: Record<string, unknown>,
  ) => accessOf(operation, { params, query, body }, scope);
  assert.deepEqual(of('CreateSchedule', { Name: 's' }, {}, { GroupName: 'g1' }), {
    action: 'scheduler:CreateSchedule',
    resource: `${base}:schedule/g1/s`,
  });
  assert.equal(of('UpdateSchedule', { Name: 's' }, {}, {}).resource, `${base}:schedule/default/s`);
  assert.equal(
    of('GetSchedule', { Name: 's' }, { groupName: 'g2' }).resource,
    `${base}:schedule/g2/s`,
  );
  assert.equal(of('DeleteSchedule', { Name: 's' }).resource, `${base}:schedule/default/s`);
  assert.deepEqual(of('ListSchedules', {}), { action: 'scheduler:ListSchedules', resource: '*' });
  assert.deepEqual(of('DeleteScheduleGroup', { Name: 'g' }), {
    action: 'scheduler:DeleteScheduleGroup',
    resource: `${base}:schedule-group/g`,
  });
  assert.equal(of('ListScheduleGroups', {}).resource, '*');
  const arn = `${base}:schedule-group/g`;
  assert.deepEqual(of('SchedulerTagResource', { ResourceArn: arn }), {
    action: 'scheduler:TagResource',
    resource: arn,
  });
  assert.equal(
    of('SchedulerListTagsForResource', { ResourceArn: arn }).action,
    'scheduler:ListTagsForResource',
  );
});

test("errors in Scheduler's shape, Lambda's vocabulary translated", () => {
  const render = (error: unknown): [number, string | undefined, unknown] => {
    const rendered = renderSchedulerError(error, 'req-1');
    const body: unknown = JSON.parse(rendered.body);
    return [rendered.status, rendered.headers['x-amzn-errortype'], body];
  };
  assert.deepEqual(render(new LambdaError('ValidationException', 'bad')), [
    400,
    'ValidationException',
    { Message: 'bad' },
  ]);
  assert.deepEqual(render(new LambdaError('ConflictException', 'taken')), [
    409,
    'ConflictException',
    { Message: 'taken' },
  ]);
  assert.deepEqual(render(new LambdaError('ServiceQuotaExceededException', 'full')).slice(0, 2), [
    402,
    'ServiceQuotaExceededException',
  ]);
  assert.deepEqual(
    render(new LambdaError('InvalidRequestContentException', 'not JSON')).slice(0, 2),
    [400, 'ValidationException'],
  );
  assert.deepEqual(render(new LambdaError('ResourceNotFoundException', 'gone')).slice(0, 2), [
    404,
    'ResourceNotFoundException',
  ]);
  assert.deepEqual(render(new LambdaError('TooManyRequestsException', 'busy')).slice(0, 2), [
    429,
    'ThrottlingException',
  ]);
  assert.deepEqual(render(new LambdaError('InvalidSignatureException', 'wrong')).slice(0, 2), [
    403,
    'InvalidSignatureException',
  ]);
  const [status, type, body] = render(new Error('disk on fire'));
  assert.equal(status, 500);
  assert.equal(type, 'InternalServerException');
  assert.match((body as { Message: string }).Message, /internal error occurred \(request req-1\)/);
});

test('bodies nested too deeply are found without parsing, strings skipped', () => {
  const bytes = (text: string) => Buffer.from(text);
  assert.equal(nestingExceeds(bytes('{"a":{"b":[1,2]}}'), 3), false);
  assert.equal(nestingExceeds(bytes('{"a":{"b":[[1]]}}'), 3), true);
  assert.equal(nestingExceeds(bytes(`{"Input":"${'['.repeat(100)}"}`), 3), false);
  assert.equal(nestingExceeds(bytes(`{"a":"\\"[[[[[","b":{}}`), 2), false);
  assert.equal(nestingExceeds(bytes('['.repeat(1_000_000)), 32), true);
});
