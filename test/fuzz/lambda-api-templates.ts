/**
 * A valid request for every operation of the Lambda API route table, as fast-check arbitraries:
 * path labels, query, headers and a JSON body that a real client could send, aimed at the fuzzer's
 * pool of real functions (so that the handlers find something) and, less often, at junk names.
 * The mutations are applied afterwards (lambda-api-cases.ts).
 */
import fc from 'fast-check';
import { junkString } from './mutations.js';
import {
  ACCOUNT,
  ALIASES,
  cors,
  destinationConfig,
  functionArn,
  invokeHeaders,
  nameForms,
  optionalQuery,
  paging,
  payload,
  permission,
  queryOf,
  qualifierQuery,
  settings,
  STATEMENTS,
  VERSIONS,
  type LambdaPool,
} from './lambda-api-values.js';

export type { LambdaPool } from './lambda-api-values.js';
export { ACCOUNT, REGION } from './lambda-api-values.js';

/** The parts of a request an operation's template supplies. */
export interface RequestParts {
  readonly params: Readonly<Record<string, string>>;
  readonly query: readonly (readonly [string, string])[];
  readonly headers: Readonly<Record<string, string>>;
  /**
   * A JSON document to mutate and send (`intact`: how often its bytes are left undamaged, see
   * mutatedJsonBody), or a payload already in bytes (Invoke).
   */
  readonly body:
    { readonly json: unknown; readonly intact?: number } | { readonly bytes: Buffer } | undefined;
}

type Template = fc.Arbitrary<RequestParts>;

function parts(
  params: Record<string, fc.Arbitrary<string>>,
  options: {
    query?: fc.Arbitrary<(readonly [string, string])[]>;
    headers?: fc.Arbitrary<Record<string, string>>;
    body?: fc.Arbitrary<RequestParts['body']>;
  } = {},
): Template {
  return fc.record({
    params: Object.keys(params).length === 0 ? fc.constant({}) : fc.record(params),
    query: options.query ?? fc.constant([]),
    headers: options.headers ?? fc.constant({}),
    body: options.body ?? fc.constant(undefined),
  });
}

const json = <T>(arb: fc.Arbitrary<T>) => arb.map((value) => ({ json: value }));

