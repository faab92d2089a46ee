/** Ports the schedules need; adapters implement them and the server wires them. */
import type { FireTiming, Schedule, ScheduleGroup, ScheduleRetryPolicy } from '../core/schedule.js';
import type { PendingDelivery } from './delivery-policy.js';

/** The operations whose idempotency tokens are remembered. */
export type TokenOperation =
  | 'CreateSchedule'
  | 'UpdateSchedule'
  | 'DeleteSchedule'
  | 'CreateScheduleGroup'
  | 'DeleteScheduleGroup';

/** A client token to remember, in the same commit as the change it came with. */
export interface TokenUse {
  readonly operation: TokenOperation;
  readonly token: string;
  /** The resource the operation acted on (`group/name`, or the group's name). */
  readonly resource: string;
  readonly nowMs: number;
}

/** Where a page of a listing starts: after this key (exclusive). */
export interface ScheduleKey {
  readonly groupName: string;
  readonly name: string;
}

/** Durable storage of groups, schedules, pending deliveries and client tokens. */
export interface ScheduleRepository {
  getGroup(name: string): Promise<ScheduleGroup | undefined>;
  /** False when the name is taken. */
  insertGroup(group: ScheduleGroup, token: TokenUse | undefined): Promise<boolean>;
  /** Deletes the group, its schedules and their pending deliveries; false when it did not exist. */
  deleteGroup(name: string, token: TokenUse | undefined): Promise<boolean>;
  /** Groups by name after `afterName`, whose names start with `prefix`, at most `limit`. */
  listGroups(filter: {
    readonly prefix?: string | undefined;
    readonly afterName?: string | undefined;
    readonly limit: number;
  }): Promise<ScheduleGroup[]>;
  countGroups(): Promise<number>;
  setGroupTags(name: string, tags: Readonly<Record<string, string>>, nowMs: number): Promise<void>;

  get(groupName: string, name: string): Promise<Schedule | undefined>;
  /** False when the name is taken in the group, or the group is gone. */
  insert(schedule: Schedule, token: TokenUse | undefined): Promise<boolean>;
  /** Replaces the schedule; false when it is gone. */
  replace(schedule: Schedule, token: TokenUse | undefined): Promise<boolean>;
  /** Deletes it and its pending deliveries; false when it did not exist. */
  delete(groupName: string, name: string, token: TokenUse | undefined): Promise<boolean>;
  /** Schedules by (group, name) after `after`, filtered, at most `limit`. */
  list(filter: {
    readonly groupName?: string | undefined;
    readonly prefix?: string | undefined;
    readonly state?: string | undefined;
    readonly after?: ScheduleKey | undefined;
    readonly limit: number;
  }): Promise<Schedule[]>;
  count(): Promise<number>;
  /** The resource a token was used for with `operation`, if it was (within the retention). */
  tokenResource(operation: TokenOperation, token: string): Promise<string | undefined>;

  /** Enabled schedules due at `nowMs`, earliest first, at most `limit`. */
  due(nowMs: number, limit: number): Promise<Schedule[]>;
  /** The earliest due time of a schedule or a pending delivery. */
  nextDueMs(): Promise<number | undefined>;
  /**
   * Records a fire of `fired` (as the runner read it): its next timing, or its deletion
   * (ActionAfterCompletion DELETE after its last fire), and a delivery to try again, in one
   * commit. Nothing is written when the schedule changed since it was read (its revision moved):
   * the change planned its own next fire. Answers whether it was written.
   */
  recordFire(
    fired: Schedule,
    next: FireTiming | 'delete',
    retry: PendingDelivery | undefined,
  ): Promise<boolean>;

  /** Deliveries due at `nowMs`, earliest first, at most `limit`. */
  dueDeliveries(nowMs: number, limit: number): Promise<PendingDelivery[]>;
  putDelivery(delivery: PendingDelivery): Promise<void>;
  deleteDelivery(id: string): Promise<void>;
  countDeliveries(): Promise<number>;
}

/** One fire handed to the asynchronous queue. */
export interface Fire {
  /** The event's request id: derived from the schedule and the occurrence, so a repeat is known. */
  readonly requestId: string;
  readonly functionName: string;
  readonly qualifier: string | undefined;
  readonly payload: Buffer;
  /**
   * The target's RetryPolicy: it narrows the function's own asynchronous retry settings (none for
   * a dead-letter delivery: the dead-letter function's own settings apply).
   */
  readonly retryPolicy?: ScheduleRetryPolicy | undefined;
}

/** Where fires go: the function's asynchronous queue (durable, retried, replayable). */
export interface FireSink {
  /**
   * Enqueues the fire; 'duplicate' when an event with its id is already queued (a fire enqueued
   * before a crash and not recorded). Throws the queue's error when the function cannot take it.
   */
  deliver(fire: Fire): Promise<'enqueued' | 'duplicate'>;
}

/** What the schedules ask IAM about execution roles. */
export interface ScheduleRoles {
  /** Whether the role exists and its trust policy lets `scheduler.amazonaws.com` assume it. */
  schedulerMayAssume(roleArn: string, scheduleGroupArn: string): Promise<boolean>;
}
