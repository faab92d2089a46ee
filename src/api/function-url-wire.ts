/** Function URL configurations between the wire (AWS casing) and the model. */
import { functionArn, type Scope } from '../core/arn.js';
import {
  functionUrl,
  type FunctionUrlConfig,
  type FunctionUrlInput,
  type UrlBase,
  type UrlCors,
} from '../core/function-url.js';
import { parseJsonObject } from './wire-reader.js';

/** Reads a Create/Update body. */
export function readFunctionUrlInput(body: Buffer): FunctionUrlInput {
  const wire = parseJsonObject(body);
  const cors = wire.object('Cors');
  return {
    authType: wire.string('AuthType'),
    invokeMode: wire.string('InvokeMode'),
    cors:
      cors === undefined
        ? undefined
        : {
            allowCredentials: cors.boolean('AllowCredentials'),
            allowHeaders: cors.stringList('AllowHeaders'),
            allowMethods: cors.stringList('AllowMethods'),
            allowOrigins: cors.stringList('AllowOrigins'),
            exposeHeaders: cors.stringList('ExposeHeaders'),
            maxAge: cors.integer('MaxAge'),
          },
  };
}

/** Which answer the configuration is part of: they differ in `InvokeMode` and `LastModifiedTime`. */
export type UrlConfigView = 'create' | 'update' | 'get';

/**
 * A FunctionUrlConfig as AWS answers it. Create and Update echo `InvokeMode` only once it has been
 * set; Get and List report it always (BUFFERED by default); Create has no `LastModifiedTime`.
 */
export function toFunctionUrlConfig(
  scope: Scope,
  base: UrlBase,
  config: FunctionUrlConfig,
  view: UrlConfigView,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    FunctionUrl: functionUrl(base, config.urlId),
    FunctionArn: functionArn(scope, config.functionName, config.qualifier),
    AuthType: config.authType,
  };
  if (config.cors !== undefined) out['Cors'] = toCors(config.cors);
  out['CreationTime'] = timestamp(config.creationMs);
  if (view === 'get') out['InvokeMode'] = config.invokeMode ?? 'BUFFERED';
  else if (config.invokeMode !== undefined) out['InvokeMode'] = config.invokeMode;
  if (view !== 'create') out['LastModifiedTime'] = timestamp(config.lastModifiedMs);
  return out;
}

function toCors(cors: UrlCors): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (cors.allowCredentials !== undefined) out['AllowCredentials'] = cors.allowCredentials;
  if (cors.allowHeaders !== undefined) out['AllowHeaders'] = cors.allowHeaders;
  if (cors.allowMethods !== undefined) out['AllowMethods'] = cors.allowMethods;
  if (cors.allowOrigins !== undefined) out['AllowOrigins'] = cors.allowOrigins;
  if (cors.exposeHeaders !== undefined) out['ExposeHeaders'] = cors.exposeHeaders;
  if (cors.maxAge !== undefined) out['MaxAge'] = cors.maxAge;
  return out;
}

/** ISO 8601 with microseconds, as AWS writes `CreationTime` (`2021-12-14T19:31:02.468000Z`). */
function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}
