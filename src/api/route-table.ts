/** The Lambda control API as one readable table: method + path → operation and handler. */
import type { ErrorCode } from '../core/errors.js';
import { getUsage, listInvocations } from './handlers/invocation-records.js';
import { LIMITS } from '../core/limits.js';
import type { Handler } from './api-types.js';
import {
  createAlias,
  deleteAlias,
  getAlias,
  listAliases,
  updateAlias,
} from './handlers/aliases.js';
import { getAsyncEvent, listAsyncEvents, replayAsyncEvent } from './handlers/async-events.js';
import { createFunction } from './handlers/create-function.js';
import {
  createFunctionUrlConfig,
  deleteFunctionUrlConfig,
  getFunctionUrlConfig,
  listFunctionUrlConfigs,
  updateFunctionUrlConfig,
} from './handlers/function-url-config.js';
import { addPermission, getPolicy, removePermission } from './handlers/permissions.js';
import {
  deleteFunctionEventInvokeConfig,
  getFunctionEventInvokeConfig,
  listFunctionEventInvokeConfigs,
  putFunctionEventInvokeConfig,
  updateFunctionEventInvokeConfig,
} from './handlers/event-invoke-config.js';
import {
  deleteFunctionConcurrency,
  getFunctionConcurrency,
  putFunctionConcurrency,
} from './handlers/function-concurrency.js';
import {
  deleteProvisionedConcurrencyConfig,
  getProvisionedConcurrencyConfig,
  putProvisionedConcurrencyConfig,
} from './handlers/provisioned-concurrency.js';
import {
  addLayerVersionPermission,
  getLayerVersionPolicy,
  removeLayerVersionPermission,
} from './handlers/layer-policy.js';
import {
  deleteLayerVersion,
  getLayerVersion,
  listLayers,
  listLayerVersions,
  publishLayerVersion,
} from './handlers/layers.js';
import { createBroker, deleteBroker, getBroker, listBrokers } from './handlers/brokers.js';
import {
  deleteRegistryLogin,
  getRegistryLogin,
  listRegistryLogins,
  putRegistryLogin,
} from './handlers/registries.js';
import {
  getRuntimeManagementConfig,
  putRuntimeManagementConfig,
} from './handlers/runtime-management-config.js';
import {
  createEventSourceMapping,
  deleteEventSourceMapping,
  getEventSourceMapping,
  listEventSourceMappings,
  updateEventSourceMapping,
} from './handlers/event-source-mappings.js';
import { getPrestartedSandboxes } from './handlers/prestarted-sandboxes.js';
import { listVersionsByFunction } from './handlers/list-versions-by-function.js';
import { publishVersion } from './handlers/publish-version.js';
import { deleteFunction } from './handlers/delete-function.js';
import { downloadCode } from './handlers/download-code.js';
import { getAccountSettings } from './handlers/get-account-settings.js';
import { getFunction } from './handlers/get-function.js';
import { getFunctionConfiguration } from './handlers/get-function-configuration.js';
import { invoke } from './handlers/invoke.js';
import { invokeAsync } from './handlers/invoke-async.js';
import { invokeWithResponseStream } from './handlers/invoke-with-response-stream.js';
import { listFunctions } from './handlers/list-functions.js';
import { listTags } from './handlers/list-tags.js';
import { tagResource } from './handlers/tag-resource.js';
import { untagResource } from './handlers/untag-resource.js';
import { updateFunctionCode } from './handlers/update-function-code.js';
import { updateFunctionConfiguration } from './handlers/update-function-configuration.js';

export interface Route {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Fastify path syntax; trailing-slash variants are matched too. */
  readonly path: string;
  readonly operation: string;
  readonly handler: Handler;
  /** Largest accepted body in bytes. */
  readonly bodyLimit: number;
  /** The error for a body over the limit (default RequestEntityTooLargeException). */
  readonly tooLarge?: ErrorCode;
  /**
   * Code uploads: the body's base64 `ZipFile` values are decoded while it arrives and never held
   * as text (the handler reads them through `parseJsonObject(req.body, req.lifted)`).
   */
  readonly liftZipFiles?: boolean;
  /** The signing service and error shape when not Lambda's (EventBridge Scheduler's routes). */
  readonly service?: 'scheduler';
}

