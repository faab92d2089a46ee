/** Serves a stored deployment package: the target of GetFunction's presigned `Code.Location`. */
import { LambdaError } from '../../core/errors.js';
import { param, type Handler } from '../api-types.js';

export const downloadCode: Handler = async (ctx, req) => {
  const sha = param(req, 'CodeSha256Hex');
  const stream = /^[0-9a-f]{64}$/.test(sha) ? await ctx.openCode(sha) : undefined;
  if (stream === undefined) {
    throw new LambdaError('ResourceNotFoundException', `No stored code has the hash ${sha}.`);
  }
  return { status: 200, stream, headers: { 'content-type': 'application/zip' } };
};
