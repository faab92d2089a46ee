/** Mapping of layer versions to Lambda's wire shapes (AWS casing). */
import type { Scope } from '../core/arn.js';
import { layerArn, layerVersionArn, type LayerVersionRecord } from '../core/layer-model.js';
import { formatLastModified } from './function-wire.js';

/** `LayerVersionsListItem`: what ListLayerVersions and ListLayers show of a version. */
export function toLayerVersionItem(scope: Scope, r: LayerVersionRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    LayerVersionArn: layerVersionArn(scope, r.layerName, r.version),
    Version: r.version,
    Description: r.description,
    CreatedDate: formatLastModified(r.createdMs),
  };
  if (r.compatibleRuntimes !== undefined) out['CompatibleRuntimes'] = r.compatibleRuntimes;
  if (r.licenseInfo !== undefined) out['LicenseInfo'] = r.licenseInfo;
  if (r.compatibleArchitectures !== undefined) {
    out['CompatibleArchitectures'] = r.compatibleArchitectures;
  }
  return out;
}

/** PublishLayerVersion / GetLayerVersion(ByArn): the version with its content and ARNs. */
export function toLayerVersion(
  scope: Scope,
  r: LayerVersionRecord,
  location: string,
): Record<string, unknown> {
  const { LayerVersionArn, Version, ...rest } = toLayerVersionItem(scope, r);
  return {
    Content: {
      Location: location,
      CodeSha256: Buffer.from(r.code.sha256Hex, 'hex').toString('base64'),
      CodeSize: r.code.sizeBytes,
    },
    LayerArn: layerArn(scope, r.layerName),
    LayerVersionArn,
    Version,
    ...rest,
  };
}

/** ListLayers' `LayersListItem`. */
export function toLayerItem(scope: Scope, latest: LayerVersionRecord): Record<string, unknown> {
  return {
    LayerName: latest.layerName,
    LayerArn: layerArn(scope, latest.layerName),
    LatestMatchingVersion: toLayerVersionItem(scope, latest),
  };
}
