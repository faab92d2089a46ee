/** ListFunctions: `GET /2015-03-31/functions` with Marker/MaxItems; no NextMarker on the last page. */
import { lambdaErrors } from '../../core/errors.js';
import { LATEST } from '../../core/function-model.js';
import { constraint, validationMessage } from '../../core/validation-message.js';
import { queryValue, type Handler } from '../api-types.js';
import { toFunctionConfiguration } from '../function-wire.js';

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
  const page = await ctx.functions.list(
    queryValue(req, 'Marker'),
    readMaxItems(queryValue(req, 'MaxItems')),
  );
  const json: Record<string, unknown> = {
    Functions: page.functions.map((record) =>
      toFunctionConfiguration(ctx.scope, record, record.latest, {
        view: 'list',
        qualifier: functionVersion === 'ALL' ? LATEST : undefined,
        runtimeVersionArn: ctx.runtimeVersionArn,
      }),
    ),
  };
  if (page.nextMarker !== undefined) json['NextMarker'] = page.nextMarker;
  return { status: 200, json };
};

function readMaxItems(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value)) {
    throw lambdaErrors.validation(
      validationMessage([{ field: 'maxItems', value: text, constraint: constraint.min(1) }]),
    );
  }
  return value;
}
