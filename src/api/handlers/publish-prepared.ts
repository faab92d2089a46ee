/** `Publish: true` on CreateFunction and UpdateFunctionCode: wait for the code, then publish it. */
import { lambdaErrors } from '../../core/errors.js';
import type { ApiContext } from '../api-types.js';
import { toFunctionConfiguration } from '../function-wire.js';

/**
 * Waits for the function's code preparation, publishes `$LATEST`, and renders the new version
 * (`qualifyArn`: UpdateFunctionCode answers with the version's ARN, CreateFunction without).
 */
export async function publishPrepared(
  ctx: ApiContext,
  name: string,
  qualifyArn: boolean,
): Promise<Record<string, unknown>> {
  await ctx.functions.prepared(name);
  const { record } = await ctx.functions.get(name, undefined);
  const status = record.latest.status;
  if (status.state !== 'Active' || status.lastUpdateStatus === 'Failed') {
    throw lambdaErrors.conflict(
      `The function could not be published: its code preparation failed (${status.lastUpdateStatusReason ?? status.stateReason ?? status.state}).`,
    );
  }
  const { version } = await ctx.versions.publish(name, {
    codeSha256: undefined,
    description: undefined,
    revisionId: undefined,
  });
  return toFunctionConfiguration(ctx.scope, record, version, {
    view: 'detail',
    qualifier: qualifyArn ? version.version : undefined,
    runtimeVersionArn: ctx.runtimeVersionArn,
  });
}
