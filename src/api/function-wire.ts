/** Mapping of the internal function model to Lambda's wire `FunctionConfiguration` (AWS casing). */
import type { Scope } from '../core/arn.js';
import { functionArn } from '../core/arn.js';
import type { FunctionRecord, FunctionSettings, FunctionVersion } from '../core/function-model.js';

/** Which operation a configuration is rendered for; AWS shows different keys in each. */
export type ConfigurationView = 'detail' | 'list';

/** How a configuration is addressed: qualified ARNs when the caller used a qualifier. */
export interface RenderOptions {
  readonly view: ConfigurationView;
  readonly qualifier: string | undefined;
  /** The ARN of the runtime version that runs a (Zip) function's settings. */
  readonly runtimeVersionArn: (settings: FunctionSettings) => string | undefined;
}

/** The `FunctionConfiguration` object of a version. */
export function toFunctionConfiguration(
  scope: Scope,
  record: FunctionRecord,
  version: FunctionVersion,
  options: RenderOptions,
): Record<string, unknown> {
  const s = version.settings;
  const status = version.status;
  const image = s.image;
  // An image function has no Runtime or Handler; its CodeSha256 is the image digest (hex).
  const out: Record<string, unknown> = {
    FunctionName: record.name,
    FunctionArn: functionArn(scope, record.name, options.qualifier),
  };
  if (image === undefined) out['Runtime'] = s.runtime;
  out['Role'] = s.role;
  if (image === undefined) out['Handler'] = s.handler;
  Object.assign(out, {
    CodeSize: image === undefined ? version.code.sizeBytes : 0,
    Description: s.description,
    Timeout: s.timeoutSeconds,
    MemorySize: s.memoryMiB,
    LastModified: formatLastModified(version.lastModifiedMs),
    CodeSha256:
      image === undefined
        ? Buffer.from(version.code.sha256Hex, 'hex').toString('base64')
        : version.code.sha256Hex,
    Version: version.version,
  });
  if (s.environment !== undefined) out['Environment'] = { Variables: s.environment };
  if (s.kmsKeyArn !== undefined) out['KMSKeyArn'] = s.kmsKeyArn;
  out['TracingConfig'] = { Mode: s.tracingMode };
  out['RevisionId'] = version.revisionId;
  if (s.layers.length > 0) {
    out['Layers'] = s.layers.map((l) => ({ Arn: l.arn, CodeSize: l.code.sizeBytes }));
  }
  if (options.view === 'detail') {
    out['State'] = status.state;
    if (status.stateReason !== undefined) out['StateReason'] = status.stateReason;
    if (status.stateReasonCode !== undefined) out['StateReasonCode'] = status.stateReasonCode;
    if (status.lastUpdateStatus !== undefined) out['LastUpdateStatus'] = status.lastUpdateStatus;
    if (status.lastUpdateStatusReason !== undefined) {
      out['LastUpdateStatusReason'] = status.lastUpdateStatusReason;
    }
    if (status.lastUpdateStatusReasonCode !== undefined) {
      out['LastUpdateStatusReasonCode'] = status.lastUpdateStatusReasonCode;
    }
  }
  out['PackageType'] = image === undefined ? 'Zip' : 'Image';
  if (image !== undefined) {
    const config: Record<string, unknown> = {};
    if (image.entryPoint !== undefined) config['EntryPoint'] = image.entryPoint;
    if (image.command !== undefined) config['Command'] = image.command;
    if (image.workingDirectory !== undefined) config['WorkingDirectory'] = image.workingDirectory;
    if (Object.keys(config).length > 0) out['ImageConfigResponse'] = { ImageConfig: config };
  }
  out['Architectures'] = [s.architecture];
  out['EphemeralStorage'] = { Size: s.ephemeralStorageMiB };
  out['SnapStart'] = { ApplyOn: 'None', OptimizationStatus: 'Off' };
  const runtimeVersionArn = image === undefined ? options.runtimeVersionArn(s) : undefined;
  if (options.view === 'detail' && runtimeVersionArn !== undefined) {
    out['RuntimeVersionConfig'] = { RuntimeVersionArn: runtimeVersionArn };
  }
  const logging: Record<string, unknown> = { LogFormat: s.logging.format };
  if (s.logging.applicationLogLevel !== undefined) {
    logging['ApplicationLogLevel'] = s.logging.applicationLogLevel;
  }
  if (s.logging.systemLogLevel !== undefined) logging['SystemLogLevel'] = s.logging.systemLogLevel;
  logging['LogGroup'] = s.logging.logGroup;
  out['LoggingConfig'] = logging;
  return out;
}

/** Lambda's `LastModified` format: `2026-11-21T19:06:32.563+0000`. */
export function formatLastModified(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('Z', '+0000');
}
