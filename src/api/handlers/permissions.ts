/**
 * AddPermission (POST `…/functions/{F}/policy`, 201 with the statement as a JSON string), GetPolicy
 * (GET, the document as a JSON string and its RevisionId) and RemovePermission (DELETE
 * `…/policy/{StatementId}`, 204).
 */
import { policyDocument } from '../../core/resource-policy.js';
import { param, queryValue, type Handler } from '../api-types.js';
import { readAddPermissionInput } from '../permission-wire.js';

export const addPermission: Handler = async (ctx, req) => {
  const statement = await ctx.permissions.add(
    param(req, 'FunctionName'),
    queryValue(req, 'Qualifier'),
    readAddPermissionInput(req.body),
  );
  return { status: 201, json: { Statement: JSON.stringify(statement) } };
};

export const getPolicy: Handler = async (ctx, req) => {
  const policy = await ctx.permissions.get(
    param(req, 'FunctionName'),
    queryValue(req, 'Qualifier'),
  );
  return {
    status: 200,
    json: { Policy: policyDocument(policy.statements), RevisionId: policy.revisionId },
  };
};

export const removePermission: Handler = async (ctx, req) => {
  await ctx.permissions.remove(
    param(req, 'FunctionName'),
    queryValue(req, 'Qualifier'),
    param(req, 'StatementId'),
    queryValue(req, 'RevisionId'),
  );
  return { status: 204 };
};
