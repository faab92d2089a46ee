/**
 * EventBridge Scheduler's schedules: Create (POST), Get, Update (PUT), Delete and List under
 * `/schedules`, answering as Scheduler does (200 with the ARN, the schedule, or `{}`).
 */
import { param, queryValue, type ApiRequest, type Handler } from '../api-types.js';
import { readScheduleRequest, toScheduleOutput, toScheduleSummary } from '../scheduler-wire.js';
import { lambdaErrors } from '../../core/errors.js';

export const createSchedule: Handler = async (ctx, req) => {
  const arn = await ctx.schedules.create(readScheduleRequest(param(req, 'Name'), req.body));
  return { status: 200, json: { ScheduleArn: arn } };
};

export const getSchedule: Handler = async (ctx, req) => {
  const schedule = await ctx.schedules.get(queryValue(req, 'groupName'), param(req, 'Name'));
  return { status: 200, json: toScheduleOutput(schedule) };
};

export const updateSchedule: Handler = async (ctx, req) => {
  const arn = await ctx.schedules.update(readScheduleRequest(param(req, 'Name'), req.body));
  return { status: 200, json: { ScheduleArn: arn } };
};

export const deleteSchedule: Handler = async (ctx, req) => {
  await ctx.schedules.delete(
    queryValue(req, 'groupName'),
    param(req, 'Name'),
    queryValue(req, 'clientToken'),
  );
  return { status: 200, json: {} };
};

export const listSchedules: Handler = async (ctx, req) => {
  const page = await ctx.schedules.list({
    groupName: queryValue(req, 'ScheduleGroup'),
    namePrefix: queryValue(req, 'NamePrefix'),
    state: queryValue(req, 'State'),
    nextToken: queryValue(req, 'NextToken'),
    maxResults: maxResultsOf(req),
  });
  const json: Record<string, unknown> = { Schedules: page.schedules.map(toScheduleSummary) };
  if (page.nextToken !== undefined) json['NextToken'] = page.nextToken;
  return { status: 200, json };
};

/** `?MaxResults=`, a whole number (its range is the service's to check). */
export function maxResultsOf(req: ApiRequest): number | undefined {
  const text = queryValue(req, 'MaxResults');
  if (text === undefined) return undefined;
  if (!/^-?\d{1,9}$/.test(text))
    throw lambdaErrors.validation(`MaxResults must be a whole number, not ${text.slice(0, 20)}.`);
  return Number(text);
}
