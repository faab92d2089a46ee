/** Mapping of aliases to Lambda's wire `AliasConfiguration`, and of its request members. */
import type { Scope } from '../core/arn.js';
import { functionArn } from '../core/arn.js';
import type { AliasRecord } from '../core/function-model.js';
import type { AliasInput } from '../functions/alias-service.js';
import { lambdaErrors } from '../core/errors.js';
import type { WireObject } from './wire-reader.js';

export function toAliasConfiguration(
  scope: Scope,
  functionName: string,
  alias: AliasRecord,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    AliasArn: functionArn(scope, functionName, alias.name),
    Name: alias.name,
    FunctionVersion: alias.functionVersion,
    Description: alias.description,
  };
  if (
    alias.additionalVersionWeights !== undefined &&
    Object.keys(alias.additionalVersionWeights).length > 0
  ) {
    out['RoutingConfig'] = { AdditionalVersionWeights: alias.additionalVersionWeights };
  }
  out['RevisionId'] = alias.revisionId;
  return out;
}

/** Reads CreateAlias / UpdateAlias bodies. */
export function readAliasInput(body: WireObject): AliasInput {
  const routing = body.object('RoutingConfig');
  return {
    name: body.string('Name'),
    functionVersion: body.string('FunctionVersion'),
    description: body.string('Description'),
    weights: routing === undefined ? undefined : (readWeights(routing) ?? null),
    revisionId: body.string('RevisionId'),
  };
}

function readWeights(routing: WireObject): Record<string, number> | undefined {
  const raw = routing.raw('AdditionalVersionWeights');
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw lambdaErrors.badJson(
      'Could not parse request body into json: RoutingConfig.AdditionalVersionWeights must be a map of versions to numbers',
    );
  }
  const weights: Record<string, number> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof value !== 'number') {
      throw lambdaErrors.badJson(
        `Could not parse request body into json: the weight of version ${key} must be a number`,
      );
    }
    weights[key] = value;
  }
  return weights;
}