/** Operation name → template. Operations missing here get a generic one (and are reported). */
export function lambdaTemplates(pool: LambdaPool): Record<string, Template> {
  const any = nameForms([...pool.stable, ...pool.mutable]);
  // Invokes aim mostly at functions nobody reconfigures, so that they run warm code.
  const invokable = nameForms([...pool.stable, ...pool.stable, ...pool.stable, ...pool.mutable]);
  const mutable = nameForms(pool.mutable);
  const stableOrMutable = nameForms([...pool.stable, ...pool.mutable, ...pool.mutable]);
  const zip64 = pool.zip.toString('base64');
  const layer = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(pool.layerName, 'fz-layer-2') },
    { weight: 1, arbitrary: junkString },
  );
  const layerVersion = fc.oneof(
    fc.constantFrom('1', '2', '3'),
    fc.constantFrom('0', '-1', '99999999999999', 'x'),
  );
  const aliasName = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...ALIASES) },
    { weight: 1, arbitrary: junkString },
  );
  const resourceArn = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...pool.stable, ...pool.mutable).map(functionArn) },
    { weight: 1, arbitrary: fc.constantFrom(...pool.stable).map((n) => `${functionArn(n)}:live`) },
    { weight: 1, arbitrary: fc.constant(pool.layerArn) },
    { weight: 1, arbitrary: junkString },
  );
  const eventInvoke = json(
    fc.record(
      {
        MaximumRetryAttempts: fc.integer({ min: 0, max: 2 }),
        MaximumEventAgeInSeconds: fc.integer({ min: 60, max: 21600 }),
        DestinationConfig: destinationConfig(pool),
      },
      { requiredKeys: [] },
    ),
  );
  const urlConfig = json(
    fc.record(
      {
        AuthType: fc.constantFrom('NONE', 'AWS_IAM'),
        InvokeMode: fc.constantFrom('BUFFERED', 'RESPONSE_STREAM'),
        Cors: cors,
      },
      { requiredKeys: ['AuthType'] },
    ),
  );
  const createName = fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...pool.mutable, 'fz-c-0', 'fz-c-1', 'fz-c-2') },
    { weight: 1, arbitrary: fc.stringMatching(/^fz-r-[a-z0-9]{1,2}$/) },
    { weight: 3, arbitrary: junkString },
  );
  return {
    CreateFunction: parts(
      {},
      {
        body: json(
          fc
            .tuple(
              createName,
              settings(pool),
              fc.boolean(),
              fc.dictionary(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 }), {
                maxKeys: 3,
              }),
            )
            .map(([FunctionName, s, Publish, Tags]) => ({
              FunctionName,
              ...s,
              Code: { ZipFile: zip64 },
              Publish,
              Tags,
            })),
        ),
      },
    ),
    ListFunctions: parts(
      {},
      {
        query: queryOf(
          optionalQuery('FunctionVersion', fc.constantFrom('ALL', 'LATEST', 'x')),
          optionalQuery('MasterRegion', fc.constantFrom('ALL', 'us-east-1')),
          ...paging(),
        ),
      },
    ),
    GetFunction: parts({ FunctionName: any }, { query: queryOf(qualifierQuery()) }),
    DeleteFunction: parts({ FunctionName: mutable }, { query: queryOf(qualifierQuery()) }),
    GetFunctionConfiguration: parts({ FunctionName: any }, { query: queryOf(qualifierQuery()) }),
    UpdateFunctionConfiguration: parts(
      { FunctionName: mutable },
      {
        body: json(
          fc
            .tuple(settings(pool), fc.option(fc.uuid(), { nil: undefined }))
            .map(([s, RevisionId]) => ({ ...s, RevisionId })),
        ),
      },
    ),
    UpdateFunctionCode: parts(
      { FunctionName: mutable },
      {
        body: json(
          fc.record(
            {
              ZipFile: fc.constant(zip64),
              Publish: fc.boolean(),
              DryRun: fc.boolean(),
              Architectures: fc.constant(['x86_64']),
              RevisionId: fc.uuid(),
            },
            { requiredKeys: ['ZipFile'] },
          ),
        ),
      },
    ),
    PutProvisionedConcurrencyConfig: parts(
      { FunctionName: mutable },
      {
        query: queryOf(optionalQuery('Qualifier', fc.constantFrom('1', 'live', '$LATEST'))),
        body: json(fc.record({ ProvisionedConcurrentExecutions: fc.constantFrom(1, 2, 0) })),
      },
    ),
    GetProvisionedConcurrencyConfig: parts(
      { FunctionName: any },
      {
        query: queryOf(
          qualifierQuery(),
          optionalQuery('List', fc.constantFrom('ALL', 'x')),
          ...paging(),
        ),
      },
    ),
    DeleteProvisionedConcurrencyConfig: parts(
      { FunctionName: mutable },
      { query: queryOf(qualifierQuery()) },
    ),
    PutFunctionConcurrency: parts(
      { FunctionName: mutable },
      { body: json(fc.record({ ReservedConcurrentExecutions: fc.integer({ min: 0, max: 20 }) })) },
    ),
    GetFunctionConcurrency: parts({ FunctionName: any }),
    DeleteFunctionConcurrency: parts({ FunctionName: mutable }),
    PublishVersion: parts(
      { FunctionName: stableOrMutable },
      {
        body: json(
          fc.record(
            {
              CodeSha256: fc.constantFrom(
                Buffer.from(pool.zipSha256Hex, 'hex').toString('base64'),
                'wrong',
              ),
              Description: fc.string({ maxLength: 30 }),
              RevisionId: fc.uuid(),
            },
            { requiredKeys: [] },
          ),
        ),
      },
    ),
    ListVersionsByFunction: parts({ FunctionName: any }, { query: queryOf(...paging()) }),
    CreateAlias: parts(
      { FunctionName: any },
      {
        body: json(
          fc.record(
            {
              Name: aliasName,
              FunctionVersion: fc.constantFrom(...VERSIONS),
              Description: fc.string({ maxLength: 30 }),
              RoutingConfig: fc.record({
                AdditionalVersionWeights: fc.dictionary(
                  fc.constantFrom('1', '2', '3'),
                  fc.double({ min: 0, max: 1, noNaN: true }),
                  { maxKeys: 2 },
                ),
              }),
            },
            { requiredKeys: ['Name', 'FunctionVersion'] },
          ),
        ),
      },
    ),
    ListAliases: parts(
      { FunctionName: any },
      {
        query: queryOf(optionalQuery('FunctionVersion', fc.constantFrom(...VERSIONS)), ...paging()),
      },
    ),
    GetAlias: parts({ FunctionName: any, Name: aliasName }),
    UpdateAlias: parts(
      { FunctionName: any, Name: aliasName },
      {
        body: json(
          fc.record(
            {
              FunctionVersion: fc.constantFrom(...VERSIONS),
              Description: fc.string({ maxLength: 30 }),
              RoutingConfig: fc.record({
                AdditionalVersionWeights: fc.dictionary(
                  fc.constantFrom('1', '2'),
                  fc.double({ min: 0, max: 1, noNaN: true }),
                  { maxKeys: 1 },
                ),
              }),
              RevisionId: fc.uuid(),
            },
            { requiredKeys: [] },
          ),
        ),
      },
    ),
    DeleteAlias: parts({ FunctionName: mutable, Name: aliasName }),
    Invoke: parts(
      { FunctionName: invokable },
      { query: queryOf(qualifierQuery()), headers: invokeHeaders, body: payload },
    ),
    InvokeWithResponseStream: parts(
      { FunctionName: invokable },
      { query: queryOf(qualifierQuery()), headers: invokeHeaders, body: payload },
    ),
    InvokeAsync: parts({ FunctionName: invokable }, { body: payload }),
    PutFunctionEventInvokeConfig: parts(
      { FunctionName: any },
      { query: queryOf(qualifierQuery()), body: eventInvoke },
    ),
    UpdateFunctionEventInvokeConfig: parts(
      { FunctionName: any },
      { query: queryOf(qualifierQuery()), body: eventInvoke },
    ),
    GetFunctionEventInvokeConfig: parts(
      { FunctionName: any },
      { query: queryOf(qualifierQuery()) },
    ),
    DeleteFunctionEventInvokeConfig: parts(
      { FunctionName: any },
      { query: queryOf(qualifierQuery()) },
    ),
    ListFunctionEventInvokeConfigs: parts({ FunctionName: any }, { query: queryOf(...paging()) }),
    TagResource: parts(
      { ARN: resourceArn },
      {
        body: json(
          fc.record({
            Tags: fc.dictionary(fc.string({ maxLength: 130 }), fc.string({ maxLength: 260 }), {
              maxKeys: 60,
            }),
          }),
        ),
      },
    ),
    UntagResource: parts(
      { ARN: resourceArn },
      {
        query: fc.array(
          fc.string({ maxLength: 20 }).map((k): readonly [string, string] => ['tagKeys', k]),
          { maxLength: 5 },
        ),
      },
    ),
    ListTags: parts({ ARN: resourceArn }),
    GetAccountSettings: parts({}),
    DownloadCode: parts({
      CodeSha256Hex: fc.oneof(
        fc.constant(pool.zipSha256Hex),
        fc.stringMatching(/^[0-9a-f]{64}$/),
        junkString,
      ),
    }),
    GetAsyncEvent: parts({ RequestId: fc.oneof(fc.uuid(), junkString) }),
    ReplayAsyncEvent: parts({ RequestId: fc.oneof(fc.uuid(), junkString) }),
    ListAsyncEvents: parts(
      { FunctionName: any },
      {
        query: queryOf(
          optionalQuery('Status', fc.constantFrom('Queued', 'Succeeded', 'Failed', 'x')),
          ...paging(),
        ),
      },
    ),
    CreateFunctionUrlConfig: parts(
      { FunctionName: any },
      { query: queryOf(qualifierQuery()), body: urlConfig },
    ),
    GetFunctionUrlConfig: parts({ FunctionName: any }, { query: queryOf(qualifierQuery()) }),
    UpdateFunctionUrlConfig: parts(
      { FunctionName: any },
      { query: queryOf(qualifierQuery()), body: urlConfig },
    ),
    DeleteFunctionUrlConfig: parts({ FunctionName: any }, { query: queryOf(qualifierQuery()) }),
    ListFunctionUrlConfigs: parts({ FunctionName: any }, { query: queryOf(...paging()) }),
    AddPermission: parts(
      { FunctionName: any },
      { query: queryOf(qualifierQuery()), body: json(permission) },
    ),
    GetPolicy: parts({ FunctionName: any }, { query: queryOf(qualifierQuery()) }),
    RemovePermission: parts(
      { FunctionName: any, StatementId: fc.oneof(fc.constantFrom(...STATEMENTS), junkString) },
      { query: queryOf(qualifierQuery(), optionalQuery('RevisionId', fc.uuid())) },
    ),
    PublishLayerVersion: parts(
      { LayerName: layer },
      {
        body: json(
          fc.record(
            {
              Description: fc.string({ maxLength: 30 }),
              Content: fc.constant({ ZipFile: zip64 }),
              CompatibleRuntimes: fc.constantFrom(['nodejs20.x'], ['python3.11', 'nodejs20.x'], []),
              CompatibleArchitectures: fc.constantFrom(['x86_64'], ['arm64']),
              LicenseInfo: fc.constant('MIT'),
            },
            { requiredKeys: ['Content'] },
          ),
        ),
      },
    ),
    ListLayerVersions: parts(
      { LayerName: layer },
      {
        query: queryOf(
          optionalQuery('CompatibleRuntime', fc.constantFrom('nodejs20.x', 'x')),
          ...paging(),
        ),
      },
    ),
    ListLayers: parts(
      {},
      {
        query: queryOf(
          optionalQuery('CompatibleRuntime', fc.constantFrom('nodejs20.x', 'x')),
          optionalQuery('find', fc.constantFrom('LayerVersion')),
          optionalQuery('Arn', fc.oneof(fc.constant(pool.layerArn), junkString)),
          ...paging(),
        ),
      },
    ),
    GetLayerVersion: parts({ LayerName: layer, VersionNumber: layerVersion }),
    DeleteLayerVersion: parts({
      LayerName: fc.constantFrom('fz-layer-2'),
      VersionNumber: layerVersion,
    }),
    AddLayerVersionPermission: parts(
      { LayerName: layer, VersionNumber: layerVersion },
      {
        query: queryOf(optionalQuery('RevisionId', fc.uuid())),
        body: json(
          fc.record(
            {
              StatementId: fc.oneof(fc.constantFrom(...STATEMENTS), junkString),
              Action: fc.constantFrom('lambda:GetLayerVersion', 'lambda:*'),
              Principal: fc.constantFrom('*', ACCOUNT),
              OrganizationId: fc.constant('o-abcdefghij'),
            },
            { requiredKeys: ['StatementId', 'Action', 'Principal'] },
          ),
        ),
      },
    ),
    GetLayerVersionPolicy: parts({ LayerName: layer, VersionNumber: layerVersion }),
    RemoveLayerVersionPermission: parts(
      {
        LayerName: layer,
        VersionNumber: layerVersion,
        StatementId: fc.oneof(fc.constantFrom(...STATEMENTS), junkString),
      },
      { query: queryOf(optionalQuery('RevisionId', fc.uuid())) },
    ),
    GetPrestartedSandboxes: parts({}),
  };
}
