/**
 * The IAM action and resource ARN each control-API operation is authorized with, as AWS's Service
 * Authorization Reference lists them for Lambda: most act on the unqualified function; those that
 * take a qualifier (Invoke, GetFunction, permissions, URLs, concurrency and event settings) on the
 * qualified ARN when one is given; layers on the layer or its version; tags on the ARN tagged;
 * listings and account settings on `*`. Lamina's own operations are `lamina:<Operation>`.
 */
import { functionArn, type Scope } from '../core/arn.js';
import { parseFunctionName } from '../core/function-name.js';

type ResourceKind = 'account' | 'function' | 'qualified' | 'layer' | 'layerVersion' | 'tagged';

interface Access {
  readonly action: string;
  readonly resource: ResourceKind;
}

const lambda = (action: string, resource: ResourceKind): Access => ({
  action: `lambda:${action}`,
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
  // A code download link is handed out by GetFunction; following it is the same right.
  DownloadCode: lambda('GetFunction', 'account'),
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
};

/** Operations the table knows (every route's must be among them). */
export const AUTHORIZED_OPERATIONS: ReadonlySet<string> = new Set(Object.keys(ACCESS));

/** What a request of `operation` is authorized as. */
export function accessOf(
  operation: string,
  request: {
    readonly params: Readonly<Record<string, string>>;
    readonly query: Readonly<Record<string, string | string[]>>;
    /** CreateFunction's FunctionName is in its body. */
    readonly bodyFunctionName?: string | undefined;
  },
  scope: Scope,
): {
  action: string;
  resource: string;
  function?: { name: string; qualifier: string | undefined };
} {
  const access = ACCESS[operation];
  if (access === undefined) throw new Error(`no authorization is defined for ${operation}`);
  const base = `arn:aws:lambda:${scope.region}:${scope.accountId}`;
  const { params, query } = request;
  switch (access.resource) {
    case 'account':
      return { action: access.action, resource: '*' };
    case 'layer':
      return { action: access.action, resource: `${base}:layer:${params['LayerName'] ?? ''}` };
    case 'layerVersion':
      return {
        action: access.action,
        resource: `${base}:layer:${params['LayerName'] ?? ''}:${params['VersionNumber'] ?? ''}`,
      };
    case 'tagged':
      return { action: access.action, resource: params['ARN'] ?? '*' };
    default: {
      const name = params['FunctionName'] ?? request.bodyFunctionName ?? '';
      const qualifier = typeof query['Qualifier'] === 'string' ? query['Qualifier'] : undefined;
      let ref: { name: string; qualifier: string | undefined };
      try {
        ref = parseFunctionName(name, qualifier, scope);
      } catch {
        // A name the operation will refuse anyway: authorized as written.
        ref = { name, qualifier: undefined };
      }
      const qualified = access.resource === 'qualified' ? ref.qualifier : undefined;
      return {
        action: access.action,
        resource: functionArn(scope, ref.name, qualified),
        function: { name: ref.name, qualifier: qualified },
      };
    }
  }
}
