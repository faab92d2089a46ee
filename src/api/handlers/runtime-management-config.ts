/**
 * GetRuntimeManagementConfig / PutRuntimeManagementConfig:
 * `GET|PUT /2021-07-20/functions/{F}/runtime-management-config[?Qualifier=]`.
 */
import type { RuntimeManagement } from '../../core/function-model.js';
import { param, queryValue, type Handler } from '../api-types.js';
import { parseJsonObject } from '../wire-reader.js';

function toConfig(answer: {
  functionArn: string;
  management: RuntimeManagement;
}): Record<string, unknown> {
  return {
    UpdateRuntimeOn: answer.management.updateRuntimeOn,
    FunctionArn: answer.functionArn,
    RuntimeVersionArn: answer.management.runtimeVersionArn ?? null,
  };
}

export const getRuntimeManagementConfig: Handler = async (ctx, req) => {
  const answer = await ctx.functions.runtimeManagement(
    param(req, 'FunctionName'),
    queryValue(req, 'Qualifier'),
  );
  return { status: 200, json: toConfig(answer) };
};

export const putRuntimeManagementConfig: Handler = async (ctx, req) => {
  const body = parseJsonObject(req.body);
  const answer = await ctx.functions.putRuntimeManagement(
    param(req, 'FunctionName'),
    queryValue(req, 'Qualifier'),
    body.string('UpdateRuntimeOn'),
    body.string('RuntimeVersionArn'),
  );
  return { status: 200, json: toConfig(answer) };
};