const small = LIMITS.controlRequestBytes;
const code = LIMITS.codeRequestBytes;
const fn = '/2015-03-31/functions/:FunctionName';
const eventConfig = '/2019-09-25/functions/:FunctionName/event-invoke-config';
const lamina = '/lamina/2026-11-01';
const urlFn = '/2021-10-31/functions/:FunctionName';
const layerVersions = '/2018-10-31/layers/:LayerName/versions';

export const ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: layerVersions,
    operation: 'PublishLayerVersion',
    handler: publishLayerVersion,
    bodyLimit: code,
    liftZipFiles: true,
  },
  {
    method: 'GET',
    path: layerVersions,
    operation: 'ListLayerVersions',
    handler: listLayerVersions,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: '/2018-10-31/layers',
    operation: 'ListLayers',
    handler: listLayers,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: `${layerVersions}/:VersionNumber`,
    operation: 'GetLayerVersion',
    handler: getLayerVersion,
    bodyLimit: small,
  },
  {
    method: 'DELETE',
    path: `${layerVersions}/:VersionNumber`,
    operation: 'DeleteLayerVersion',
    handler: deleteLayerVersion,
    bodyLimit: small,
  },
  {
    method: 'POST',
    path: `${layerVersions}/:VersionNumber/policy`,
    operation: 'AddLayerVersionPermission',
    handler: addLayerVersionPermission,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: `${layerVersions}/:VersionNumber/policy`,
    operation: 'GetLayerVersionPolicy',
    handler: getLayerVersionPolicy,
    bodyLimit: small,
  },
  {
    method: 'DELETE',
    path: `${layerVersions}/:VersionNumber/policy/:StatementId`,
    operation: 'RemoveLayerVersionPermission',
    handler: removeLayerVersionPermission,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: `${lamina}/invocations`,
    operation: 'ListInvocations',
    handler: listInvocations,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: `${lamina}/usage`,
    operation: 'GetUsage',
    handler: getUsage,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: '/lamina/2026-11-01/prestarted-sandboxes',
    operation: 'GetPrestartedSandboxes',
    handler: getPrestartedSandboxes,
    bodyLimit: small,
  },
  {
    method: 'POST',
    path: '/2015-03-31/functions',
    operation: 'CreateFunction',
    handler: createFunction,
    bodyLimit: code,
    liftZipFiles: true,
  },
  {
    method: 'GET',
    path: '/2015-03-31/functions',
    operation: 'ListFunctions',
    handler: listFunctions,
    bodyLimit: small,
  },
  { method: 'GET', path: fn, operation: 'GetFunction', handler: getFunction, bodyLimit: small },
  {
    method: 'DELETE',
    path: fn,
    operation: 'DeleteFunction',
    handler: deleteFunction,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: `${fn}/configuration`,
    operation: 'GetFunctionConfiguration',
    handler: getFunctionConfiguration,
    bodyLimit: small,
  },
  {
    method: 'PUT',
    path: `${fn}/configuration`,
    operation: 'UpdateFunctionConfiguration',
    handler: updateFunctionConfiguration,
    bodyLimit: small,
  },
  {
    method: 'PUT',
    path: '/2019-09-30/functions/:FunctionName/provisioned-concurrency',
    operation: 'PutProvisionedConcurrencyConfig',
    handler: putProvisionedConcurrencyConfig,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: '/2019-09-30/functions/:FunctionName/provisioned-concurrency',
    operation: 'GetProvisionedConcurrencyConfig',
    handler: getProvisionedConcurrencyConfig,
    bodyLimit: small,
  },
  {
    method: 'DELETE',
    path: '/2019-09-30/functions/:FunctionName/provisioned-concurrency',
    operation: 'DeleteProvisionedConcurrencyConfig',
    handler: deleteProvisionedConcurrencyConfig,
    bodyLimit: small,
  },
  {
    method: 'PUT',
    path: '/2017-10-31/functions/:FunctionName/concurrency',
    operation: 'PutFunctionConcurrency',
    handler: putFunctionConcurrency,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: '/2019-09-30/functions/:FunctionName/concurrency',
    operation: 'GetFunctionConcurrency',
    handler: getFunctionConcurrency,
    bodyLimit: small,
  },
  {
    method: 'DELETE',
    path: '/2017-10-31/functions/:FunctionName/concurrency',
    operation: 'DeleteFunctionConcurrency',
    handler: deleteFunctionConcurrency,
    bodyLimit: small,
  },
  {
    method: 'POST',
    path: `${fn}/versions`,
    operation: 'PublishVersion',
    handler: publishVersion,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: `${fn}/versions`,
    operation: 'ListVersionsByFunction',
    handler: listVersionsByFunction,
    bodyLimit: small,
  },
  {
    method: 'POST',
    path: `${fn}/aliases`,
    operation: 'CreateAlias',
    handler: createAlias,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: `${fn}/aliases`,
    operation: 'ListAliases',
    handler: listAliases,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: `${fn}/aliases/:Name`,
    operation: 'GetAlias',
    handler: getAlias,
    bodyLimit: small,
  },
  {
    method: 'PUT',
    path: `${fn}/aliases/:Name`,
    operation: 'UpdateAlias',
    handler: updateAlias,
    bodyLimit: small,
  },
  {
    method: 'DELETE',
    path: `${fn}/aliases/:Name`,
    operation: 'DeleteAlias',
    handler: deleteAlias,
    bodyLimit: small,
  },
  {
    method: 'POST',
    path: `${fn}/invocations`,
    operation: 'Invoke',
    handler: invoke,
    bodyLimit: LIMITS.invokePayloadBytes,
    tooLarge: 'RequestTooLargeException',
  },
  {
    method: 'POST',
    path: '/2021-11-15/functions/:FunctionName/response-streaming-invocations',
    operation: 'InvokeWithResponseStream',
    handler: invokeWithResponseStream,
    bodyLimit: LIMITS.invokePayloadBytes,
    tooLarge: 'RequestTooLargeException',
  },
  {
    method: 'POST',
    path: '/2014-11-13/functions/:FunctionName/invoke-async',
    operation: 'InvokeAsync',
    handler: invokeAsync,
    bodyLimit: LIMITS.invokeAsyncPayloadBytes,
    tooLarge: 'RequestTooLargeException',
  },
  {
    method: 'PUT',
    path: eventConfig,
    operation: 'PutFunctionEventInvokeConfig',
    handler: putFunctionEventInvokeConfig,
    bodyLimit: small,
  },
  {
    method: 'POST',
    path: eventConfig,
    operation: 'UpdateFunctionEventInvokeConfig',
    handler: updateFunctionEventInvokeConfig,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: eventConfig,
    operation: 'GetFunctionEventInvokeConfig',
    handler: getFunctionEventInvokeConfig,
    bodyLimit: small,
  },
  {
    method: 'DELETE',
    path: eventConfig,
    operation: 'DeleteFunctionEventInvokeConfig',
    handler: deleteFunctionEventInvokeConfig,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: `${eventConfig}/list`,
    operation: 'ListFunctionEventInvokeConfigs',
    handler: listFunctionEventInvokeConfigs,
    bodyLimit: small,
  },
  {
    method: 'PUT',
    path: `${fn}/code`,
    operation: 'UpdateFunctionCode',
    handler: updateFunctionCode,
    bodyLimit: code,
    liftZipFiles: true,
  },
  {
    method: 'POST',
    path: '/2017-03-31/tags/:ARN',
    operation: 'TagResource',
    handler: tagResource,
    bodyLimit: small,
  },
  {
    method: 'DELETE',
    path: '/2017-03-31/tags/:ARN',
    operation: 'UntagResource',
    handler: untagResource,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: '/2017-03-31/tags/:ARN',
    operation: 'ListTags',
    handler: listTags,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: '/2016-08-19/account-settings',
    operation: 'GetAccountSettings',
    handler: getAccountSettings,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: '/lamina/2026-11-01/code/:CodeSha256Hex',
    operation: 'DownloadCode',
    handler: downloadCode,
    bodyLimit: small,
  },
  {
    method: 'POST',
    path: '/2015-03-31/event-source-mappings',
    operation: 'CreateEventSourceMapping',
    handler: createEventSourceMapping,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: '/2015-03-31/event-source-mappings',
    operation: 'ListEventSourceMappings',
    handler: listEventSourceMappings,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: '/2015-03-31/event-source-mappings/:UUID',
    operation: 'GetEventSourceMapping',
    handler: getEventSourceMapping,
    bodyLimit: small,
  },
  {
    method: 'PUT',
    path: '/2015-03-31/event-source-mappings/:UUID',
    operation: 'UpdateEventSourceMapping',
    handler: updateEventSourceMapping,
    bodyLimit: small,
  },
  {
    method: 'DELETE',
    path: '/2015-03-31/event-source-mappings/:UUID',
    operation: 'DeleteEventSourceMapping',
    handler: deleteEventSourceMapping,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: '/2021-07-20/functions/:FunctionName/runtime-management-config',
    operation: 'GetRuntimeManagementConfig',
    handler: getRuntimeManagementConfig,
    bodyLimit: small,
  },
  {
    method: 'PUT',
    path: '/2021-07-20/functions/:FunctionName/runtime-management-config',
    operation: 'PutRuntimeManagementConfig',
    handler: putRuntimeManagementConfig,
    bodyLimit: small,
  },
  {
    method: 'PUT',
    path: `${lamina}/registries/:Host`,
    operation: 'PutRegistryLogin',
    handler: putRegistryLogin,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: `${lamina}/registries`,
    operation: 'ListRegistryLogins',
    handler: listRegistryLogins,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: `${lamina}/registries/:Host`,
    operation: 'GetRegistryLogin',
    handler: getRegistryLogin,
    bodyLimit: small,
  },
  {
    method: 'DELETE',
    path: `${lamina}/registries/:Host`,
    operation: 'DeleteRegistryLogin',
    handler: deleteRegistryLogin,
    bodyLimit: small,
  },
  {
    method: 'POST',
    path: `${lamina}/brokers`,
    operation: 'CreateBroker',
    handler: createBroker,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: `${lamina}/brokers`,
    operation: 'ListBrokers',
    handler: listBrokers,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: `${lamina}/brokers/:BrokerName`,
    operation: 'GetBroker',
    handler: getBroker,
    bodyLimit: small,
  },
  {
    method: 'DELETE',
    path: `${lamina}/brokers/:BrokerName`,
    operation: 'DeleteBroker',
    handler: deleteBroker,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: `${lamina}/async-events/:RequestId`,
    operation: 'GetAsyncEvent',
    handler: getAsyncEvent,
    bodyLimit: small,
  },
  {
    method: 'POST',
    path: `${lamina}/async-events/:RequestId/replay`,
    operation: 'ReplayAsyncEvent',
    handler: replayAsyncEvent,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: `${lamina}/functions/:FunctionName/async-events`,
    operation: 'ListAsyncEvents',
    handler: listAsyncEvents,
    bodyLimit: small,
  },
  {
    method: 'POST',
    path: `${urlFn}/url`,
    operation: 'CreateFunctionUrlConfig',
    handler: createFunctionUrlConfig,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: `${urlFn}/url`,
    operation: 'GetFunctionUrlConfig',
    handler: getFunctionUrlConfig,
    bodyLimit: small,
  },
  {
    method: 'PUT',
    path: `${urlFn}/url`,
    operation: 'UpdateFunctionUrlConfig',
    handler: updateFunctionUrlConfig,
    bodyLimit: small,
  },
  {
    method: 'DELETE',
    path: `${urlFn}/url`,
    operation: 'DeleteFunctionUrlConfig',
    handler: deleteFunctionUrlConfig,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: `${urlFn}/urls`,
    operation: 'ListFunctionUrlConfigs',
    handler: listFunctionUrlConfigs,
    bodyLimit: small,
  },
  {
    method: 'POST',
    path: `${fn}/policy`,
    operation: 'AddPermission',
    handler: addPermission,
    bodyLimit: small,
  },
  {
    method: 'GET',
    path: `${fn}/policy`,
    operation: 'GetPolicy',
    handler: getPolicy,
    bodyLimit: small,
  },
  {
    method: 'DELETE',
    path: `${fn}/policy/:StatementId`,
    operation: 'RemovePermission',
    handler: removePermission,
    bodyLimit: small,
  },
];
