/** Parsing of the `{ARN}` label of the tagging API; only unqualified function ARNs are taggable. */
import type { Scope } from '../core/arn.js';
import { LambdaError, lambdaErrors } from '../core/errors.js';
import type { FunctionRef } from '../core/function-name.js';
import { constraint, validationMessage } from '../core/validation-message.js';

const RESOURCE_PATTERN =
  'arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)';
const RESOURCE_RE =
  /^arn:aws[a-zA-Z-]*:lambda:(?<region>(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):(?<account>\d{12}):(?:function:(?<name>[a-zA-Z0-9_-]+)(?::(?<qualifier>\$LATEST|[a-zA-Z0-9_-]+))?|(?<kind>layer|code-signing-config|event-source-mapping|capacity-provider):.+)$/;

const KIND_NAMES: Record<string, string> = {
  layer: 'Layer',
  'code-signing-config': 'Code signing config',
  'event-source-mapping': 'Event source mapping',
  'capacity-provider': 'Capacity provider',
};

/** The function a tagging request addresses. */
export function parseTagResource(arn: string, scope: Scope): FunctionRef {
  const match = RESOURCE_RE.exec(arn);
  if (match === null) {
    throw lambdaErrors.validation(
      validationMessage([
        { field: 'resource', value: arn, constraint: constraint.pattern(RESOURCE_PATTERN) },
      ]),
    );
  }
  const { region, account, name, qualifier, kind } = match.groups ?? {};
  if (name !== undefined && qualifier !== undefined) {
    throw lambdaErrors.invalidParameter(
      'Tags on function aliases and versions are not supported. Please specify a function ARN.',
    );
  }
  if (region !== scope.region) {
    throw new LambdaError(
      'ResourceNotFoundException',
      `Functions from '${region ?? ''}' are not reachable in this region ('${scope.region}')`,
    );
  }
  if (account !== scope.accountId) {
    throw new LambdaError(
      'AccessDeniedException',
      `User is not authorized to access resources of account ${account ?? ''}.`,
    );
  }
  if (name === undefined) {
    throw new LambdaError(
      'ResourceNotFoundException',
      `${KIND_NAMES[kind ?? ''] ?? 'Resource'} not found: ${arn}`,
    );
  }
  return { name, qualifier: undefined };
}
