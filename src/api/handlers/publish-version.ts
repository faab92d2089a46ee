/** PublishVersion: `POST /2015-03-31/functions/{F}/versions` → 201 with the version's configuration. */
import { param, type Handler } from '../api-types.js';
import { toFunctionConfiguration } from '../function-wire.js';
import { parseJsonObject } from '../wire-reader.js';

export const publishVersion: Handler = async (ctx, req) => {
  const body = parseJsonObject(req.body);
  const { version, name } = await ctx.versions.publish(param(req, 'FunctionName'), {
    codeSha256: body.string('CodeSha256'),
    description: body.string('Description'),
    revisionId: body.string('RevisionId'),
  });
  const { record } = await ctx.functions.get(name, undefined);
  return {
    status: 201,
    json: toFunctionConfiguration(ctx.scope, record, version, {
      view: 'detail',
      qualifier: version.version,
      runtimeVersionArn: ctx.runtimeVersionArn,
    }),
  };
};
