/**
 * What CreateSchedule and UpdateSchedule accept, as a pure function of the request, the scope and
 * the time: the members' bounds and patterns from Scheduler's service model (reported all at once,
 * in AWS's `N validation errors detected: …` form), then the rules between members (the
 * expression and its zone, the dates, the flexible window, the target). Lamina's Scheduler only
 * invokes Lamina functions; any other target is refused here, before anything is stored.
 */
import type { Scope } from '../core/arn.js';
import { lambdaErrors } from '../core/errors.js';
import { nestingDepth, MAX_JSON_NESTING } from '../core/json-depth.js';
import {
  ACTIONS_AFTER_COMPLETION,
  DEFAULT_GROUP,
  FLEXIBLE_MODES,
  RETRY_DEFAULTS,
  SCHEDULE_STATES,
  SCHEDULER_LIMITS,
  type FlexibleTimeWindow,
  type ScheduleSettings,
  type ScheduleTarget,
} from '../core/schedule.js';
import { parseScheduleExpression, ScheduleExpressionError } from '../core/schedule-expression.js';
import { constraint, validationMessage, type Violation } from '../core/validation-message.js';

/** A CreateSchedule / UpdateSchedule request as the wire reader found it (types checked). */
export interface ScheduleRequest {
  /** The `{Name}` path label. */
  readonly name: string;
  readonly groupName: string | undefined;
  readonly expression: string | undefined;
  readonly timezone: string | undefined;
  /** `StartDate` / `EndDate`: epoch seconds, as restJson sends timestamps. */
  readonly startDateSeconds: number | undefined;
  readonly endDateSeconds: number | undefined;
  readonly description: string | undefined;
  readonly state: string | undefined;
  readonly kmsKeyArn: string | undefined;
  readonly clientToken: string | undefined;
  readonly actionAfterCompletion: string | undefined;
  readonly flexibleWindow:
    | { readonly mode: string | undefined; readonly maximumWindowMinutes: number | undefined }
    | undefined;
  readonly target: TargetRequest | undefined;
}

export interface TargetRequest {
  readonly arn: string | undefined;
  readonly roleArn: string | undefined;
  readonly input: string | undefined;
  readonly retryPolicy:
    | {
        readonly maximumRetryAttempts: number | undefined;
        readonly maximumEventAgeSeconds: number | undefined;
      }
    | undefined;
  readonly deadLetterArn: string | undefined;
  /** Names of the templated-target members given (`EcsParameters`, `SqsParameters`…). */
  readonly otherParameters: readonly string[];
}

/** A validated request: the settings to store, the group and the idempotency token. */
export interface ValidScheduleRequest {
  readonly name: string;
  readonly groupName: string;
  readonly clientToken: string | undefined;
  readonly settings: ScheduleSettings;
}

export const NAME_PATTERN = '^[0-9a-zA-Z-_.]+$';
const NAME_RE = /^[0-9a-zA-Z_.-]+$/;
export const CLIENT_TOKEN_PATTERN = '^[a-zA-Z0-9-_]+$';
const CLIENT_TOKEN_RE = /^[a-zA-Z0-9_-]+$/;
const ROLE_ARN_PATTERN = '^arn:aws(-[a-z]+)?:iam::\\d{12}:role\\/[\\w+=,.@\\/-]+$';
const ROLE_ARN_RE = /^arn:aws(-[a-z]+)?:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const KMS_ARN_PATTERN = '^arn:aws(-[a-z]+)?:kms:[a-z0-9\\-]+:\\d{12}:(key|alias)\\/[0-9a-zA-Z-_]*$';
const KMS_ARN_RE = /^arn:aws(-[a-z]+)?:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[0-9a-zA-Z_-]*$/;
const FUNCTION_ARN_RE =
  /^arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([a-zA-Z0-9_-]+)(?::(\$LATEST|[a-zA-Z0-9_-]+))?$/;

/** How far back a recurring schedule's StartDate may lie (AWS: 5 minutes). */
const START_DATE_GRACE_MS = 5 * 60_000;

/** Bounds of a name (schedule or group), for the member `field`. */
export function nameViolations(field: string, value: string | undefined): Violation[] {
  return textViolations(field, value, SCHEDULER_LIMITS.nameMaxLength, NAME_RE, NAME_PATTERN);
}

