/**
 * CreateFunction: `POST /2015-03-31/functions` → 201 FunctionConfiguration (State Pending), or with
 * `Publish: true` version 1 once the code is prepared.
 */
import type { Handler } from '../api-types.js';
import { toFunctionConfiguration } from '../function-wire.js';
import { readSettings } from '../settings-wire.js';
import { readCode } from '../code-wire.js';
import { parseJsonObject } from '../wire-reader.js';
import { publishPrepared } from './publish-prepared.js';

export const createFunction: Handler = async (ctx, req) => {
  const body = parseJsonObject(req.body, req.lifted);
  const code = body.object('Code');
  const publish = body.boolean('Publish') === true;
  const record = await ctx.functions.create({
    functionName: body.raw('FunctionName'),
    settings: readSettings(body),
    code: code === undefined ? undefined : readCode(code),
    tags: body.stringMap('Tags'),
  });
  if (publish) {
    return { status: 201, json: await publishPrepared(ctx, record.name, false) };
  }
  return {
    status: 201,
    json: toFunctionConfiguration(ctx.scope, record, record.latest, {
      view: 'detail',
      qualifier: undefined,
      runtimeVersionArn: ctx.runtimeVersionArn,
    }),
  };
};
