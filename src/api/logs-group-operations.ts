/**
 * The Logs API's operations on log groups: DescribeLogGroups (prefix or substring, 50 a page,
 * `nextToken`), DeleteLogGroup, PutRetentionPolicy and DeleteRetentionPolicy, with the shapes AWS
 * answers (`arn` ending in `:*`, `logGroupArn` without it, `logGroupClass: STANDARD`). Each
 * checks the caller's access with the IAM action and the group's ARN first.
 */
import type { Clock } from '../core/clock.js';
import type { Scope } from '../core/arn.js';
import type { LogArchive, StoredLogGroup } from '../monitoring/log-archive.js';
import { RETENTION_DAYS } from '../monitoring/log-retention.js';
import { logsErrors } from './logs-errors.js';
import type { LogsInput } from './logs-input.js';
import type { LogsTokens } from './logs-tokens.js';
import type { RpcRequest } from './rpc-service.js';

/** What every operation works with. */
export interface LogsContext {
  readonly archive: LogArchive;
  readonly scope: Scope;
  readonly clock: Clock;
  readonly tokens: LogsTokens;
}

/** One operation: the request's members in, the answer's body out (undefined: empty). */
export type LogsOperation = (
  input: LogsInput,
  request: RpcRequest,
  context: LogsContext,
) => Promise<unknown>;

/** `arn:aws:logs:<region>:<account>:log-group:<name>` (the `logGroupArn`). */
export function logGroupArn(scope: Scope, name: string): string {
  return `arn:aws:logs:${scope.region}:${scope.accountId}:log-group:${name}`;
}

/** The resource IAM checks for operations on a group and its streams (`…:log-group:<name>:*`). */
export function logGroupResource(scope: Scope, name: string): string {
  return `${logGroupArn(scope, name)}:*`;
}

const DESCRIBE_LIMIT = 50;

export const describeLogGroups: LogsOperation = async (input, request, context) => {
  const prefix = input.string('logGroupNamePrefix');
  const pattern = input.string('logGroupNamePattern');
  const token = input.string('nextToken');
  const limit = input.integer('limit');
  input.logName('logGroupNamePrefix', prefix, 'group');
  input.groupPattern('logGroupNamePattern', pattern);
  input.text('nextToken', token, 1, Number.MAX_SAFE_INTEGER);
  input.range('limit', limit, 1, DESCRIBE_LIMIT);
  input.check();
  if (prefix !== undefined && pattern !== undefined)
    throw logsErrors.invalidParameter(
      'LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.',
    );
  const { scope, archive, tokens } = context;
  await request.authorize(
    'logs:DescribeLogGroups',
    `arn:aws:logs:${scope.region}:${scope.accountId}:log-group:*`,
  );
  const after = token === undefined ? undefined : openName(tokens, token);
  const page = await archive.listGroups({
    prefix,
    contains: pattern === '' ? undefined : pattern,
    after,
    limit: limit ?? DESCRIBE_LIMIT,
  });
  const last = page.groups.at(-1);
  return {
    logGroups: page.groups.map((group) => groupWire(scope, group, pattern !== undefined)),
    ...(page.more && last !== undefined
      ? { nextToken: tokens.seal('DescribeLogGroups', '', last.name) }
      : {}),
  };
};

export const deleteLogGroup: LogsOperation = async (input, request, context) => {
  const name = requiredGroupName(input);
  await request.authorize('logs:DeleteLogGroup', logGroupResource(context.scope, name));
  if (!(await context.archive.deleteGroup(name))) throw logsErrors.groupNotFound();
  return undefined;
};

export const putRetentionPolicy: LogsOperation = async (input, request, context) => {
  const name = input.string('logGroupName');
  const days = input.integer('retentionInDays');
  input.require('logGroupName', name);
  input.require('retentionInDays', days);
  input.logName('logGroupName', name, 'group');
  input.oneOf('retentionInDays', days, RETENTION_DAYS);
  input.check();
  const group = name as string;
  await request.authorize('logs:PutRetentionPolicy', logGroupResource(context.scope, group));
  if (!(await context.archive.setRetention(group, days))) throw logsErrors.groupNotFound();
  return undefined;
};

export const deleteRetentionPolicy: LogsOperation = async (input, request, context) => {
  const name = requiredGroupName(input);
  await request.authorize('logs:DeleteRetentionPolicy', logGroupResource(context.scope, name));
  if (!(await context.archive.setRetention(name, undefined))) throw logsErrors.groupNotFound();
  return undefined;
};

function requiredGroupName(input: LogsInput): string {
  const name = input.string('logGroupName');
  input.require('logGroupName', name);
  input.logName('logGroupName', name, 'group');
  input.check();
  return name as string;
}

function openName(tokens: LogsTokens, token: string): string {
  const value = tokens.open('DescribeLogGroups', '', token);
  if (typeof value !== 'string') throw logsErrors.invalidToken();
  return value;
}

/** A group as DescribeLogGroups answers it (with a name pattern, without its size). */
function groupWire(scope: Scope, group: StoredLogGroup, matchedByPattern: boolean) {
  const arn = logGroupArn(scope, group.name);
  return {
    logGroupName: group.name,
    creationTime: group.creationTimeMs,
    ...(group.retentionInDays === undefined ? {} : { retentionInDays: group.retentionInDays }),
    metricFilterCount: 0,
    arn: `${arn}:*`,
    ...(matchedByPattern ? {} : { storedBytes: group.storedBytes }),
    logGroupClass: 'STANDARD',
    logGroupArn: arn,
    ...(matchedByPattern ? {} : { deletionProtectionEnabled: false }),
  };
}