/** Bounds of an idempotency token. */
export function clientTokenViolations(value: string | undefined): Violation[] {
  return textViolations(
    'clientToken',
    value,
    SCHEDULER_LIMITS.clientTokenMaxLength,
    CLIENT_TOKEN_RE,
    CLIENT_TOKEN_PATTERN,
  );
}

/** A string member's length (1 to `maxLength`) and pattern, in AWS's validation form. */
function textViolations(
  field: string,
  value: string | undefined,
  maxLength: number,
  re: RegExp,
  pattern: string,
): Violation[] {
  if (value === undefined) return [];
  const violations: Violation[] = [];
  if (value.length < 1) violations.push({ field, value, constraint: constraint.minLength(1) });
  if (value.length > maxLength)
    violations.push({ field, value, constraint: constraint.maxLength(maxLength) });
  if (!re.test(value)) violations.push({ field, value, constraint: constraint.pattern(pattern) });
  return violations;
}

/** Longest value quoted in a validation message (a megabyte of Description is not echoed). */
const QUOTED_VALUE_MAX = 1024;

/** Throws AWS's ValidationException for the violations, if any. */
export function refuseViolations(violations: readonly Violation[]): void {
  if (violations.length === 0) return;
  const quoted = violations.map((v) =>
    typeof v.value === 'string' && v.value.length > QUOTED_VALUE_MAX
      ? { ...v, value: `${v.value.slice(0, QUOTED_VALUE_MAX)}…` }
      : v,
  );
  throw lambdaErrors.validation(validationMessage(quoted));
}

/**
 * Validates a request at `nowMs`; throws ValidationException naming what is wrong. The role's
 * existence is checked by the service (it needs IAM), after these rules.
 */
export function validateScheduleRequest(
  request: ScheduleRequest,
  scope: Scope,
  nowMs: number,
): ValidScheduleRequest {
  refuseViolations(modelViolations(request));
  // Present: modelViolations refused their absence.
  const expression = request.expression ?? '';
  const window = request.flexibleWindow ?? { mode: 'OFF', maximumWindowMinutes: undefined };
  const target = request.target as TargetRequest;

  const parsed = parseExpression(expression, request.timezone);
  const oneTime = parsed.kind === 'at';
  const startMs = secondsToMs(request.startDateSeconds);
  const endMs = secondsToMs(request.endDateSeconds);
  // AWS ignores both dates for one-time schedules, so it does not judge them either.
  if (!oneTime && startMs !== undefined && startMs < nowMs - START_DATE_GRACE_MS)
    throw lambdaErrors.validation(
      'The StartDate you specify cannot be earlier than 5 minutes ago.',
    );
  if (!oneTime && startMs !== undefined && endMs !== undefined && endMs <= startMs)
    throw lambdaErrors.validation('The EndDate you specify must be after the StartDate.');

  return {
    name: request.name,
    groupName: request.groupName ?? DEFAULT_GROUP,
    clientToken: request.clientToken,
    settings: {
      expression,
      timezone: request.timezone,
      startMs,
      endMs,
      description: request.description,
      state: (request.state ?? 'ENABLED') as ScheduleSettings['state'],
      kmsKeyArn: request.kmsKeyArn,
      target: validTarget(target, scope),
      flexibleWindow: validWindow(window),
      actionAfterCompletion: (request.actionAfterCompletion ??
        'NONE') as ScheduleSettings['actionAfterCompletion'],
    },
  };
}

