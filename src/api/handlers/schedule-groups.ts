/**
 * EventBridge Scheduler's schedule groups (`/schedule-groups`) and their tags (`/tags/{ARN}`:
 * groups are the only taggable Scheduler resource).
 */
import { param, queryValue, queryValues, type Handler } from '../api-types.js';
import {
  parseSchedulerBody,
  readGroupRequest,
  readTags,
  toGroupOutput,
  toTagList,
} from '../scheduler-wire.js';
import { maxResultsOf } from './schedules.js';

export const createScheduleGroup: Handler = async (ctx, req) => {
  const { tags, clientToken } = readGroupRequest(req.body);
  const group = await ctx.schedules.createGroup(param(req, 'Name'), tags, clientToken);
  return { status: 200, json: { ScheduleGroupArn: group.arn } };
};

export const getScheduleGroup: Handler = async (ctx, req) => {
  return { status: 200, json: toGroupOutput(await ctx.schedules.getGroup(param(req, 'Name'))) };
};

export const deleteScheduleGroup: Handler = async (ctx, req) => {
  await ctx.schedules.deleteGroup(param(req, 'Name'), queryValue(req, 'clientToken'));
  return { status: 200, json: {} };
};

export const listScheduleGroups: Handler = async (ctx, req) => {
  const page = await ctx.schedules.listGroups({
    namePrefix: queryValue(req, 'NamePrefix'),
    nextToken: queryValue(req, 'NextToken'),
    maxResults: maxResultsOf(req),
  });
  const json: Record<string, unknown> = { ScheduleGroups: page.groups.map(toGroupOutput) };
  if (page.nextToken !== undefined) json['NextToken'] = page.nextToken;
  return { status: 200, json };
};

export const listSchedulerTags: Handler = async (ctx, req) => {
  const tags = await ctx.schedules.listTags(param(req, 'ResourceArn'));
  return { status: 200, json: { Tags: toTagList(tags) } };
};

export const tagSchedulerResource: Handler = async (ctx, req) => {
  await ctx.schedules.tag(param(req, 'ResourceArn'), readTags(parseSchedulerBody(req.body)));
  return { status: 200, json: {} };
};

export const untagSchedulerResource: Handler = async (ctx, req) => {
  await ctx.schedules.untag(param(req, 'ResourceArn'), queryValues(req, 'TagKeys'));
  return { status: 200, json: {} };
};
