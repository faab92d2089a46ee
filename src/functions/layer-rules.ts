/**
 * Validation of layer requests, with AWS's messages (recorded answers of PublishLayerVersion,
 * ListLayers, GetLayerVersionByArn and the layer permission calls). Pure.
 */
import { lambdaErrors } from '../core/errors.js';
import { constraint, validationMessage, type Violation } from '../core/validation-message.js';

/** Runtimes a layer may declare (PublishLayerVersion's enum, in AWS's order). */
export const LAYER_RUNTIMES = [
  'nodejs20.x', 'python3.14', 'provided.al2023', 'python3.12', 'python3.13', 'nodejs24.x',
  'nodejs22.x', 'java25', 'python3.10', 'python3.11', 'java21', 'ruby3.3', 'ruby3.4', 'ruby3.2',
  'python3.8', 'python3.9', 'java17', 'nodejs16.x', 'dotnet10', 'dotnet8', 'java11', 'dotnet6',
  'nodejs18.x', 'provided.al2', 'java8.al2',
] as const; // prettier-ignore

/** Runtimes ListLayers / ListLayerVersions accept as a filter (AWS's enum, in its order). */
export const LAYER_FILTER_RUNTIMES = [
  'ruby3.5', 'ruby2.6', 'dotnetcore1.0', 'python3.7', 'nodejs8.10', 'nasa', 'ruby2.7',
  'python2.7-greengrass', 'dotnetcore2.0', 'python3.8', 'java21', 'dotnet6', 'dotnetcore2.1',
  'python3.9', 'java11', 'nodejs6.10', 'provided', 'dotnetcore3.1', 'dotnet8', 'java25', 'java17',
  'nodejs', 'nodejs4.3', 'java8.al2', 'go1.x', 'dotnet10', 'nodejs20.x', 'go1.9', 'byol',
  'nodejs10.x', 'provided.al2023', 'nodejs22.x', 'python3.10', 'java8', 'nodejs12.x',
  'python3.11', 'nodejs24.x', 'nodejs8.x', 'python3.12', 'nodejs14.x', 'nodejs8.9', 'nodejs26.x',
  'python3.13', 'python3.14', 'nodejs16.x', 'python3.15', 'provided.al2', 'nodejs4.3-edge',
  'nodejs18.x', 'ruby3.2', 'python3.4', 'ruby3.3', 'ruby3.4', 'ruby2.5', 'python3.6', 'python2.7',
] as const; // prettier-ignore

export const LAYER_ARCHITECTURES = ['x86_64', 'arm64'] as const;

const LAYER_NAME_PATTERN =
  '(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+';
const LAYER_NAME_RE =
  /^(?:arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:([a-zA-Z0-9_-]+)|([a-zA-Z0-9_-]+))$/;
export const LAYER_VERSION_ARN_PATTERN =
  '(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)';
export const LAYER_VERSION_ARN_RE =
  /^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d:\d{12}:layer:[a-zA-Z0-9_-]+:[0-9]+)$|^(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9_-]+)$/;
const STATEMENT_ID_RE = /^[a-zA-Z0-9_-]+$/;
const PRINCIPAL_PATTERN = '\\d{12}|\\*|arn:(aws[a-zA-Z-]*):iam::\\d{12}:root';
const PRINCIPAL_RE = /^(\d{12}|\*|arn:(aws[a-zA-Z-]*):iam::\d{12}:root)$/;
const ORGANIZATION_RE = /^o-[a-z0-9]{10,32}$/;

/** The layer name of a `LayerName` path label (a name or a layer ARN); throws if it is neither. */
export function layerNameOf(value: string): string {
  const match = value.length <= 140 ? LAYER_NAME_RE.exec(value) : null;
  if (match === null) {
    const text =
      value.length > 140 ? constraint.maxLength(140) : constraint.pattern(LAYER_NAME_PATTERN);
    throw lambdaErrors.validation(
      validationMessage([{ field: 'layerName', value, constraint: text }]),
    );
  }
  return match[1] ?? match[2] ?? value;
}

/** A `VersionNumber` path label as a number; AWS refuses numbers below 1. */
export function versionNumberOf(value: string): number {
  if (!/^-?\d+$/.test(value)) {
    throw lambdaErrors.invalidParameter(`Layer Version ${value} is not a number.`);
  }
  const version = Number(value);
  if (version < 1) throw lambdaErrors.invalidParameter('Layer Version Cannot be less than 1');
  return version;
}

/** PublishLayerVersion's fields as they arrived. */
export interface PublishLayerFields {
  readonly description: string | undefined;
  readonly compatibleRuntimes: readonly string[] | undefined;
  readonly compatibleArchitectures: readonly string[] | undefined;
  readonly licenseInfo: string | undefined;
}