/** The members' presence, lengths, ranges, enumerations and patterns (the service model's). */
function modelViolations(request: ScheduleRequest): Violation[] {
  const violations: Violation[] = [
    ...nameViolations('name', request.name),
    ...nameViolations('groupName', request.groupName),
    ...clientTokenViolations(request.clientToken),
  ];
  const add = (field: string, value: unknown, text: string) =>
    violations.push({ field, value, constraint: text });
  const length = (field: string, value: string | undefined, min: number, max: number) => {
    if (value === undefined) return;
    if (value.length < min) add(field, value, constraint.minLength(min));
    if (value.length > max) add(field, value, constraint.maxLength(max));
  };
  const range = (field: string, value: number | undefined, min: number, max: number) => {
    if (value === undefined) return;
    if (value < min) add(field, value, constraint.min(min));
    if (value > max) add(field, value, constraint.max(max));
  };
  const oneOf = (field: string, value: string | undefined, values: readonly string[]) => {
    if (value !== undefined && !values.includes(value))
      add(field, value, constraint.enumeration(values));
  };

  if (request.expression === undefined) add('scheduleExpression', null, constraint.notNull());
  length('scheduleExpression', request.expression, 1, SCHEDULER_LIMITS.expressionMaxLength);
  length('scheduleExpressionTimezone', request.timezone, 1, SCHEDULER_LIMITS.timezoneMaxLength);
  length('description', request.description, 0, SCHEDULER_LIMITS.descriptionMaxLength);
  oneOf('state', request.state, SCHEDULE_STATES);
  oneOf('actionAfterCompletion', request.actionAfterCompletion, ACTIONS_AFTER_COMPLETION);
  if (request.kmsKeyArn !== undefined) {
    length('kmsKeyArn', request.kmsKeyArn, 1, SCHEDULER_LIMITS.kmsKeyArnMaxLength);
    if (!KMS_ARN_RE.test(request.kmsKeyArn))
      add('kmsKeyArn', request.kmsKeyArn, constraint.pattern(KMS_ARN_PATTERN));
  }
  for (const [field, seconds] of [
    ['startDate', request.startDateSeconds],
    ['endDate', request.endDateSeconds],
  ] as const) {
    if (seconds !== undefined && !Number.isFinite(seconds))
      add(field, seconds, 'Member must be a timestamp');
  }

  const window = request.flexibleWindow;
  if (window === undefined) add('flexibleTimeWindow', null, constraint.notNull());
  else {
    if (window.mode === undefined) add('flexibleTimeWindow.mode', null, constraint.notNull());
    oneOf('flexibleTimeWindow.mode', window.mode, FLEXIBLE_MODES);
    range(
      'flexibleTimeWindow.maximumWindowInMinutes',
      window.maximumWindowMinutes,
      SCHEDULER_LIMITS.windowMinutes.min,
      SCHEDULER_LIMITS.windowMinutes.max,
    );
  }

  const target = request.target;
  if (target === undefined) add('target', null, constraint.notNull());
  else {
    if (target.arn === undefined) add('target.arn', null, constraint.notNull());
    length('target.arn', target.arn, 1, SCHEDULER_LIMITS.targetArnMaxLength);
    if (target.roleArn === undefined) add('target.roleArn', null, constraint.notNull());
    else {
      length('target.roleArn', target.roleArn, 1, SCHEDULER_LIMITS.roleArnMaxLength);
      if (!ROLE_ARN_RE.test(target.roleArn))
        add('target.roleArn', target.roleArn, constraint.pattern(ROLE_ARN_PATTERN));
    }
    if (target.input !== undefined && target.input.length < 1)
      add('target.input', target.input, constraint.minLength(1));
    range(
      'target.retryPolicy.maximumRetryAttempts',
      target.retryPolicy?.maximumRetryAttempts,
      SCHEDULER_LIMITS.retryAttempts.min,
      SCHEDULER_LIMITS.retryAttempts.max,
    );
    range(
      'target.retryPolicy.maximumEventAgeInSeconds',
      target.retryPolicy?.maximumEventAgeSeconds,
      SCHEDULER_LIMITS.eventAgeSeconds.min,
      SCHEDULER_LIMITS.eventAgeSeconds.max,
    );
    length('target.deadLetterConfig.arn', target.deadLetterArn, 1, 1600);
  }
  return violations;
}

function parseExpression(expression: string, timezone: string | undefined) {
  try {
    return parseScheduleExpression(expression, timezone);
  } catch (error) {
    if (error instanceof ScheduleExpressionError) throw lambdaErrors.validation(error.message);
    throw error;
  }
}

