/** UpdateFunctionCode: `PUT /2015-03-31/functions/{F}/code` → LastUpdateStatus InProgress. */
import { param, type Handler } from '../api-types.js';
import { readCode } from '../code-wire.js';
import { toFunctionConfiguration } from '../function-wire.js';
import { parseJsonObject } from '../wire-reader.js';
import { publishPrepared } from './publish-prepared.js';

export const updateFunctionCode: Handler = async (ctx, req) => {
  const body = parseJsonObject(req.body, req.lifted);
  const publish = body.boolean('Publish') === true;
  const record = await ctx.functions.updateCode(param(req, 'FunctionName'), {
    code: readCode(body),
    architectures: body.stringList('Architectures'),
    revisionId: body.string('RevisionId'),
    dryRun: body.boolean('DryRun') ?? false,
  });
  if (publish && body.boolean('DryRun') !== true) {
    return { status: 200, json: await publishPrepared(ctx, record.name, true) };
  }
  return {
    status: 200,
    json: toFunctionConfiguration(ctx.scope, record, record.latest, {
      view: 'detail',
      qualifier: undefined,
      runtimeVersionArn: ctx.runtimeVersionArn,
    }),
  };
};
