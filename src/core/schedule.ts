/**
 * EventBridge Scheduler's resources as Lamina keeps them: schedule groups, schedules whose
 * target is a Lamina function, and the bookkeeping that makes fires durable (the next occurrence,
 * when it is due, and a revision that tells the runner whether the schedule changed under it).
 * Internal names are camelCase with units; the wire mappers give them AWS's names.
 */
import type { Scope } from './arn.js';

/** The group every account has; it cannot be created or deleted. */
export const DEFAULT_GROUP = 'default';

export const SCHEDULE_STATES = ['ENABLED', 'DISABLED'] as const;
export type ScheduleState = (typeof SCHEDULE_STATES)[number];

export const ACTIONS_AFTER_COMPLETION = ['NONE', 'DELETE'] as const;
export type ActionAfterCompletion = (typeof ACTIONS_AFTER_COMPLETION)[number];

export const FLEXIBLE_MODES = ['OFF', 'FLEXIBLE'] as const;

/** `OFF`: fire at the scheduled time; `FLEXIBLE`: at a random point of the window after it. */
export type FlexibleTimeWindow =
  { readonly mode: 'OFF' } | { readonly mode: 'FLEXIBLE'; readonly maximumWindowMinutes: number };

/** How often, and for how long, a fire that could not be delivered is tried again. */
export interface ScheduleRetryPolicy {
  /** Retries after the first try: 0–185. */
  readonly maximumRetryAttempts: number;
  /** Age after which a fire is no longer tried (seconds): 60–86,400. */
  readonly maximumEventAgeSeconds: number;
}

/** AWS's retry policy when a target gives none. */
export const RETRY_DEFAULTS: ScheduleRetryPolicy = {
  maximumRetryAttempts: 185,
  maximumEventAgeSeconds: 86_400,
};

/** Scheduler's bounds, from its service model, and the quotas Lamina enforces. */
export const SCHEDULER_LIMITS = {
  nameMaxLength: 64,
  expressionMaxLength: 256,
  timezoneMaxLength: 50,
  descriptionMaxLength: 512,
  clientTokenMaxLength: 64,
  targetArnMaxLength: 1600,
  roleArnMaxLength: 1600,
  kmsKeyArnMaxLength: 2048,
  windowMinutes: { min: 1, max: 1440 },
  retryAttempts: { min: 0, max: 185 },
  eventAgeSeconds: { min: 60, max: 86_400 },
  maxResults: { min: 1, max: 100 },
  tagsPerGroup: 200,
  tagKeyMaxLength: 128,
  tagValueMaxLength: 256,
  /** Largest `Input` (bytes of UTF-8): Scheduler's 256 KB payload quota. */
  inputBytes: 262_144,
  /** Schedule groups per server, the `default` group included (AWS's default quota: 500). */
  groups: 500,
  /** Schedules per server (AWS allows a million per account; one Lamina server is smaller). */
  schedules: 10_000,
  /** Fires waiting to be delivered again; past it a failed fire goes to its dead-letter target. */
  pendingDeliveries: 10_000,
} as const;

/** The function a schedule invokes, and what to do when the fire cannot be handed to it. */
export interface ScheduleTarget {
  /** `Target.Arn` as given (a Lamina function's ARN, qualified or not). */
  readonly arn: string;
  readonly functionName: string;
  readonly qualifier: string | undefined;
  readonly roleArn: string;
  /** The payload of every fire (well-formed JSON); undefined: `{}`. */
  readonly input: string | undefined;
  readonly retryPolicy: ScheduleRetryPolicy;
  /** `DeadLetterConfig.Arn`: a Lamina function that receives the fires that could not be delivered. */
  readonly deadLetterArn: string | undefined;
}

/** Everything CreateSchedule and UpdateSchedule set (UpdateSchedule replaces all of it). */
export interface ScheduleSettings {
  readonly expression: string;
  /** `ScheduleExpressionTimezone` as given; undefined: UTC. */
  readonly timezone: string | undefined;
  readonly startMs: number | undefined;
  readonly endMs: number | undefined;
  readonly description: string | undefined;
  readonly state: ScheduleState;
  readonly kmsKeyArn: string | undefined;
  readonly target: ScheduleTarget;
  readonly flexibleWindow: FlexibleTimeWindow;
  readonly actionAfterCompletion: ActionAfterCompletion;
}

/** When a schedule fires next; undefined members: it does not (disabled, or no occurrence left). */
export interface FireTiming {
  /** The occurrence (the expression's time) the next fire is for. */
  readonly nextFireMs: number | undefined;
  /** When the runner fires it: the occurrence plus the flexible window's offset. */
  readonly dueMs: number | undefined;
}

export interface Schedule extends ScheduleSettings, FireTiming {
  readonly name: string;
  readonly groupName: string;
  readonly arn: string;
  /**
   * Identifies this schedule apart from earlier ones of the same name (a random UUID at
   * creation): fire ids are derived from it and the occurrence, so a fire enqueued before a crash
   * is recognised when it comes round again.
   */
  readonly uid: string;
  readonly creationMs: number;
  readonly lastModificationMs: number;
  /** A rate's first occurrence when it has no StartDate: creation, or the update that changed it. */
  readonly anchorMs: number;
  /** Goes up with every change made through the API. */
  readonly revision: number;
}

export interface ScheduleGroup {
  readonly name: string;
  readonly arn: string;
  readonly creationMs: number;
  readonly lastModificationMs: number;
  readonly tags: Readonly<Record<string, string>>;
}

/** `arn:aws:scheduler:<region>:<account>:schedule/<group>/<name>`. */
export function scheduleArn(scope: Scope, groupName: string, name: string): string {
  return `arn:aws:scheduler:${scope.region}:${scope.accountId}:schedule/${groupName}/${name}`;
}

/** `arn:aws:scheduler:<region>:<account>:schedule-group/<name>`. */
export function scheduleGroupArn(scope: Scope, name: string): string {
  return `arn:aws:scheduler:${scope.region}:${scope.accountId}:schedule-group/${name}`;
}
