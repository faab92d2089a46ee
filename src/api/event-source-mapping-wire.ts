/**
 * EventSourceMappingConfiguration between the wire (AWS casing, `LastModified` in epoch seconds)
 * and the model: request bodies of Create/Update, and the answer of every mapping operation. Fields
 * a source does not have are left out, as Lambda leaves them out.
 */
import { functionArn, type Scope } from '../core/arn.js';
import type { EventSourceMapping, MappingInput } from '../core/event-source-mapping.js';
import { lambdaErrors } from '../core/errors.js';
import type {
  CreateMappingRequest,
  UpdateMappingRequest,
} from '../event-sources/mapping-service.js';
import { parseJsonObject, type WireObject } from './wire-reader.js';

export function readCreateMapping(body: Buffer): CreateMappingRequest {
  const wire = parseJsonObject(body);
  const endpoints = wire.object('SelfManagedEventSource')?.object('Endpoints');
  return {
    functionName: wire.string('FunctionName'),
    eventSourceArn: wire.string('EventSourceArn'),
    endpoints: endpoints === undefined ? undefined : endpointMap(endpoints),
    queues: wire.stringList('Queues'),
    topics: wire.stringList('Topics'),
    enabled: wire.boolean('Enabled'),
    settings: settingsInput(wire),
  };
}

export function readUpdateMapping(body: Buffer): UpdateMappingRequest {
  const wire = parseJsonObject(body);
  return {
    functionName: wire.string('FunctionName'),
    enabled: wire.boolean('Enabled'),
    settings: settingsInput(wire),
  };
}

function endpointMap(endpoints: WireObject): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const key of ['KAFKA_BOOTSTRAP_SERVERS', 'NATS_SERVERS', 'REDIS_URLS'])
    if (endpoints.raw(key) !== undefined) out[key] = endpoints.stringList(key) ?? [];
  const unknown = Object.keys(endpointsRaw(endpoints)).filter((key) => !(key in out));
  if (unknown.length > 0)
    throw lambdaErrors.invalidParameter(
      `Unsupported SelfManagedEventSource endpoint type ${unknown[0] ?? ''}: use NATS_SERVERS or REDIS_URLS.`,
    );
  return out;
}

function endpointsRaw(endpoints: WireObject): Record<string, unknown> {
  const keys: Record<string, unknown> = {};
  for (const key of endpoints.keys()) keys[key] = endpoints.raw(key);
  return keys;
}

function settingsInput(wire: WireObject): MappingInput {
  const destinations = wire.object('DestinationConfig');
  const filters = wire.object('FilterCriteria')?.objectList('Filters');
  const timestamp = wire.raw('StartingPositionTimestamp');
  if (timestamp !== undefined && typeof timestamp !== 'number')
    throw lambdaErrors.badJson(
      'Could not parse request body into json: StartingPositionTimestamp must be a number',
    );
  return {
    batchSize: wire.integer('BatchSize'),
    maximumBatchingWindowInSeconds: wire.integer('MaximumBatchingWindowInSeconds'),
    filterPatterns: filters?.map((filter) => filter.string('Pattern') ?? ''),
    functionResponseTypes: wire.stringList('FunctionResponseTypes'),
    maximumRetryAttempts: wire.integer('MaximumRetryAttempts'),
    maximumRecordAgeInSeconds: wire.integer('MaximumRecordAgeInSeconds'),
    bisectBatchOnFunctionError: wire.boolean('BisectBatchOnFunctionError'),
    startingPosition: wire.string('StartingPosition'),
    startingPositionTimestamp: timestamp,
    parallelizationFactor: wire.integer('ParallelizationFactor'),
    maximumConcurrency: wire.object('ScalingConfig')?.integer('MaximumConcurrency'),
    onFailure: destinations?.object('OnFailure')?.string('Destination'),
    onSuccess: destinations?.object('OnSuccess')?.string('Destination'),
    sourceAccess: wire.objectList('SourceAccessConfigurations')?.map((access) => ({
      type: access.string('Type') ?? '',
      uri: access.string('URI') ?? '',
    })),
  };
}

/** The mapping as Lambda answers it. */
export function toMappingConfiguration(
  scope: Scope,
  mapping: EventSourceMapping,
): Record<string, unknown> {
  const { settings, source } = mapping;
  const out: Record<string, unknown> = {
    UUID: mapping.uuid,
    BatchSize: settings.batchSize,
  };
  if (settings.maximumBatchingWindowInSeconds !== undefined)
    out['MaximumBatchingWindowInSeconds'] = settings.maximumBatchingWindowInSeconds;
  if (source.kind === 'rabbitmq') {
    out['EventSourceArn'] = source.brokerArn;
    out['Queues'] = [source.queue];
  } else {
    out['SelfManagedEventSource'] = {
      Endpoints: { [source.kind === 'nats' ? 'NATS_SERVERS' : 'REDIS_URLS']: source.endpoints },
    };
    out['Topics'] = [source.stream];
    out['StartingPosition'] = settings.startingPosition;
    if (settings.startingPositionTimestamp !== undefined)
      out['StartingPositionTimestamp'] = settings.startingPositionTimestamp;
  }
  if (settings.sourceAccess !== undefined)
    out['SourceAccessConfigurations'] = settings.sourceAccess.map((access) => ({
      Type: access.type,
      URI: access.uri,
    }));
  if (settings.filterPatterns !== undefined)
    out['FilterCriteria'] = { Filters: settings.filterPatterns.map((Pattern) => ({ Pattern })) };
  if (settings.parallelizationFactor !== undefined)
    out['ParallelizationFactor'] = settings.parallelizationFactor;
  if (settings.maximumRetryAttempts !== undefined)
    out['MaximumRetryAttempts'] = settings.maximumRetryAttempts;
  if (settings.maximumRecordAgeInSeconds !== undefined)
    out['MaximumRecordAgeInSeconds'] = settings.maximumRecordAgeInSeconds;
  if (settings.bisectBatchOnFunctionError !== undefined)
    out['BisectBatchOnFunctionError'] = settings.bisectBatchOnFunctionError;
  if (settings.maximumConcurrency !== undefined)
    out['ScalingConfig'] = { MaximumConcurrency: settings.maximumConcurrency };
  if (settings.onFailure !== undefined)
    out['DestinationConfig'] = { OnFailure: { Destination: settings.onFailure } };
  out['FunctionResponseTypes'] = settings.reportBatchItemFailures
    ? ['ReportBatchItemFailures']
    : [];
  out['FunctionArn'] = functionArn(scope, mapping.functionName, mapping.qualifier);
  out['LastModified'] = mapping.lastModifiedMs / 1000;
  out['LastProcessingResult'] = mapping.lastProcessingResult;
  out['State'] = mapping.state;
  out['StateTransitionReason'] = mapping.stateTransitionReason;
  out['EventSourceMappingArn'] =
    `arn:aws:lambda:${scope.region}:${scope.accountId}:event-source-mapping:${mapping.uuid}`;
  return out;
}
