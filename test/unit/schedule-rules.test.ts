/**
 * What CreateSchedule and UpdateSchedule accept: the defaults a request gets, the model's bounds
 * (reported all at once, in AWS's form), the recorded expression messages, and the targets
 * Lamina refuses (anything but one of its functions) before anything is stored.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LambdaError } from '../../src/core/errors.js';
import {
  validateScheduleRequest,
  type ScheduleRequest,
  type TargetRequest,
} from '../../src/schedules/schedule-rules.js';

const scope = { region: 'us-east-1', accountId: '000000000000' };
const NOW = Date.parse('2030-06-01T12:00:00Z');
const FN = 'arn:aws:lambda:us-east-1:000000000000:function:fn';
const ROLE = 'arn:aws:iam::000000000000:role/sched';

function request(
  overrides: Partial<ScheduleRequest> = {},
  target: Partial<TargetRequest> = {},
): ScheduleRequest {
  return {
    name: 'every5',
    groupName: undefined,
    expression: 'rate(5 minutes)',
    timezone: undefined,
    startDateSeconds: undefined,
    endDateSeconds: undefined,
    description: undefined,
    state: undefined,
    kmsKeyArn: undefined,
    clientToken: undefined,
    actionAfterCompletion: undefined,
    flexibleWindow: { mode: 'OFF', maximumWindowMinutes: undefined },
    target: {
      arn: FN,
      roleArn: ROLE,
      input: undefined,
      retryPolicy: undefined,
      deadLetterArn: undefined,
      otherParameters: [],
      ...target,
    },
    ...overrides,
  };
}

/** The ValidationException message a request is refused with. */
function refusal(input: ScheduleRequest): string {
  try {
    validateScheduleRequest(input, scope, NOW);
  } catch (error) {
    assert.ok(error instanceof LambdaError, String(error));
    assert.equal(error.code, 'ValidationException');
    return error.message;
  }
  throw new Error('expected a ValidationException');
}