function validWindow(window: {
  readonly mode: string | undefined;
  readonly maximumWindowMinutes: number | undefined;
}): FlexibleTimeWindow {
  if (window.mode === 'FLEXIBLE') {
    if (window.maximumWindowMinutes === undefined)
      throw lambdaErrors.validation(
        'MaximumWindowInMinutes is required when the FlexibleTimeWindow Mode is FLEXIBLE.',
      );
    return { mode: 'FLEXIBLE', maximumWindowMinutes: window.maximumWindowMinutes };
  }
  if (window.maximumWindowMinutes !== undefined)
    throw lambdaErrors.validation(
      'MaximumWindowInMinutes must not be provided when the FlexibleTimeWindow Mode is OFF.',
    );
  return { mode: 'OFF' };
}

/** The target as Lamina runs it: a function of this server, with its input and failure policy. */
function validTarget(target: TargetRequest, scope: Scope): ScheduleTarget {
  const arn = target.arn ?? '';
  const fn = functionOf(arn, scope);
  if (fn === undefined) throw lambdaErrors.validation(unsupportedTarget(arn, scope));
  const [extra] = target.otherParameters;
  if (extra !== undefined)
    throw lambdaErrors.validation(`${extra} cannot be used with a Lambda function target.`);
  if (target.input !== undefined) checkInput(target.input);
  const deadLetter = target.deadLetterArn;
  if (deadLetter !== undefined && functionOf(deadLetter, scope) === undefined)
    throw lambdaErrors.validation(
      `Invalid DeadLetterConfig Arn ${deadLetter}: Lamina has no SQS queues; a dead-letter ` +
        `target must be a Lamina function ARN (arn:aws:lambda:${scope.region}:${scope.accountId}:function:<name>).`,
    );
  return {
    arn,
    functionName: fn.name,
    qualifier: fn.qualifier,
    roleArn: target.roleArn ?? '',
    input: target.input,
    retryPolicy: {
      maximumRetryAttempts:
        target.retryPolicy?.maximumRetryAttempts ?? RETRY_DEFAULTS.maximumRetryAttempts,
      maximumEventAgeSeconds:
        target.retryPolicy?.maximumEventAgeSeconds ?? RETRY_DEFAULTS.maximumEventAgeSeconds,
    },
    deadLetterArn: deadLetter,
  };
}

/** A function ARN of this server's region and account, as its name and qualifier. */
export function functionOf(
  arn: string,
  scope: Scope,
): { name: string; qualifier: string | undefined } | undefined {
  const match = FUNCTION_ARN_RE.exec(arn);
  if (match === null || match[1] !== scope.region || match[2] !== scope.accountId) return undefined;
  return { name: match[3] ?? '', qualifier: match[4] };
}

/** Why a target ARN is refused: which kind of target it names, and what Lamina takes instead. */
function unsupportedTarget(arn: string, scope: Scope): string {
  const service = /^arn:aws[a-zA-Z-]*:([a-z0-9-]+):/.exec(arn)?.[1];
  const expected = `arn:aws:lambda:${scope.region}:${scope.accountId}:function:<name>[:<qualifier>]`;
  const what =
    arn.startsWith('arn:aws:scheduler:::aws-sdk:') || service === 'scheduler'
      ? 'universal (aws-sdk) targets are not supported'
      : service === 'lambda'
        ? `it is not a function of this server (${scope.region}, account ${scope.accountId})`
        : service === undefined
          ? 'it is not an ARN'
          : `${service} targets are not supported`;
  return `Invalid target ${arn}: ${what}. Lamina's Scheduler invokes Lamina functions only: ${expected}.`;
}

/** `Input` of a Lambda target must be well-formed JSON (AWS's rule), within the payload quota. */
function checkInput(input: string): void {
  if (Buffer.byteLength(input, 'utf8') > SCHEDULER_LIMITS.inputBytes)
    throw lambdaErrors.validation(
      `Target Input is too large: at most ${SCHEDULER_LIMITS.inputBytes} bytes.`,
    );
  let wellFormed = nestingDepth(input) <= MAX_JSON_NESTING;
  if (wellFormed) {
    try {
      JSON.parse(input);
    } catch {
      wellFormed = false;
    }
  }
  if (!wellFormed)
    throw lambdaErrors.validation(
      'Target Input must be well-formed JSON for a Lambda function target.',
    );
}

function secondsToMs(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : Math.round(seconds * 1000);
}
