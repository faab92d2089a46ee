/**
 * EventBridge Scheduler's operations on schedules and schedule groups: validation (nothing is
 * stored unless the whole request is good), the `default` group that always exists, quotas,
 * idempotency tokens (a retried call with the same ClientToken answers as the first did), and the
 * first fire of each schedule, after which the runner takes over.
 */
import type { Scope } from '../core/arn.js';
import type { Clock } from '../core/clock.js';
import { LambdaError, lambdaErrors } from '../core/errors.js';
import type { IdSource } from '../core/ids.js';
import {
  DEFAULT_GROUP,
  SCHEDULE_STATES,
  SCHEDULER_LIMITS,
  scheduleArn,
  scheduleGroupArn,
  type FireTiming,
  type Schedule,
  type ScheduleGroup,
  type ScheduleSettings,
} from '../core/schedule.js';
import { constraint, type Violation } from '../core/validation-message.js';
import { firstFire, type RandomSource } from './fire-plan.js';
import type { ScheduleRepository, ScheduleRoles, TokenOperation, TokenUse } from './ports.js';
import {
  clientTokenViolations,
  nameViolations,
  refuseViolations,
  validateScheduleRequest,
  type ScheduleRequest,
} from './schedule-rules.js';
import { decodeNextToken, encodeNextToken, tagViolations } from './schedule-listing.js';

export interface ScheduleServiceDeps {
  readonly scope: Scope;
  readonly repository: ScheduleRepository;
  readonly roles: ScheduleRoles;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly random: RandomSource;
  /** Told after every change of what fires when (the runner's `wake`). */
  readonly onChanged: () => void;
}

/** Default page size of the two listings. */
export const DEFAULT_MAX_RESULTS = 100;

const CANNOT_ASSUME =
  'The execution role you provide must allow AWS EventBridge Scheduler to assume the role.';
const DEFAULT_GROUP_LOCKED = `This operation cannot be performed on schedule group ${DEFAULT_GROUP}.`;

export class ScheduleService {
  readonly #d: ScheduleServiceDeps;

  constructor(deps: ScheduleServiceDeps) {
    this.#d = deps;
  }

