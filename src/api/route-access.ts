/**
 * The IAM action and resource ARN each control-API operation is authorized with, as AWS's Service
 * Authorization Reference lists them for Lambda: most act on the unqualified function; those that
 * take a qualifier (Invoke, GetFunction, permissions, URLs, concurrency and event settings) on the
 * qualified ARN when one is given; layers on the layer or its version; tags on the ARN tagged;
 * listings and account settings on `*`. Lamina's own operations are `lamina:<Operation>`.
 * EventBridge Scheduler's act on `schedule/<group>/<name>` and `schedule-group/<name>` (tags on
 * the group tagged), its listings on `*`.
 */
import { functionArn, type Scope } from '../core/arn.js';
import { parseFunctionName } from '../core/function-name.js';

type ResourceKind =
  | 'account'
  | 'function'
  | 'qualified'
  | 'layer'
  | 'layerVersion'
  | 'tagged'
  | 'eventSourceMapping'
  | 'broker'
  | 'schedule'
  | 'scheduleGroup'
  | 'schedulerTagged';

interface Access {
  readonly action: string;
  readonly resource: ResourceKind;
}

const lambda = (action: string, resource: ResourceKind): Access => ({
  action: `lambda:${action}`,
  resource,
});

const scheduler = (action: string, resource: ResourceKind): Access => ({
  action: `scheduler:${action}`,
  resource,
});

