/**
 * PublishLayerVersion, GetLayerVersion, GetLayerVersionByArn (`GET /2018-10-31/layers?find=
 * LayerVersion&Arn=…`), ListLayers, ListLayerVersions and DeleteLayerVersion.
 */
import type { LayerListInput } from '../../functions/layer-service.js';
import { param, queryValue, type ApiRequest, type Handler } from '../api-types.js';
import { readCode } from '../code-wire.js';
import { toLayerItem, toLayerVersion, toLayerVersionItem } from '../layer-wire.js';
import { parseJsonObject } from '../wire-reader.js';
import { maxItemsOf } from '../max-items.js';

export const publishLayerVersion: Handler = async (ctx, req) => {
  const body = parseJsonObject(req.body, req.lifted);
  const content = body.object('Content');
  const record = await ctx.layers.publish(param(req, 'LayerName'), {
    description: body.string('Description'),
    compatibleRuntimes: body.stringList('CompatibleRuntimes'),
    compatibleArchitectures: body.stringList('CompatibleArchitectures'),
    licenseInfo: body.string('LicenseInfo'),
    content: content === undefined ? undefined : readCode(content),
  });
  const location = await ctx.codeLocation(record.code.sha256Hex, req.host);
  return { status: 201, json: toLayerVersion(ctx.scope, record, location) };
};

export const getLayerVersion: Handler = async (ctx, req) => {
  const record = await ctx.layers.get(param(req, 'LayerName'), param(req, 'VersionNumber'));
  const location = await ctx.codeLocation(record.code.sha256Hex, req.host);
  return { status: 200, json: toLayerVersion(ctx.scope, record, location) };
};

/** `GET /2018-10-31/layers`: ListLayers, or GetLayerVersionByArn with `find=LayerVersion`. */
export const listLayers: Handler = async (ctx, req) => {
  if (queryValue(req, 'find') === 'LayerVersion') {
    const record = await ctx.layers.getByArn(queryValue(req, 'Arn'));
    const location = await ctx.codeLocation(record.code.sha256Hex, req.host);
    return { status: 200, json: toLayerVersion(ctx.scope, record, location) };
  }
  const page = await ctx.layers.listLayers(listInput(req));
  const json: Record<string, unknown> = {
    Layers: page.items.map((r) => toLayerItem(ctx.scope, r)),
  };
  if (page.nextMarker !== undefined) json['NextMarker'] = page.nextMarker;
  return { status: 200, json };
};

export const listLayerVersions: Handler = async (ctx, req) => {
  const page = await ctx.layers.listVersions(param(req, 'LayerName'), listInput(req));
  const json: Record<string, unknown> = {
    LayerVersions: page.items.map((r) => toLayerVersionItem(ctx.scope, r)),
  };
  if (page.nextMarker !== undefined) json['NextMarker'] = page.nextMarker;
  return { status: 200, json };
};

export const deleteLayerVersion: Handler = async (ctx, req) => {
  await ctx.layers.delete(param(req, 'LayerName'), param(req, 'VersionNumber'));
  return { status: 204 };
};

function listInput(req: ApiRequest): LayerListInput {
  const max = maxItemsOf(req);
  return {
    compatibleRuntime: queryValue(req, 'CompatibleRuntime'),
    compatibleArchitecture: queryValue(req, 'CompatibleArchitecture'),
    marker: queryValue(req, 'Marker'),
    maxItems: max,
  };
}
