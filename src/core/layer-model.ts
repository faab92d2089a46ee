/** Lambda layers: the internal model of a layer version, its permissions, and layer ARNs. */
import type { Scope } from './arn.js';
import type { Architecture, CodeRef } from './function-model.js';

/** One statement of a layer version's resource policy. */
export interface LayerStatement {
  readonly sid: string;
  readonly action: string;
  readonly principal: string;
  /** With `Principal: *`, limits the grant to one AWS organization. */
  readonly organizationId?: string;
}

/** A layer version's resource policy; the RevisionId changes with every statement change. */
export interface LayerPolicy {
  readonly revisionId: string;
  readonly statements: readonly LayerStatement[];
}

/** A published layer version (immutable except for its policy). */
export interface LayerVersionRecord {
  readonly layerName: string;
  readonly version: number;
  readonly description: string;
  readonly compatibleRuntimes: readonly string[] | undefined;
  readonly compatibleArchitectures: readonly Architecture[] | undefined;
  readonly licenseInfo: string | undefined;
  readonly createdMs: number;
  readonly code: CodeRef & { readonly unzippedBytes: number };
  readonly policy: LayerPolicy | undefined;
}

/** `arn:aws:lambda:<region>:<account>:layer:<name>`. */
export function layerArn(scope: Scope, layerName: string): string {
  return `arn:aws:lambda:${scope.region}:${scope.accountId}:layer:${layerName}`;
}

/** `arn:aws:lambda:<region>:<account>:layer:<name>:<version>`. */
export function layerVersionArn(scope: Scope, layerName: string, version: number): string {
  return `${layerArn(scope, layerName)}:${version}`;
}

/** The parts of a layer version ARN (already checked against the ARN pattern). */
export interface LayerVersionRef {
  readonly region: string;
  readonly accountId: string;
  readonly layerName: string;
  readonly version: number;
}

/** Splits `arn:<partition>:lambda:<region>:<account>:layer:<name>:<version>`; undefined if not one. */
export function parseLayerVersionArn(arn: string): LayerVersionRef | undefined {
  const match = /^arn:[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):layer:([a-zA-Z0-9_-]+):(\d+)$/.exec(
    arn,
  );
  if (match === null) return undefined;
  return {
    region: match[1] ?? '',
    accountId: match[2] ?? '',
    layerName: match[3] ?? '',
    version: Number(match[4]),
  };
}
