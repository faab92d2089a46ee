/** GetAccountSettings: `GET /2016-08-19/account-settings`. */
import { LIMITS } from '../../core/limits.js';
import type { Handler } from '../api-types.js';

export const getAccountSettings: Handler = async (ctx) => {
  const usage = await ctx.functions.usage();
  // AWS counts the storage of layers in TotalCodeSize too.
  const layerBytes = await ctx.layers.totalCodeBytes();
  return {
    status: 200,
    json: {
      AccountLimit: {
        TotalCodeSize: LIMITS.totalCodeSizeBytes,
        CodeSizeUnzipped: LIMITS.unzippedCodeBytes,
        CodeSizeZipped: LIMITS.zippedCodeBytes,
        ConcurrentExecutions: ctx.concurrency.settings.accountLimit,
        UnreservedConcurrentExecutions: ctx.concurrency.unreserved(),
      },
      AccountUsage: {
        TotalCodeSize: usage.totalCodeBytes + layerBytes,
        FunctionCount: usage.functionCount,
      },
    },
  };
};