const ACCESS: Readonly<Record<string, Access>> = {
  AddLayerVersionPermission: lambda('AddLayerVersionPermission', 'layerVersion'),
  AddPermission: lambda('AddPermission', 'qualified'),
  CreateAlias: lambda('CreateAlias', 'function'),
  CreateFunction: lambda('CreateFunction', 'function'),
  CreateFunctionUrlConfig: lambda('CreateFunctionUrlConfig', 'qualified'),
  DeleteAlias: lambda('DeleteAlias', 'function'),
  DeleteFunction: lambda('DeleteFunction', 'qualified'),
  DeleteFunctionConcurrency: lambda('DeleteFunctionConcurrency', 'function'),
  DeleteFunctionEventInvokeConfig: lambda('DeleteFunctionEventInvokeConfig', 'qualified'),
  DeleteFunctionUrlConfig: lambda('DeleteFunctionUrlConfig', 'qualified'),
  DeleteLayerVersion: lambda('DeleteLayerVersion', 'layerVersion'),
  DeleteProvisionedConcurrencyConfig: lambda('DeleteProvisionedConcurrencyConfig', 'qualified'),
  // Names no function (only a code hash): its own action, which only `*` grants (GetFunction's
  // presigned link is signed by the account's root).
  DownloadCode: { action: 'lamina:DownloadCode', resource: 'account' },
  GetAccountSettings: lambda('GetAccountSettings', 'account'),
  GetAlias: lambda('GetAlias', 'function'),
  GetFunction: lambda('GetFunction', 'qualified'),
  GetFunctionConcurrency: lambda('GetFunctionConcurrency', 'function'),
  GetFunctionConfiguration: lambda('GetFunctionConfiguration', 'qualified'),
  GetFunctionEventInvokeConfig: lambda('GetFunctionEventInvokeConfig', 'qualified'),
  GetFunctionUrlConfig: lambda('GetFunctionUrlConfig', 'qualified'),
  GetLayerVersion: lambda('GetLayerVersion', 'layerVersion'),
  GetLayerVersionPolicy: lambda('GetLayerVersionPolicy', 'layerVersion'),
  GetPolicy: lambda('GetPolicy', 'qualified'),
  GetProvisionedConcurrencyConfig: lambda('GetProvisionedConcurrencyConfig', 'qualified'),
  Invoke: lambda('InvokeFunction', 'qualified'),
  InvokeAsync: lambda('InvokeAsync', 'function'),
  InvokeWithResponseStream: lambda('InvokeFunction', 'qualified'),
  ListAliases: lambda('ListAliases', 'function'),
  ListFunctionEventInvokeConfigs: lambda('ListFunctionEventInvokeConfigs', 'function'),
  ListFunctionUrlConfigs: lambda('ListFunctionUrlConfigs', 'function'),
  ListFunctions: lambda('ListFunctions', 'account'),
  ListLayerVersions: lambda('ListLayerVersions', 'account'),
  ListLayers: lambda('ListLayers', 'account'),
  ListTags: lambda('ListTags', 'tagged'),
  ListVersionsByFunction: lambda('ListVersionsByFunction', 'function'),
  PublishLayerVersion: lambda('PublishLayerVersion', 'layer'),
  PublishVersion: lambda('PublishVersion', 'function'),
  PutFunctionConcurrency: lambda('PutFunctionConcurrency', 'function'),
  PutFunctionEventInvokeConfig: lambda('PutFunctionEventInvokeConfig', 'qualified'),
  PutProvisionedConcurrencyConfig: lambda('PutProvisionedConcurrencyConfig', 'qualified'),
  RemoveLayerVersionPermission: lambda('RemoveLayerVersionPermission', 'layerVersion'),
  RemovePermission: lambda('RemovePermission', 'qualified'),
  TagResource: lambda('TagResource', 'tagged'),
  UntagResource: lambda('UntagResource', 'tagged'),
  UpdateAlias: lambda('UpdateAlias', 'function'),
  UpdateFunctionCode: lambda('UpdateFunctionCode', 'function'),
  UpdateFunctionConfiguration: lambda('UpdateFunctionConfiguration', 'function'),
  UpdateFunctionEventInvokeConfig: lambda('UpdateFunctionEventInvokeConfig', 'qualified'),
  UpdateFunctionUrlConfig: lambda('UpdateFunctionUrlConfig', 'qualified'),
  GetAsyncEvent: { action: 'lamina:GetAsyncEvent', resource: 'account' },
  ListAsyncEvents: { action: 'lamina:ListAsyncEvents', resource: 'function' },
  ReplayAsyncEvent: { action: 'lamina:ReplayAsyncEvent', resource: 'account' },
  GetPrestartedSandboxes: { action: 'lamina:GetPrestartedSandboxes', resource: 'account' },
  ListInvocations: { action: 'lamina:ListInvocations', resource: 'account' },
  GetUsage: { action: 'lamina:GetUsage', resource: 'account' },
  CreateEventSourceMapping: lambda('CreateEventSourceMapping', 'account'),
  ListEventSourceMappings: lambda('ListEventSourceMappings', 'account'),
  GetEventSourceMapping: lambda('GetEventSourceMapping', 'eventSourceMapping'),
  UpdateEventSourceMapping: lambda('UpdateEventSourceMapping', 'eventSourceMapping'),
  DeleteEventSourceMapping: lambda('DeleteEventSourceMapping', 'eventSourceMapping'),
  GetRuntimeManagementConfig: lambda('GetRuntimeManagementConfig', 'qualified'),
  PutRuntimeManagementConfig: lambda('PutRuntimeManagementConfig', 'qualified'),
  PutRegistryLogin: { action: 'lamina:PutRegistryLogin', resource: 'account' },
  ListRegistryLogins: { action: 'lamina:ListRegistryLogins', resource: 'account' },
  GetRegistryLogin: { action: 'lamina:GetRegistryLogin', resource: 'account' },
  DeleteRegistryLogin: { action: 'lamina:DeleteRegistryLogin', resource: 'account' },
  CreateBroker: { action: 'lamina:CreateBroker', resource: 'broker' },
  ListBrokers: { action: 'lamina:ListBrokers', resource: 'account' },
  GetBroker: { action: 'lamina:GetBroker', resource: 'broker' },
  DeleteBroker: { action: 'lamina:DeleteBroker', resource: 'broker' },
  // EventBridge Scheduler, as its Service Authorization Reference lists the resources.
  CreateSchedule: scheduler('CreateSchedule', 'schedule'),
  GetSchedule: scheduler('GetSchedule', 'schedule'),
  UpdateSchedule: scheduler('UpdateSchedule', 'schedule'),
  DeleteSchedule: scheduler('DeleteSchedule', 'schedule'),
  ListSchedules: scheduler('ListSchedules', 'account'),
  CreateScheduleGroup: scheduler('CreateScheduleGroup', 'scheduleGroup'),
  GetScheduleGroup: scheduler('GetScheduleGroup', 'scheduleGroup'),
  DeleteScheduleGroup: scheduler('DeleteScheduleGroup', 'scheduleGroup'),
  ListScheduleGroups: scheduler('ListScheduleGroups', 'account'),
  // Named apart from Lambda's tagging operations (the same names, another service).
  SchedulerListTagsForResource: scheduler('ListTagsForResource', 'schedulerTagged'),
  SchedulerTagResource: scheduler('TagResource', 'schedulerTagged'),
  SchedulerUntagResource: scheduler('UntagResource', 'schedulerTagged'),
};

/** Operations the table knows (every route's must be among them). */
export const AUTHORIZED_OPERATIONS: ReadonlySet<string> = new Set(Object.keys(ACCESS));

