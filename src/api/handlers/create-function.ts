/** CreateFunction: `POST /2015-03-31/functions` → 201 FunctionConfiguration (State Pending). */
import type { Handler } from '../api-types.js';
import { toFunctionConfiguration } from '../function-wire.js';
import { readSettings } from '../settings-wire.js';
import { readCode } from '../code-wire.js';
import { parseJsonObject } from '../wire-reader.js';

export const createFunction: Handler = async (ctx, req) => {
  const body = parseJsonObject(req.body);
  const code = body.object('Code');
  const record = await ctx.functions.create({
    functionName: body.raw('FunctionName'),
    settings: readSettings(body),
    code: code === undefined ? undefined : readCode(code),
    tags: body.stringMap('Tags'),
  });
  // `Publish` is accepted; versions are published by PublishVersion once versions exist.
  body.boolean('Publish');
  return {
    status: 201,
    json: toFunctionConfiguration(ctx.scope, record, record.latest, {
      view: 'detail',
      qualifier: undefined,
      runtimeVersionArn: ctx.runtimeVersionArn,
    }),
  };
};
