/** ListFunctions: `GET /2015-03-31/functions` with Marker/MaxItems; no NextMarker on the last page. */
import { lambdaErrors } from '../../core/errors.js';
import { constraint, validationMessage } from '../../core/validation-message.js';
import { queryValue, type Handler } from '../api-types.js';
import { toFunctionConfiguration } from '../function-wire.js';
import { maxItemsOf } from '../max-items.js';

export const listFunctions: Handler = async (ctx, req) => {
  const functionVersion = queryValue(req, 'FunctionVersion');
  if (functionVersion !== undefined && functionVersion !== 'ALL') {
    throw lambdaErrors.validation(
      validationMessage([
        {
          field: 'functionVersion',
          value: functionVersion,
          constraint: constraint.enumeration(['ALL']),
        },
      ]),
    );
  }
  const page = await ctx.functions.list(queryValue(req, 'Marker'), maxItemsOf(req));
  const json: Record<string, unknown> = {
    Functions: await Promise.all(
      page.functions.map(async (record) => {
        // With FunctionVersion=ALL every version is listed, each with its qualified ARN.
        const versions =
          functionVersion === 'ALL'
            ? (await ctx.versions.list(record.name, undefined, 10_000, 10_000)).versions
            : [record.latest];
        return versions.map((version) =>
          toFunctionConfiguration(ctx.scope, record, version, {
            view: 'list',
            qualifier: functionVersion === 'ALL' ? version.version : undefined,
            runtimeVersionArn: ctx.runtimeVersionArn,
          }),
        );
      }),
    ).then((lists) => lists.flat()),
  };
  if (page.nextMarker !== undefined) json['NextMarker'] = page.nextMarker;
  return { status: 200, json };
};