describe('schedule requests', () => {
  test('a minimal request gets AWS defaults: group default, ENABLED, NONE, the default RetryPolicy', () => {
    const valid = validateScheduleRequest(request(), scope, NOW);
    assert.equal(valid.groupName, 'default');
    assert.equal(valid.settings.state, 'ENABLED');
    assert.equal(valid.settings.actionAfterCompletion, 'NONE');
    assert.deepEqual(valid.settings.flexibleWindow, { mode: 'OFF' });
    assert.deepEqual(valid.settings.target, {
      arn: FN,
      functionName: 'fn',
      qualifier: undefined,
      roleArn: ROLE,
      input: undefined,
      retryPolicy: { maximumRetryAttempts: 185, maximumEventAgeSeconds: 86_400 },
      deadLetterArn: undefined,
    });
  });

  test('a qualified function ARN, a flexible window, dates, a dead-letter function and Input', () => {
    const valid = validateScheduleRequest(
      request(
        {
          expression: 'cron(0 3 ? * MON-FRI *)',
          timezone: 'Europe/Paris',
          flexibleWindow: { mode: 'FLEXIBLE', maximumWindowMinutes: 15 },
          startDateSeconds: NOW / 1000 + 60,
          endDateSeconds: NOW / 1000 + 86_400,
          state: 'DISABLED',
        },
        {
          arn: `${FN}:live`,
          input: '{"k":1}',
          retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeSeconds: undefined },
          deadLetterArn: `${FN}-dlq`,
        },
      ),
      scope,
      NOW,
    );
    assert.equal(valid.settings.target.functionName, 'fn');
    assert.equal(valid.settings.target.qualifier, 'live');
    assert.deepEqual(valid.settings.flexibleWindow, { mode: 'FLEXIBLE', maximumWindowMinutes: 15 });
    assert.equal(valid.settings.startMs, NOW + 60_000);
    assert.equal(valid.settings.state, 'DISABLED');
    assert.deepEqual(valid.settings.target.retryPolicy, {
      maximumRetryAttempts: 2,
      maximumEventAgeSeconds: 86_400,
    });
    assert.equal(valid.settings.target.deadLetterArn, `${FN}-dlq`);
  });

  test("the model's bounds are reported together, in AWS's validation form", () => {
    const message = refusal(
      request(
        { name: 'bad name!', flexibleWindow: undefined, state: 'PAUSED' },
        { retryPolicy: { maximumRetryAttempts: 186, maximumEventAgeSeconds: 59 } },
      ),
    );
    assert.equal(
      message,
      "5 validation errors detected: Value 'bad name!' at 'name' failed to satisfy constraint: " +
        'Member must satisfy regular expression pattern: ^[0-9a-zA-Z-_.]+$; ' +
        "Value 'PAUSED' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]; " +
        "Value null at 'flexibleTimeWindow' failed to satisfy constraint: Member must not be null; " +
        "Value '186' at 'target.retryPolicy.maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 185; " +
        "Value '59' at 'target.retryPolicy.maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60",
    );
    assert.match(
      refusal(request({ expression: undefined, target: undefined })),
      /^2 validation errors detected: Value null at 'scheduleExpression' .* Value null at 'target' failed to satisfy constraint: Member must not be null$/,
    );
    assert.match(refusal(request({ name: 'n'.repeat(65) })), /length less than or equal to 64/);
    assert.match(refusal(request({}, { roleArn: 'role/sched' })), /at 'target.roleArn'/);
    assert.match(refusal(request({ clientToken: 'a b' })), /at 'clientToken'/);
    assert.match(refusal(request({ kmsKeyArn: 'key' })), /at 'kmsKeyArn'/);
  });

  test("invalid expressions and zones answer the engine's (recorded) messages", () => {
    assert.equal(
      refusal(request({ expression: 'cron(0 1 * * * *)' })),
      'Invalid Schedule Expression cron(0 1 * * * *).',
    );
    assert.equal(
      refusal(request({ expression: 'rate(10 seconds)' })),
      'Invalid Schedule Expression rate(10 seconds).',
    );
    assert.equal(
      refusal(request({ timezone: 'Mars/Olympus' })),
      'Invalid Schedule Expression Timezone Mars/Olympus.',
    );
  });

  test('dates: a recurring StartDate more than 5 minutes past, an EndDate not after it', () => {
    assert.equal(
      refusal(request({ startDateSeconds: (NOW - 6 * 60_000) / 1000 })),
      'The StartDate you specify cannot be earlier than 5 minutes ago.',
    );
    // Within the 5 minutes it is taken; for one-time schedules dates are ignored.
    validateScheduleRequest(request({ startDateSeconds: (NOW - 4 * 60_000) / 1000 }), scope, NOW);
    validateScheduleRequest(
      request({ expression: 'at(2031-01-01T00:00:00)', startDateSeconds: 0 }),
      scope,
      NOW,
    );
    assert.equal(
      refusal(request({ startDateSeconds: NOW / 1000 + 60, endDateSeconds: NOW / 1000 + 60 })),
      'The EndDate you specify must be after the StartDate.',
    );
  });

  test('the flexible window: FLEXIBLE needs a size, OFF takes none', () => {
    assert.match(
      refusal(request({ flexibleWindow: { mode: 'FLEXIBLE', maximumWindowMinutes: undefined } })),
      /MaximumWindowInMinutes is required/,
    );
    assert.match(
      refusal(request({ flexibleWindow: { mode: 'OFF', maximumWindowMinutes: 5 } })),
      /must not be provided/,
    );
    assert.match(
      refusal(request({ flexibleWindow: { mode: 'FLEXIBLE', maximumWindowMinutes: 1441 } })),
      /flexibleTimeWindow.maximumWindowInMinutes.*less than or equal to 1440/,
    );
  });

  test('targets other than functions of this server are refused, saying what Lamina takes', () => {
    for (const [arn, why] of [
      ['arn:aws:sqs:us-east-1:000000000000:queue', 'sqs targets are not supported'],
      ['arn:aws:sns:us-east-1:000000000000:topic', 'sns targets are not supported'],
      ['arn:aws:scheduler:::aws-sdk:sqs:sendMessage', 'universal (aws-sdk) targets'],
      ['arn:aws:lambda:eu-west-1:000000000000:function:fn', 'not a function of this server'],
      ['arn:aws:lambda:us-east-1:111111111111:function:fn', 'not a function of this server'],
      ['fn', 'it is not an ARN'],
    ] as const) {
      const message = refusal(request({}, { arn }));
      assert.ok(message.includes(why), `${arn}: ${message}`);
      assert.ok(message.includes('arn:aws:lambda:us-east-1:000000000000:function:<name>'));
    }
    assert.equal(
      refusal(request({}, { otherParameters: ['SqsParameters'] })),
      'SqsParameters cannot be used with a Lambda function target.',
    );
    assert.match(
      refusal(request({}, { deadLetterArn: 'arn:aws:sqs:us-east-1:000000000000:dlq' })),
      /Lamina has no SQS queues; a dead-letter target must be a Lamina function ARN/,
    );
  });

  test('Input must be well-formed JSON, not too deep, within 256 KB', () => {
    const json = 'Target Input must be well-formed JSON for a Lambda function target.';
    assert.equal(refusal(request({}, { input: '{"k":' })), json);
    assert.equal(refusal(request({}, { input: 'hello' })), json);
    assert.equal(refusal(request({}, { input: '['.repeat(2000) + ']'.repeat(2000) })), json);
    assert.match(refusal(request({}, { input: `"${'x'.repeat(262_144)}"` })), /too large/);
    assert.match(refusal(request({}, { input: '' })), /at 'target.input'/);
    for (const input of ['{}', '[1,2]', '"text"', '42', 'null'])
      validateScheduleRequest(request({}, { input }), scope, NOW);
  });
});