/** Checks PublishLayerVersion's fields, gathering every violation as AWS does. */
export function checkPublish(fields: PublishLayerFields): void {
  const v: Violation[] = [];
  if (fields.description !== undefined && fields.description.length > 256) {
    v.push({
      field: 'description',
      value: fields.description,
      constraint: constraint.maxLength(256),
    });
  }
  const runtimes = fields.compatibleRuntimes;
  if (runtimes !== undefined) {
    if (runtimes.some((r) => !(LAYER_RUNTIMES as readonly string[]).includes(r))) {
      v.push({
        field: 'compatibleRuntimes',
        value: runtimes,
        constraint: constraint.enumeration(LAYER_RUNTIMES),
      });
    } else if (runtimes.length > 15) {
      v.push({
        field: 'compatibleRuntimes',
        value: runtimes,
        constraint: constraint.maxLength(15),
      });
    }
  }
  const architectures = fields.compatibleArchitectures;
  if (architectures !== undefined) {
    if (architectures.some((a) => !(LAYER_ARCHITECTURES as readonly string[]).includes(a))) {
      v.push({
        field: 'compatibleArchitectures',
        value: architectures,
        constraint: `Member must satisfy constraint: [${constraint.enumeration(LAYER_ARCHITECTURES)}, ${constraint.notNull()}]`,
      });
    } else if (architectures.length > 2) {
      v.push({
        field: 'compatibleArchitectures',
        value: architectures,
        constraint: constraint.maxLength(2),
      });
    }
  }
  if (fields.licenseInfo !== undefined && fields.licenseInfo.length > 512) {
    v.push({
      field: 'licenseInfo',
      value: fields.licenseInfo,
      constraint: constraint.maxLength(512),
    });
  }
  if (v.length > 0) throw lambdaErrors.validation(validationMessage(v));
}

/** Checks the filters of ListLayers / ListLayerVersions. */
export function checkListFilters(
  runtime: string | undefined,
  architecture: string | undefined,
): void {
  const v: Violation[] = [];
  if (runtime !== undefined && !(LAYER_FILTER_RUNTIMES as readonly string[]).includes(runtime)) {
    v.push({
      field: 'compatibleRuntime',
      value: runtime,
      constraint: constraint.enumeration(LAYER_FILTER_RUNTIMES),
    });
  }
  if (
    architecture !== undefined &&
    !(LAYER_ARCHITECTURES as readonly string[]).includes(architecture)
  ) {
    v.push({
      field: 'compatibleArchitecture',
      value: architecture,
      constraint: constraint.enumeration(LAYER_ARCHITECTURES),
    });
  }
  if (v.length > 0) throw lambdaErrors.validation(validationMessage(v));
}

/** Checks the `Arn` of GetLayerVersionByArn. */
export function checkLayerVersionArn(arn: string): void {
  if (!LAYER_VERSION_ARN_RE.test(arn)) {
    throw lambdaErrors.validation(
      validationMessage([
        { field: 'arn', value: arn, constraint: constraint.pattern(LAYER_VERSION_ARN_PATTERN) },
      ]),
    );
  }
}

/** AddLayerVersionPermission's fields as they arrived. */
export interface LayerPermissionFields {
  readonly statementId: string | undefined;
  readonly action: string | undefined;
  readonly principal: string | undefined;
  readonly organizationId: string | undefined;
}

/** Checks AddLayerVersionPermission's fields, gathering every violation. */
export function checkPermission(fields: LayerPermissionFields): void {
  const v: Violation[] = [];
  const sid = fields.statementId;
  if (sid === undefined)
    v.push({ field: 'statementId', value: null, constraint: constraint.notNull() });
  else if (sid.length > 100)
    v.push({ field: 'statementId', value: sid, constraint: constraint.maxLength(100) });
  else if (!STATEMENT_ID_RE.test(sid)) {
    v.push({
      field: 'statementId',
      value: sid,
      constraint: constraint.pattern('([a-zA-Z0-9-_]+)'),
    });
  }
  if (fields.action === undefined)
    v.push({ field: 'action', value: null, constraint: constraint.notNull() });
  else if (fields.action !== 'lambda:GetLayerVersion') {
    v.push({
      field: 'action',
      value: fields.action,
      constraint: constraint.pattern('lambda:GetLayerVersion'),
    });
  }
  if (fields.principal === undefined)
    v.push({ field: 'principal', value: null, constraint: constraint.notNull() });
  else if (!PRINCIPAL_RE.test(fields.principal)) {
    v.push({
      field: 'principal',
      value: fields.principal,
      constraint: constraint.pattern(PRINCIPAL_PATTERN),
    });
  }
  if (fields.organizationId !== undefined && !ORGANIZATION_RE.test(fields.organizationId)) {
    v.push({
      field: 'organizationId',
      value: fields.organizationId,
      constraint: constraint.pattern('o-[a-z0-9]{10,32}'),
    });
  }
  if (v.length > 0) throw lambdaErrors.validation(validationMessage(v));
}
