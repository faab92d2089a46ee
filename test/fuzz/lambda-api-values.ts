/**
 * The values the Lambda API templates are made of, as fast-check arbitraries: the names of the
 * fuzzer's real resources in every form a client writes them, query parameters, function
 * settings, invoke headers and payloads, permissions and CORS rules. Mostly valid, with some junk.
 */
import fc from 'fast-check';
import { junkString, RawJson } from './mutations.js';

/** The real resources the fuzz cases aim at. */
export interface LambdaPool {
  /** Functions that stay runnable: invoked, aliased, tagged, never reconfigured. */
  readonly stable: readonly string[];
  /** Functions that may be reconfigured, deleted and created again. */
  readonly mutable: readonly string[];
  readonly layerName: string;
  readonly layerArn: string;
  /** A small valid deployment package (index.js echoing its event). */
  readonly zip: Buffer;
  readonly zipSha256Hex: string;
}

export const ACCOUNT = '000000000000';
export const REGION = 'us-east-1';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/lambda-role`;
export const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;

export const ALIASES = ['live', 'fz-alias-0', 'fz-alias-1'];
export const STATEMENTS = ['fz-sid-0', 'fz-sid-1', 'fz-sid-2'];
export const VERSIONS = ['$LATEST', '1', '2', '3'];

/** A name as each client form writes it: plain, with a qualifier, as a partial or full ARN. */
export function nameForms(names: readonly string[]): fc.Arbitrary<string> {
  const name = fc.constantFrom(...names);
  return fc.oneof(
    { weight: 12, arbitrary: name },
    { weight: 2, arbitrary: fc.tuple(name, qualifier).map(([n, q]) => `${n}:${q}`) },
    { weight: 2, arbitrary: name.map(functionArn) },
    { weight: 1, arbitrary: name.map((n) => `${ACCOUNT}:function:${n}`) },
    {
      weight: 1,
      arbitrary: name.map((n) => `arn:aws:lambda:eu-west-1:111111111111:function:${n}`),
    },
    { weight: 2, arbitrary: junkString },
  );
}

export const qualifier: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...VERSIONS, ...ALIASES) },
  { weight: 1, arbitrary: junkString },
);

export const optionalQuery = (key: string, value: fc.Arbitrary<string>) =>
  fc.option(
    value.map((v): [string, string] => [key, v]),
    { nil: undefined, freq: 2 },
  );

export function queryOf(
  ...entries: fc.Arbitrary<readonly [string, string] | undefined>[]
): fc.Arbitrary<(readonly [string, string])[]> {
  return fc
    .tuple(...entries)
    .map((pairs) => pairs.filter((p): p is readonly [string, string] => p !== undefined));
}

export const maxItems = fc.oneof(
  fc.integer({ min: 1, max: 50 }).map(String),
  fc.constantFrom('0', '-1', '10001', '1.5', 'abc', '', '99999999999999999999'),
);
export const marker = fc.oneof(
  fc.constantFrom('fz-echo', 'fz-m-0', '1', 'live', '0', ''),
  fc.base64String({ maxLength: 40 }),
  junkString,
);
export const paging = () => [optionalQuery('Marker', marker), optionalQuery('MaxItems', maxItems)];
export const qualifierQuery = () => optionalQuery('Qualifier', qualifier);

/** Settings common to CreateFunction and UpdateFunctionConfiguration. */
export function settings(pool: LambdaPool) {
  return fc.record(
    {
      Runtime: fc.constantFrom(
        'nodejs20.x',
        'python3.11',
        'provided.al2023',
        'nodejs4.3',
        'java21',
      ),
      Role: fc.constant(ROLE),
      Handler: fc.constantFrom('index.handler', 'handler.handler', 'missing.handler', ''),
      Description: fc.string({ maxLength: 60 }),
      Timeout: fc.integer({ min: 1, max: 30 }),
      MemorySize: fc.constantFrom(128, 256),
      Environment: fc.record({
        Variables: fc.dictionary(
          fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,15}$/),
          fc.string({ maxLength: 30 }),
          {
            maxKeys: 4,
          },
        ),
      }),
      EphemeralStorage: fc.record({ Size: fc.constantFrom(512, 1024) }),
      Architectures: fc.constantFrom(['x86_64'], ['arm64']),
      TracingConfig: fc.record({ Mode: fc.constantFrom('PassThrough', 'Active') }),
      LoggingConfig: fc.record({
        LogFormat: fc.constantFrom('Text', 'JSON'),
        LogGroup: fc.constantFrom('/aws/lambda/fz', 'fz-group'),
      }),
      Layers: fc.constantFrom([pool.layerArn], []),
      PackageType: fc.constant('Zip'),
    },
    { requiredKeys: ['Role'] },
  );
}

export const destinationConfig = (pool: LambdaPool) =>
  fc.record(
    {
      OnSuccess: fc.record({ Destination: fc.constantFrom(...pool.stable.map(functionArn)) }),
      OnFailure: fc.record({
        Destination: fc.constantFrom(
          functionArn(pool.stable[0] ?? 'x'),
          'arn:aws:sqs:us-east-1:000000000000:q',
        ),
      }),
    },
    { requiredKeys: [] },
  );

const clientContext = fc.oneof(
  {
    weight: 20,
    arbitrary: fc
      .record({
        client: fc.record({ installation_id: fc.string(), app_title: fc.string() }),
        custom: fc.dictionary(fc.string(), fc.string()),
        env: fc.record({ locale: fc.constantFrom('en_US', 'fr') }),
      })
      .map((context) => Buffer.from(JSON.stringify(context)).toString('base64')),
  },
  { weight: 1, arbitrary: fc.base64String({ maxLength: 200 }) },
  {
    weight: 1,
    arbitrary: fc.constant(Buffer.from(JSON.stringify({ x: 'y'.repeat(4000) })).toString('base64')),
  },
  { weight: 1, arbitrary: junkString },
);

/** Invoke's headers, each present or not, with valid and invalid values. */
export const invokeHeaders = fc.record(
  {
    'x-amz-invocation-type': fc.oneof(
      { weight: 10, arbitrary: fc.constant('RequestResponse') },
      { weight: 3, arbitrary: fc.constantFrom('Event', 'DryRun') },
      { weight: 1, arbitrary: fc.constantFrom('event', 'requestresponse', '', 'Async') },
    ),
    'x-amz-log-type': fc.constantFrom('Tail', 'None', 'tail', ''),
    'x-amz-client-context': clientContext,
    'content-type': fc.constantFrom('application/json', 'application/octet-stream', 'text/plain'),
  },
  { requiredKeys: [] },
);

/** JSON payloads around the limits (256 KB and 1 MB for events, 6 MB), made once and shared. */
export const LARGE_PAYLOADS = [
  256 * 1024,
  1024 * 1024 + 1,
  6 * 1024 * 1024 - 100,
  6 * 1024 * 1024 + 10,
].map((size) => Buffer.from(JSON.stringify({ pad: 'p'.repeat(size - 10) })));

/** An invocation payload: a small event mostly, sometimes large, sometimes not JSON. */
export const payload: fc.Arbitrary<{ json: unknown; intact?: number } | { bytes: Buffer }> =
  fc.oneof(
    {
      weight: 12,
      arbitrary: fc
        .record({ key: fc.string(), n: fc.integer(), nested: fc.jsonValue({ maxDepth: 2 }) })
        .map((json) => ({ json, intact: 60 })),
    },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((json) => ({ json })) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...LARGE_PAYLOADS).map((bytes) => ({ bytes })),
    },
    {
      weight: 1,
      arbitrary: fc.constant({
        json: new RawJson('{"a":' + '['.repeat(20000) + ']'.repeat(20000) + '}'),
      }),
    },
  );

export const permission = fc.record(
  {
    StatementId: fc.oneof(fc.constantFrom(...STATEMENTS), junkString),
    Action: fc.constantFrom(
      'lambda:InvokeFunction',
      'lambda:InvokeFunctionUrl',
      'lambda:*',
      'lambda:GetFunction',
    ),
    Principal: fc.constantFrom('*', 's3.amazonaws.com', ACCOUNT, `arn:aws:iam::${ACCOUNT}:root`),
    SourceArn: fc.constant('arn:aws:s3:::bucket'),
    SourceAccount: fc.constant(ACCOUNT),
    FunctionUrlAuthType: fc.constantFrom('NONE', 'AWS_IAM'),
    PrincipalOrgID: fc.constant('o-abcdefghij'),
    RevisionId: fc.uuid(),
  },
  { requiredKeys: ['StatementId', 'Action', 'Principal'] },
);

export const cors = fc.record(
  {
    AllowOrigins: fc.array(fc.constantFrom('*', 'https://example.com', 'http://x'), {
      maxLength: 3,
    }),
    AllowMethods: fc.array(fc.constantFrom('GET', 'POST', '*', 'PATCH'), { maxLength: 3 }),
    AllowHeaders: fc.array(fc.constantFrom('content-type', 'x-custom'), { maxLength: 2 }),
    ExposeHeaders: fc.array(fc.constantFrom('x-a'), { maxLength: 1 }),
    MaxAge: fc.integer({ min: 0, max: 86400 }),
    AllowCredentials: fc.boolean(),
  },
  { requiredKeys: [] },
);