  /** Makes the `default` group if this data directory has none yet (at start). */
  async ensureDefaultGroup(): Promise<void> {
    if ((await this.#d.repository.getGroup(DEFAULT_GROUP)) !== undefined) return;
    const now = this.#d.clock.now();
    await this.#d.repository.insertGroup(this.#group(DEFAULT_GROUP, now, {}), undefined);
  }

  // ---- schedule groups ----

  async createGroup(
    name: string,
    tags: Readonly<Record<string, string>>,
    clientToken: string | undefined,
  ): Promise<ScheduleGroup> {
    refuseViolations([
      ...nameViolations('name', name),
      ...clientTokenViolations(clientToken),
      ...tagViolations(tags),
    ]);
    if (await this.#replayed('CreateScheduleGroup', clientToken, name)) return this.getGroup(name);
    if (name === DEFAULT_GROUP) throw lambdaErrors.validation(DEFAULT_GROUP_LOCKED);
    if ((await this.#d.repository.countGroups()) >= SCHEDULER_LIMITS.groups)
      throw quotaExceeded(
        `You have reached the quota of ${SCHEDULER_LIMITS.groups} schedule groups.`,
      );
    const group = this.#group(name, this.#d.clock.now(), tags);
    const inserted = await this.#d.repository.insertGroup(
      group,
      this.#token('CreateScheduleGroup', clientToken, name),
    );
    if (!inserted) throw conflict(`Schedule group ${name} already exists.`);
    return group;
  }

  async getGroup(name: string): Promise<ScheduleGroup> {
    refuseViolations(nameViolations('name', name));
    const group = await this.#d.repository.getGroup(name);
    if (group === undefined) throw groupNotFound(name);
    return group;
  }

  /** Deletes the group and every schedule in it (at once: Lamina has no DELETING state). */
  async deleteGroup(name: string, clientToken: string | undefined): Promise<void> {
    refuseViolations([...nameViolations('name', name), ...clientTokenViolations(clientToken)]);
    if (name === DEFAULT_GROUP) throw lambdaErrors.validation(DEFAULT_GROUP_LOCKED);
    if (await this.#replayed('DeleteScheduleGroup', clientToken, name)) return;
    const deleted = await this.#d.repository.deleteGroup(
      name,
      this.#token('DeleteScheduleGroup', clientToken, name),
    );
    if (!deleted) throw groupNotFound(name);
    this.#d.onChanged();
  }

  async listGroups(query: {
    readonly namePrefix: string | undefined;
    readonly nextToken: string | undefined;
    readonly maxResults: number | undefined;
  }): Promise<{ groups: ScheduleGroup[]; nextToken: string | undefined }> {
    const limit = pageSize(query.maxResults);
    refuseViolations(nameViolations('namePrefix', query.namePrefix));
    const after = query.nextToken === undefined ? undefined : decodeNextToken(query.nextToken);
    const groups = await this.#d.repository.listGroups({
      prefix: query.namePrefix,
      afterName: after?.name,
      limit: limit + 1,
    });
    const page = groups.slice(0, limit);
    const last = page[page.length - 1];
    return {
      groups: page,
      nextToken:
        groups.length > limit && last !== undefined
          ? encodeNextToken({ groupName: '', name: last.name })
          : undefined,
    };
  }

  // ---- tags (of schedule groups: the only taggable resource) ----

  async listTags(resourceArn: string): Promise<Readonly<Record<string, string>>> {
    return (await this.#taggedGroup(resourceArn)).tags;
  }

  async tag(resourceArn: string, tags: Readonly<Record<string, string>>): Promise<void> {
    const group = await this.#taggedGroup(resourceArn);
    const merged = { ...group.tags, ...tags };
    refuseViolations(tagViolations(merged));
    await this.#d.repository.setGroupTags(group.name, merged, this.#d.clock.now());
  }

  async untag(resourceArn: string, keys: readonly string[]): Promise<void> {
    const group = await this.#taggedGroup(resourceArn);
    const kept = Object.fromEntries(Object.entries(group.tags).filter(([k]) => !keys.includes(k)));
    await this.#d.repository.setGroupTags(group.name, kept, this.#d.clock.now());
  }

  // ---- schedules ----

  /** CreateSchedule; answers the schedule's ARN. */
  async create(request: ScheduleRequest): Promise<string> {
    const now = this.#d.clock.now();
    const valid = validateScheduleRequest(request, this.#d.scope, now);
    const { name, groupName, clientToken, settings } = valid;
    const arn = scheduleArn(this.#d.scope, groupName, name);
    if (await this.#replayed('CreateSchedule', clientToken, keyOf(groupName, name))) return arn;
    if ((await this.#d.repository.getGroup(groupName)) === undefined)
      throw groupNotFound(groupName);
    await this.#checkRole(settings, groupName);
    if ((await this.#d.repository.count()) >= SCHEDULER_LIMITS.schedules)
      throw quotaExceeded(`You have reached the quota of ${SCHEDULER_LIMITS.schedules} schedules.`);
    const planned = { ...settings, anchorMs: now };
    const schedule: Schedule = {
      ...planned,
      ...firstFire(planned, now, this.#d.random),
      name,
      groupName,
      arn,
      uid: this.#d.ids.uuid(),
      creationMs: now,
      lastModificationMs: now,
      revision: 1,
    };
    const token = this.#token('CreateSchedule', clientToken, keyOf(groupName, name));
    if (!(await this.#d.repository.insert(schedule, token))) {
      // The group may have been deleted meanwhile; else the name is taken.
      if ((await this.#d.repository.getGroup(groupName)) === undefined)
        throw groupNotFound(groupName);
      throw conflict(`Schedule ${name} already exists.`);
    }
    this.#d.onChanged();
    return arn;
  }

  async get(groupName: string | undefined, name: string): Promise<Schedule> {
    const group = groupName ?? DEFAULT_GROUP;
    refuseViolations([...nameViolations('name', name), ...nameViolations('groupName', groupName)]);
    const schedule = await this.#d.repository.get(group, name);
    if (schedule === undefined) throw scheduleNotFound(name);
    return schedule;
  }

  /**
   * UpdateSchedule: every setting is replaced (left-out members take their defaults, as AWS
   * documents). The next fire is kept when nothing that decides it changed; else it is planned
   * afresh from now (a rate whose expression or StartDate changed starts again from now).
   */
  async update(request: ScheduleRequest): Promise<string> {
    const now = this.#d.clock.now();
    const valid = validateScheduleRequest(request, this.#d.scope, now);
    const { name, groupName, clientToken, settings } = valid;
    const arn = scheduleArn(this.#d.scope, groupName, name);
    if (await this.#replayed('UpdateSchedule', clientToken, keyOf(groupName, name))) return arn;
    const existing = await this.#d.repository.get(groupName, name);
    if (existing === undefined) throw scheduleNotFound(name);
    await this.#checkRole(settings, groupName);
    const sameRate =
      existing.expression === settings.expression &&
      existing.timezone === settings.timezone &&
      existing.startMs === settings.startMs;
    const planned = { ...settings, anchorMs: sameRate ? existing.anchorMs : now };
    const timing: FireTiming =
      timingKey(existing) === timingKey(settings)
        ? { nextFireMs: existing.nextFireMs, dueMs: existing.dueMs }
        : firstFire(planned, now, this.#d.random);
    const updated: Schedule = {
      ...existing,
      ...planned,
      ...timing,
      lastModificationMs: now,
      revision: existing.revision + 1,
    };
    const token = this.#token('UpdateSchedule', clientToken, keyOf(groupName, name));
    if (!(await this.#d.repository.replace(updated, token))) throw scheduleNotFound(name);
    this.#d.onChanged();
    return arn;
  }

  async delete(
    groupName: string | undefined,
    name: string,
    clientToken: string | undefined,
  ): Promise<void> {
    const group = groupName ?? DEFAULT_GROUP;
    refuseViolations([
      ...nameViolations('name', name),
      ...nameViolations('groupName', groupName),
      ...clientTokenViolations(clientToken),
    ]);
    if (await this.#replayed('DeleteSchedule', clientToken, keyOf(group, name))) return;
    const token = this.#token('DeleteSchedule', clientToken, keyOf(group, name));
    if (!(await this.#d.repository.delete(group, name, token))) throw scheduleNotFound(name);
    this.#d.onChanged();
  }

  async list(query: {
    readonly groupName: string | undefined;
    readonly namePrefix: string | undefined;
    readonly state: string | undefined;
    readonly nextToken: string | undefined;
    readonly maxResults: number | undefined;
  }): Promise<{ schedules: Schedule[]; nextToken: string | undefined }> {
    const limit = pageSize(query.maxResults);
    const violations: Violation[] = [
      ...nameViolations('groupName', query.groupName),
      ...nameViolations('namePrefix', query.namePrefix),
    ];
    if (query.state !== undefined && !(SCHEDULE_STATES as readonly string[]).includes(query.state))
      violations.push({
        field: 'state',
        value: query.state,
        constraint: constraint.enumeration(SCHEDULE_STATES),
      });
    refuseViolations(violations);
    if (
      query.groupName !== undefined &&
      (await this.#d.repository.getGroup(query.groupName)) === undefined
    )
      throw groupNotFound(query.groupName);
    const after = query.nextToken === undefined ? undefined : decodeNextToken(query.nextToken);
    const found = await this.#d.repository.list({
      groupName: query.groupName,
      prefix: query.namePrefix,
      state: query.state,
      after,
      limit: limit + 1,
    });
    const page = found.slice(0, limit);
    const last = page[page.length - 1];
    return {
      schedules: page,
      nextToken:
        found.length > limit && last !== undefined
          ? encodeNextToken({ groupName: last.groupName, name: last.name })
          : undefined,
    };
  }

  // ---- helpers ----

  #group(name: string, nowMs: number, tags: Readonly<Record<string, string>>): ScheduleGroup {
    return {
      name,
      arn: scheduleGroupArn(this.#d.scope, name),
      creationMs: nowMs,
      lastModificationMs: nowMs,
      tags,
    };
  }

  /** Whether `token` already made `operation` on `resource` (the call is a retry: answer as then). */
  async #replayed(
    operation: TokenOperation,
    token: string | undefined,
    resource: string,
  ): Promise<boolean> {
    if (token === undefined) return false;
    return (await this.#d.repository.tokenResource(operation, token)) === resource;
  }

  #token(
    operation: TokenOperation,
    token: string | undefined,
    resource: string,
  ): TokenUse | undefined {
    return token === undefined
      ? undefined
      : { operation, token, resource, nowMs: this.#d.clock.now() };
  }

  async #checkRole(settings: ScheduleSettings, groupName: string): Promise<void> {
    const groupArn = scheduleGroupArn(this.#d.scope, groupName);
    if (!(await this.#d.roles.schedulerMayAssume(settings.target.roleArn, groupArn)))
      throw lambdaErrors.validation(CANNOT_ASSUME);
  }

  /** The group a tagging call names by ARN (schedule groups are the only taggable resource). */
  async #taggedGroup(resourceArn: string): Promise<ScheduleGroup> {
    const prefix = scheduleGroupArn(this.#d.scope, '');
    const name = resourceArn.startsWith(prefix) ? resourceArn.slice(prefix.length) : undefined;
    if (name === undefined || nameViolations('resourceArn', name).length > 0 || name === '')
      throw lambdaErrors.validation(
        `Invalid ResourceArn ${resourceArn}: only schedule groups of this server can be tagged (${prefix}<name>).`,
      );
    return this.getGroup(name);
  }
}

/** The settings that decide when a schedule fires next. */
function timingKey(settings: ScheduleSettings): string {
  const { expression, timezone, startMs, endMs, state, flexibleWindow } = settings;
  return JSON.stringify([expression, timezone, startMs, endMs, state, flexibleWindow]);
}

function keyOf(groupName: string, name: string): string {
  return `${groupName}/${name}`;
}

function pageSize(maxResults: number | undefined): number {
  if (maxResults === undefined) return DEFAULT_MAX_RESULTS;
  const { min, max } = SCHEDULER_LIMITS.maxResults;
  refuseViolations(
    maxResults < min || maxResults > max || !Number.isInteger(maxResults)
      ? [
          {
            field: 'maxResults',
            value: maxResults,
            constraint: maxResults < min ? constraint.min(min) : constraint.max(max),
          },
        ]
      : [],
  );
  return maxResults;
}

function scheduleNotFound(name: string): LambdaError {
  return new LambdaError('ResourceNotFoundException', `Schedule ${name} does not exist.`);
}

function groupNotFound(name: string): LambdaError {
  return new LambdaError('ResourceNotFoundException', `Schedule group ${name} does not exist.`);
}

function conflict(message: string): LambdaError {
  return new LambdaError('ConflictException', message);
}

function quotaExceeded(message: string): LambdaError {
  return new LambdaError('ServiceQuotaExceededException', message);
}
