/** Add/Get/RemoveLayerVersionPermission on `/2018-10-31/layers/{L}/versions/{N}/policy`. */
import { policyDocument } from '../../core/resource-policy.js';
import { param, queryValue, type Handler } from '../api-types.js';
import { parseJsonObject } from '../wire-reader.js';

export const addLayerVersionPermission: Handler = async (ctx, req) => {
  const body = parseJsonObject(req.body);
  const added = await ctx.layers.addPermission(
    param(req, 'LayerName'),
    param(req, 'VersionNumber'),
    {
      statementId: body.string('StatementId'),
      action: body.string('Action'),
      principal: body.string('Principal'),
      organizationId: body.string('OrganizationId'),
    },
    queryValue(req, 'RevisionId'),
  );
  return {
    status: 201,
    json: { Statement: JSON.stringify(added.statement), RevisionId: added.revisionId },
  };
};

export const getLayerVersionPolicy: Handler = async (ctx, req) => {
  const record = await ctx.layers.getPolicy(param(req, 'LayerName'), param(req, 'VersionNumber'));
  const policy = record.policy;
  const statements = (policy?.statements ?? []).map((s) => ctx.layers.statementJson(record, s));
  return {
    status: 200,
    json: { Policy: policyDocument(statements), RevisionId: policy?.revisionId ?? '' },
  };
};

export const removeLayerVersionPermission: Handler = async (ctx, req) => {
  await ctx.layers.removePermission(
    param(req, 'LayerName'),
    param(req, 'VersionNumber'),
    param(req, 'StatementId'),
    queryValue(req, 'RevisionId'),
  );
  return { status: 204 };
};
