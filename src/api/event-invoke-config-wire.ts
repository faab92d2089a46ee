/** EventInvokeConfig between the wire (AWS casing, `LastModified` in epoch seconds) and the model. */
import type { Scope } from '../core/arn.js';
import { functionArn } from '../core/arn.js';
import type { EventInvokeConfig } from '../core/event-invoke-config.js';
import type { EventInvokeConfigInput } from '../functions/event-invoke-config-service.js';
import { parseJsonObject, type WireObject } from './wire-reader.js';

/** Reads a Put/Update body. */
export function readEventInvokeConfigInput(body: Buffer): EventInvokeConfigInput {
  const wire = parseJsonObject(body);
  const destinations = wire.object('DestinationConfig');
  return {
    maximumRetryAttempts: wire.integer('MaximumRetryAttempts'),
    maximumEventAgeSeconds: wire.integer('MaximumEventAgeInSeconds'),
    destinations:
      destinations === undefined
        ? undefined
        : {
            onSuccess: destination(destinations.object('OnSuccess')),
            onFailure: destination(destinations.object('OnFailure')),
          },
  };
}

/** An empty destination means none, as on AWS. */
function destination(target: WireObject | undefined): string | undefined {
  const arn = target?.string('Destination');
  return arn === '' ? undefined : arn;
}

/** FunctionEventInvokeConfig as AWS answers it (unset fields are left out). */
export function toFunctionEventInvokeConfig(
  scope: Scope,
  config: EventInvokeConfig,
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    LastModified: config.lastModifiedMs / 1000,
    FunctionArn: functionArn(scope, config.functionName, config.qualifier),
  };
  if (config.maximumRetryAttempts !== undefined)
    out['MaximumRetryAttempts'] = config.maximumRetryAttempts;
  if (config.maximumEventAgeSeconds !== undefined)
    out['MaximumEventAgeInSeconds'] = config.maximumEventAgeSeconds;
  out['DestinationConfig'] = {
    OnSuccess: config.onSuccess === undefined ? {} : { Destination: config.onSuccess },
    OnFailure: config.onFailure === undefined ? {} : { Destination: config.onFailure },
  };
  return out;
}
