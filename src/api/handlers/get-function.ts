/** GetFunction: `GET /2015-03-31/functions/{F}` → {Configuration, Code, Tags?, Concurrency?}. */
import { param, queryValue, type Handler } from '../api-types.js';
import { toFunctionConfiguration } from '../function-wire.js';
import { resolvedImageUri } from '../../core/resolved-image-uri.js';

export const getFunction: Handler = async (ctx, req) => {
  const { record, version, ref } = await ctx.functions.get(
    param(req, 'FunctionName'),
    queryValue(req, 'Qualifier'),
  );
  const json: Record<string, unknown> = {
    Configuration: toFunctionConfiguration(ctx.scope, record, version, {
      view: 'detail',
      qualifier: ref.qualifier,
      runtimeVersionArn: ctx.runtimeVersionArn,
    }),
    Code:
      version.settings.image === undefined
        ? {
            RepositoryType: 'S3',
            Location: await ctx.codeLocation(version.code.sha256Hex, req.host),
          }
        : imageCode(version.settings.image.uri, version.code.sha256Hex),
  };
  if (Object.keys(record.tags).length > 0) json['Tags'] = record.tags;
  if (record.reservedConcurrency !== undefined) {
    json['Concurrency'] = { ReservedConcurrentExecutions: record.reservedConcurrency };
  }
  return { status: 200, json };
};

/** An image function's `Code`: the URI as given and, once pulled, the digest it resolved to. */
function imageCode(uri: string, digestHex: string): Record<string, unknown> {
  const code: Record<string, unknown> = { RepositoryType: 'ECR', ImageUri: uri };
  if (digestHex !== '') code['ResolvedImageUri'] = resolvedImageUri(uri, `sha256:${digestHex}`);
  return code;
}