/** What a request of `operation` is authorized as. */
export function accessOf(
  operation: string,
  request: {
    readonly params: Readonly<Record<string, string>>;
    readonly query: Readonly<Record<string, string | string[]>>;
    /** The JSON body, for operations whose name or condition keys are in it (BODY_READ). */
    readonly body?: Readonly<Record<string, unknown>> | undefined;
  },
  scope: Scope,
): {
  action: string;
  resource: string;
  function?: { name: string; qualifier: string | undefined };
  /** The operation's condition keys (`lambda:FunctionUrlAuthType`, `lambda:Principal`…). */
  context?: Record<string, string>;
} {
  const access = ACCESS[operation];
  if (access === undefined) throw new Error(`no authorization is defined for ${operation}`);
  const base = `arn:aws:lambda:${scope.region}:${scope.accountId}`;
  const { params, query } = request;
  const layer = layerName(params['LayerName'] ?? '');
  switch (access.resource) {
    case 'account':
      return {
        action: access.action,
        resource: '*',
        ...mappingContext(operation, request.body, scope),
      };
    case 'layer':
      return { action: access.action, resource: `${base}:layer:${layer}` };
    case 'layerVersion':
      return {
        action: access.action,
        resource: `${base}:layer:${layer}:${params['VersionNumber'] ?? ''}`,
      };
    case 'tagged':
      return { action: access.action, resource: params['ARN'] ?? '*' };
    case 'eventSourceMapping':
      return {
        action: access.action,
        resource: `${base}:event-source-mapping:${params['UUID'] ?? ''}`,
        ...mappingContext(operation, request.body, scope),
      };
    case 'schedule': {
      // The group is in the body (create, update) or the query (get, delete); default: `default`.
      const bodyGroup = request.body?.['GroupName'];
      const rawGroup = query['groupName'];
      const queryGroup = Array.isArray(rawGroup) ? rawGroup[0] : rawGroup;
      const group = typeof bodyGroup === 'string' ? bodyGroup : (queryGroup ?? 'default');
      return {
        action: access.action,
        resource: `${schedulerBase(scope)}:schedule/${group}/${params['Name'] ?? ''}`,
      };
    }
    case 'scheduleGroup':
      return {
        action: access.action,
        resource: `${schedulerBase(scope)}:schedule-group/${params['Name'] ?? ''}`,
      };
    case 'schedulerTagged':
      return { action: access.action, resource: params['ResourceArn'] ?? '*' };
    case 'broker': {
      const bodyName = request.body?.['BrokerName'];
      const name = params['BrokerName'] ?? (typeof bodyName === 'string' ? bodyName : '');
      return {
        action: access.action,
        resource: `arn:aws:mq:${scope.region}:${scope.accountId}:broker:${name}:*`,
      };
    }
    default: {
      const bodyName = request.body?.['FunctionName'];
      const name = params['FunctionName'] ?? (typeof bodyName === 'string' ? bodyName : '');
      // As the handlers read it: the first of repeated values.
      const raw = query['Qualifier'];
      const qualifier = Array.isArray(raw) ? raw[0] : raw;
      // A name the operation refuses anyway (its handler parses it the same way) is refused here
      // the same way, before any policy is asked.
      const ref = parseFunctionName(name, qualifier, scope);
      const qualified = access.resource === 'qualified' ? ref.qualifier : undefined;
      return {
        action: access.action,
        resource: functionArn(scope, ref.name, qualified),
        function: { name: ref.name, qualifier: qualified },
        context: conditionKeys(operation, request.body, functionArn(scope, ref.name)),
      };
    }
  }
}

function schedulerBase(scope: Scope): string {
  return `arn:aws:scheduler:${scope.region}:${scope.accountId}`;
}

/** `lambda:FunctionArn` of the function a mapping is made for (or moved to), as AWS sets it. */
function mappingContext(
  operation: string,
  body: Readonly<Record<string, unknown>> | undefined,
  scope: Scope,
): { context?: Record<string, string> } {
  const name = body?.['FunctionName'];
  if (!operation.endsWith('EventSourceMapping') || typeof name !== 'string') return {};
  const ref = parseFunctionName(name, undefined, scope);
  return { context: { 'lambda:FunctionArn': functionArn(scope, ref.name, ref.qualifier) } };
}

/** A layer named by its ARN (`arn:aws:lambda:<region>:<account>:layer:<name>`) or its name. */
function layerName(nameOrArn: string): string {
  return /^arn:[^:]+:lambda:[^:]*:[^:]*:layer:([^:]+)$/.exec(nameOrArn)?.[1] ?? nameOrArn;
}

/** Operations whose body the authorization reads (for the function's name or condition keys). */
export const BODY_READ: ReadonlySet<string> = new Set([
  'CreateEventSourceMapping',
  'UpdateEventSourceMapping',
  'CreateBroker',
  'CreateFunction',
  'UpdateFunctionCode',
  'UpdateFunctionConfiguration',
  'AddPermission',
  'CreateFunctionUrlConfig',
  'UpdateFunctionUrlConfig',
  'CreateSchedule',
  'UpdateSchedule',
]);

/** The Lambda condition keys AWS documents for an operation, from its body. */
function conditionKeys(
  operation: string,
  body: Readonly<Record<string, unknown>> | undefined,
  unqualifiedArn: string,
): Record<string, string> {
  const keys: Record<string, string> = { 'lambda:FunctionArn': unqualifiedArn };
  const text = (field: string) => {
    const value = body?.[field];
    return typeof value === 'string' ? value : undefined;
  };
  const authType = operation === 'AddPermission' ? text('FunctionUrlAuthType') : text('AuthType');
  if (authType !== undefined && operation !== 'CreateFunction')
    keys['lambda:FunctionUrlAuthType'] = authType;
  const principal = text('Principal');
  if (operation === 'AddPermission' && principal !== undefined)
    keys['lambda:Principal'] = principal;
  return keys;
}
