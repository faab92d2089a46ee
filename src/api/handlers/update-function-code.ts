/** UpdateFunctionCode: `PUT /2015-03-31/functions/{F}/code` → LastUpdateStatus InProgress. */
import { param, type Handler } from '../api-types.js';
import { readCode } from '../code-wire.js';
import { toFunctionConfiguration } from '../function-wire.js';
import { parseJsonObject } from '../wire-reader.js';

export const updateFunctionCode: Handler = async (ctx, req) => {
  const body = parseJsonObject(req.body);
  // `Publish` is accepted; versions are published by PublishVersion once versions exist.
  body.boolean('Publish');
  const record = await ctx.functions.updateCode(param(req, 'FunctionName'), {
    code: readCode(body),
    architectures: body.stringList('Architectures'),
    revisionId: body.string('RevisionId'),
    dryRun: body.boolean('DryRun') ?? false,
  });
  return {
    status: 200,
    json: toFunctionConfiguration(ctx.scope, record, record.latest, {
      view: 'detail',
      qualifier: undefined,
      runtimeVersionArn: ctx.runtimeVersionArn,
    }),
  };
};
