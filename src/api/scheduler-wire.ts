/**
 * EventBridge Scheduler's wire shapes (restJson1): request bodies read into the schedules'
 * request types, and schedules and groups written back with AWS's member names. Timestamps travel
 * as epoch seconds, as restJson sends them.
 */
import type { Schedule, ScheduleGroup } from '../core/schedule.js';
import { lambdaErrors } from '../core/errors.js';
import { nestingExceeds } from '../core/json-depth.js';
import type { ScheduleRequest } from '../schedules/schedule-rules.js';
import { parseJsonObject, type WireObject } from './wire-reader.js';

/** Templated-target members of `Target` that do not apply to a Lambda function target. */
const OTHER_TARGET_PARAMETERS = [
  'EcsParameters',
  'EventBridgeParameters',
  'KinesisParameters',
  'SageMakerPipelineParameters',
  'SqsParameters',
] as const;

/**
 * Deepest nesting of a Scheduler request body. Its shapes are a few levels deep (`Input` is a
 * string); deeper bodies are refused before they are parsed, since parsing bracket soup blocks
 * the event loop (a megabyte of `[` takes V8 about 0.3 s).
 */
export const MAX_BODY_NESTING = 32;

/** A Scheduler request body as a JSON object (empty: `{}`). */
export function parseSchedulerBody(body: Buffer): WireObject {
  if (nestingExceeds(body, MAX_BODY_NESTING))
    throw lambdaErrors.validation(
      `The request body is nested more than ${MAX_BODY_NESTING} levels deep.`,
    );
  return parseJsonObject(body);
}

/** A CreateSchedule / UpdateSchedule request: the `{Name}` label and the JSON body. */
export function readScheduleRequest(name: string, body: Buffer): ScheduleRequest {
  const wire = parseSchedulerBody(body);
  const window = wire.object('FlexibleTimeWindow');
  const target = wire.object('Target');
  const retry = target?.object('RetryPolicy');
  return {
    name,
    groupName: wire.string('GroupName'),
    expression: wire.string('ScheduleExpression'),
    timezone: wire.string('ScheduleExpressionTimezone'),
    startDateSeconds: timestamp(wire, 'StartDate'),
    endDateSeconds: timestamp(wire, 'EndDate'),
    description: wire.string('Description'),
    state: wire.string('State'),
    kmsKeyArn: wire.string('KmsKeyArn'),
    clientToken: wire.string('ClientToken'),
    actionAfterCompletion: wire.string('ActionAfterCompletion'),
    flexibleWindow:
      window === undefined
        ? undefined
        : {
            mode: window.string('Mode'),
            maximumWindowMinutes: window.integer('MaximumWindowInMinutes'),
          },
    target:
      target === undefined
        ? undefined
        : {
            arn: target.string('Arn'),
            roleArn: target.string('RoleArn'),
            input: target.string('Input'),
            retryPolicy:
              retry === undefined
                ? undefined
                : {
                    maximumRetryAttempts: retry.integer('MaximumRetryAttempts'),
                    maximumEventAgeSeconds: retry.integer('MaximumEventAgeInSeconds'),
                  },
            deadLetterArn: target.object('DeadLetterConfig')?.string('Arn'),
            otherParameters: OTHER_TARGET_PARAMETERS.filter((key) => target.raw(key) !== undefined),
          },
  };
}

/** CreateScheduleGroup's body: its tags (`[{Key, Value}]`) and client token. */
export function readGroupRequest(body: Buffer): {
  tags: Record<string, string>;
  clientToken: string | undefined;
} {
  const wire = parseSchedulerBody(body);
  return { tags: readTags(wire), clientToken: wire.string('ClientToken') };
}

/** `Tags: [{Key, Value}]` as a map (a repeated key: the last one). */
export function readTags(wire: WireObject): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const tag of wire.objectList('Tags') ?? []) {
    const key = tag.string('Key');
    const value = tag.string('Value');
    if (key === undefined || value === undefined)
      throw lambdaErrors.validation('Every tag needs a Key and a Value.');
    tags[key] = value;
  }
  return tags;
}

/** GetSchedule's answer. Defaults AWS applies are shown (UTC, NONE, the default RetryPolicy). */
export function toScheduleOutput(schedule: Schedule): Record<string, unknown> {
  const { target, flexibleWindow } = schedule;
  const out: Record<string, unknown> = {
    ActionAfterCompletion: schedule.actionAfterCompletion,
    Arn: schedule.arn,
    CreationDate: seconds(schedule.creationMs),
    FlexibleTimeWindow:
      flexibleWindow.mode === 'OFF'
        ? { Mode: 'OFF' }
        : { Mode: 'FLEXIBLE', MaximumWindowInMinutes: flexibleWindow.maximumWindowMinutes },
    GroupName: schedule.groupName,
    LastModificationDate: seconds(schedule.lastModificationMs),
    Name: schedule.name,
    ScheduleExpression: schedule.expression,
    ScheduleExpressionTimezone: schedule.timezone ?? 'UTC',
    State: schedule.state,
    Target: {
      Arn: target.arn,
      RoleArn: target.roleArn,
      ...(target.input === undefined ? {} : { Input: target.input }),
      RetryPolicy: {
        MaximumEventAgeInSeconds: target.retryPolicy.maximumEventAgeSeconds,
        MaximumRetryAttempts: target.retryPolicy.maximumRetryAttempts,
      },
      ...(target.deadLetterArn === undefined
        ? {}
        : { DeadLetterConfig: { Arn: target.deadLetterArn } }),
    },
  };
  if (schedule.description !== undefined) out['Description'] = schedule.description;
  if (schedule.startMs !== undefined) out['StartDate'] = seconds(schedule.startMs);
  if (schedule.endMs !== undefined) out['EndDate'] = seconds(schedule.endMs);
  if (schedule.kmsKeyArn !== undefined) out['KmsKeyArn'] = schedule.kmsKeyArn;
  return out;
}

/** A ListSchedules entry (ScheduleSummary). */
export function toScheduleSummary(schedule: Schedule): Record<string, unknown> {
  return {
    Arn: schedule.arn,
    CreationDate: seconds(schedule.creationMs),
    GroupName: schedule.groupName,
    LastModificationDate: seconds(schedule.lastModificationMs),
    Name: schedule.name,
    State: schedule.state,
    Target: { Arn: schedule.target.arn },
  };
}

/** GetScheduleGroup's answer, and a ListScheduleGroups entry. */
export function toGroupOutput(group: ScheduleGroup): Record<string, unknown> {
  return {
    Arn: group.arn,
    CreationDate: seconds(group.creationMs),
    LastModificationDate: seconds(group.lastModificationMs),
    Name: group.name,
    State: 'ACTIVE',
  };
}

export function toTagList(tags: Readonly<Record<string, string>>): Record<string, string>[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** A restJson timestamp: epoch seconds (a number); an ISO-8601 string is taken too. */
function timestamp(wire: WireObject, key: string): number | undefined {
  const value = wire.raw(key);
  if (value === undefined) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const parsed = Date.parse(value);
    if (!Number.isNaN(parsed)) return parsed / 1000;
  }
  throw lambdaErrors.validation(`${key} must be a timestamp (epoch seconds).`);
}

function seconds(ms: number): number {
  return ms / 1000;
}
