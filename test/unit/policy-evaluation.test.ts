/**
 * AWS's policy evaluation, case by case: each row is a request, the policies that apply and the
 * outcome AWS documents for it (IAM User Guide: "Policy evaluation logic", "IAM JSON policy
 * elements" for Action, NotAction, Resource, NotResource and Principal, "Condition operators",
 * "Creating a condition with multiple keys or values", "Troubleshooting access denied error
 * messages").
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compilePolicy, PolicySyntaxError } from '../../src/core/policy-document.js';
import {
  accessDeniedMessage,
  evaluate,
  type AuthorizationRequest,
} from '../../src/core/policy-evaluation.js';

const ACCOUNT = '111122223333';
const FN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:orders`;
const alice = { arn: `arn:aws:iam::${ACCOUNT}:user/team/alice`, account: ACCOUNT };
const root = { arn: `arn:aws:iam::${ACCOUNT}:root`, account: ACCOUNT };
const roleArn = `arn:aws:iam::${ACCOUNT}:role/worker`;
const session = {
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/worker/s1`,
  account: ACCOUNT,
  roleArn,
};
const scheduler = {
  arn: 'scheduler.amazonaws.com',
  account: ACCOUNT,
  service: 'scheduler.amazonaws.com',
};

type Statement = Record<string, unknown>;
const doc = (...statements: Statement[]) =>
  JSON.stringify({ Version: '2012-10-17', Statement: statements });
const allow = (action: unknown, resource: unknown = '*', extra: Statement = {}) => ({
  Effect: 'Allow',
  Action: action,
  Resource: resource,
  ...extra,
});
const deny = (action: unknown, resource: unknown = '*', extra: Statement = {}) => ({
  Effect: 'Deny',
  Action: action,
  Resource: resource,
  ...extra,
});

interface Case {
  readonly name: string;
  readonly request?: Partial<AuthorizationRequest>;
  readonly identity?: readonly Statement[][];
  readonly resource?: readonly Statement[];
  readonly session?: readonly Statement[][];
  readonly outcome: 'allow' | 'explicitDeny' | 'implicitDeny';
}

function run(c: Case): string {
  const request: AuthorizationRequest = {
    principal: alice,
    action: 'lambda:InvokeFunction',
    resource: FN,
    ...c.request,
  };
  return evaluate(request, {
    identity: (c.identity ?? []).map((s) => compilePolicy(doc(...s), 'identity')),
    resource: c.resource === undefined ? undefined : compilePolicy(doc(...c.resource), 'resource'),
    session: c.session?.map((s) => compilePolicy(doc(...s), 'identity')),
  }).effect;
}

const CASES: Case[] = [
  // The order of evaluation.
  { name: 'nothing applies: implicit deny', outcome: 'implicitDeny' },
  {
    name: 'an identity Allow allows',
    identity: [[allow('lambda:InvokeFunction')]],
    outcome: 'allow',
  },
  {
    name: 'an explicit Deny wins over an Allow in the same policy',
    identity: [[allow('lambda:*'), deny('lambda:InvokeFunction')]],
    outcome: 'explicitDeny',
  },
  {
    name: 'an explicit Deny in another policy wins',
    identity: [[allow('*')], [deny('lambda:Invoke*')]],
    outcome: 'explicitDeny',
  },
  {
    name: 'the account root needs no identity policy',
    request: { principal: root },
    outcome: 'allow',
  },
  {
    name: "a resource policy's Deny applies to the root too",
    request: { principal: root },
    resource: [deny('lambda:InvokeFunction', FN, { Principal: '*' })],
    outcome: 'explicitDeny',
  },
  {
    name: 'a resource policy naming the user allows without an identity Allow',
    resource: [allow('lambda:InvokeFunction', FN, { Principal: { AWS: alice.arn } })],
    outcome: 'allow',
  },
  {
    name: 'a resource policy naming the role allows its sessions',
    request: { principal: session },
    resource: [allow('lambda:InvokeFunction', FN, { Principal: { AWS: roleArn } })],
    outcome: 'allow',
  },
  {
    name: 'a resource policy naming the account delegates: an IAM user still needs an identity Allow',
    resource: [allow('lambda:InvokeFunction', FN, { Principal: { AWS: ACCOUNT } })],
    outcome: 'implicitDeny',
  },
  {
    name: 'a resource Deny naming the account covers its users',
    identity: [[allow('*')]],
    resource: [
      deny('lambda:InvokeFunction', FN, { Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` } }),
    ],
    outcome: 'explicitDeny',
  },
  {
    name: 'a resource policy naming someone else grants nothing',
    resource: [
      allow('lambda:InvokeFunction', FN, {
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/bob` },
      }),
    ],
    outcome: 'implicitDeny',
  },
  {
    name: 'a service principal matches that service',
    request: { principal: scheduler },
    resource: [
      allow('lambda:InvokeFunction', FN, { Principal: { Service: 'scheduler.amazonaws.com' } }),
    ],
    outcome: 'allow',
  },
  {
    name: 'a session policy must also allow',
    request: { principal: session },
    identity: [[allow('lambda:*')]],
    session: [[allow('lambda:Get*')]],
    outcome: 'implicitDeny',
  },
  {
    name: 'a session policy that allows too',
    request: { principal: session },
    identity: [[allow('lambda:*')]],
    session: [[allow('lambda:InvokeFunction')]],
    outcome: 'allow',
  },
  {
    name: 'a resource policy naming the role does not lift its session policy',
    request: { principal: session },
    resource: [allow('lambda:InvokeFunction', FN, { Principal: { AWS: roleArn } })],
    session: [[allow('lambda:Get*')]],
    outcome: 'implicitDeny',
  },
  // Action and NotAction.
  { name: 'actions ignore case', identity: [[allow('LAMBDA:invokefunction')]], outcome: 'allow' },
  { name: 'a * in the action name', identity: [[allow('lambda:Invoke*')]], outcome: 'allow' },
  {
    name: 'a ? in the action name',
    identity: [[allow('lambda:InvokeFunctio?')]],
    outcome: 'allow',
  },
  { name: 'another service', identity: [[allow('iam:*')]], outcome: 'implicitDeny' },
  {
    name: 'a list of actions is any of them',
    identity: [[allow(['lambda:GetFunction', 'lambda:InvokeFunction'])]],
    outcome: 'allow',
  },
  {
    name: 'Allow with NotAction allows every other action',
    identity: [[{ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }]],
    outcome: 'allow',
  },
  {
    name: 'Allow with NotAction does not allow the listed ones',
    request: { action: 'iam:CreateUser', resource: `arn:aws:iam::${ACCOUNT}:user/x` },
    identity: [[{ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }]],
    outcome: 'implicitDeny',
  },
  {
    name: 'Deny with NotAction denies every other action',
    identity: [[allow('*'), { Effect: 'Deny', NotAction: 'lambda:Get*', Resource: '*' }]],
    outcome: 'explicitDeny',
  },
  // Resource and NotResource.
  {
    name: 'an exact function ARN',
    identity: [[allow('lambda:InvokeFunction', FN)]],
    outcome: 'allow',
  },
  {
    name: 'an unqualified ARN does not cover a version',
    request: { resource: `${FN}:3` },
    identity: [[allow('lambda:InvokeFunction', FN)]],
    outcome: 'implicitDeny',
  },
  {
    name: 'a * after the name covers versions and aliases',
    request: { resource: `${FN}:prod` },
    identity: [[allow('lambda:InvokeFunction', `${FN}:*`)]],
    outcome: 'allow',
  },
  {
    name: 'a * in the resource part spans colons',
    request: { resource: `${FN}:prod` },
    identity: [[allow('lambda:InvokeFunction', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:*`)]],
    outcome: 'allow',
  },
  {
    name: 'a * in the region covers only the region segment',
    identity: [[allow('lambda:InvokeFunction', `arn:aws:lambda:*:${ACCOUNT}:function:orders`)]],
    outcome: 'allow',
  },
  {
    name: 'a * in the region does not swallow the account',
    identity: [[allow('lambda:InvokeFunction', 'arn:aws:lambda:*:function:orders')]],
    outcome: 'implicitDeny',
  },
  {
    name: 'a ? in the name',
    identity: [
      [allow('lambda:InvokeFunction', `arn:aws:lambda:us-east-1:${ACCOUNT}:function:order?`)],
    ],
    outcome: 'allow',
  },
  {
    name: 'Deny with NotResource denies every other resource and grants nothing',
    request: { resource: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:other` },
    identity: [[allow('*'), { Effect: 'Deny', Action: 'lambda:*', NotResource: FN }]],
    outcome: 'explicitDeny',
  },
  {
    name: 'Deny with NotResource leaves the listed resource alone',
    identity: [[allow('*'), { Effect: 'Deny', Action: 'lambda:*', NotResource: FN }]],
    outcome: 'allow',
  },
  {
    name: 'a policy variable in the resource',
    request: { action: 'iam:CreateAccessKey', resource: `arn:aws:iam::${ACCOUNT}:user/team/alice` },
    identity: [[allow('iam:*AccessKey*', 'arn:aws:iam::*:user/*/${aws:username}')]],
    outcome: 'allow',
  },
  {
    name: 'a policy variable in the resource, another user',
    request: { action: 'iam:CreateAccessKey', resource: `arn:aws:iam::${ACCOUNT}:user/team/bob` },
    identity: [[allow('iam:*AccessKey*', 'arn:aws:iam::*:user/*/${aws:username}')]],
    outcome: 'implicitDeny',
  },
];

/** Conditions: one Allow with the condition, against a request with `context`. */
const CONDITIONS: Array<
  [string, Record<string, unknown>, Record<string, string | string[]>, boolean]
> = [
  [
    'StringEquals matches',
    { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
    { 'aws:SourceAccount': ACCOUNT },
    true,
  ],
  [
    'StringEquals is case-sensitive',
    { StringEquals: { 'lambda:FunctionUrlAuthType': 'none' } },
    { 'lambda:FunctionUrlAuthType': 'NONE' },
    false,
  ],
  [
    'condition keys ignore case',
    { StringEquals: { 'AWS:SOURCEACCOUNT': ACCOUNT } },
    { 'aws:SourceAccount': ACCOUNT },
    true,
  ],
  [
    'several values are alternatives',
    { StringEquals: { 'aws:SourceAccount': ['1', ACCOUNT] } },
    { 'aws:SourceAccount': ACCOUNT },
    true,
  ],
  [
    'a missing key makes a condition false',
    { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
    {},
    false,
  ],
  [
    'a missing key makes a negated condition true',
    { StringNotEquals: { 'aws:SourceAccount': ACCOUNT } },
    {},
    true,
  ],
  [
    'StringNotEquals with several values must match none',
    { StringNotEquals: { 'aws:SourceAccount': ['1', ACCOUNT] } },
    { 'aws:SourceAccount': ACCOUNT },
    false,
  ],
  [
    '…IfExists is true when the key is missing',
    { StringEqualsIfExists: { 'aws:SourceAccount': '1' } },
    {},
    true,
  ],
  [
    '…IfExists still tests a present key',
    { StringEqualsIfExists: { 'aws:SourceAccount': '1' } },
    { 'aws:SourceAccount': ACCOUNT },
    false,
  ],
  [
    'StringEqualsIgnoreCase',
    { StringEqualsIgnoreCase: { 'lambda:FunctionUrlAuthType': 'aws_iam' } },
    { 'lambda:FunctionUrlAuthType': 'AWS_IAM' },
    true,
  ],
  [
    'StringNotEqualsIgnoreCase',
    { StringNotEqualsIgnoreCase: { 'lambda:FunctionUrlAuthType': 'aws_iam' } },
    { 'lambda:FunctionUrlAuthType': 'AWS_IAM' },
    false,
  ],
  [
    'StringLike with *',
    { StringLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:user/team/*' } },
    {},
    true,
  ],
  [
    'StringNotLike',
    { StringNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:user/ops/*' } },
    {},
    true,
  ],
  ['aws:username comes from the user', { StringEquals: { 'aws:username': 'alice' } }, {}, true],
  [
    'ArnLike with a * segment',
    { ArnLike: { 'aws:SourceArn': `arn:aws:execute-api:*:${ACCOUNT}:*` } },
    { 'aws:SourceArn': `arn:aws:execute-api:us-east-1:${ACCOUNT}:api/prod/GET/` },
    true,
  ],
  [
    'ArnEquals behaves as ArnLike',
    { ArnEquals: { 'aws:SourceArn': `arn:aws:sqs:us-east-1:${ACCOUNT}:q?` } },
    { 'aws:SourceArn': `arn:aws:sqs:us-east-1:${ACCOUNT}:q1` },
    true,
  ],
  [
    'ArnNotLike',
    { ArnNotLike: { 'aws:SourceArn': 'arn:aws:sqs:*:*:q1' } },
    { 'aws:SourceArn': `arn:aws:sqs:us-east-1:${ACCOUNT}:q1` },
    false,
  ],
  ['Bool', { Bool: { 'aws:SecureTransport': 'true' } }, { 'aws:SecureTransport': 'true' }, true],
  [
    'Bool false',
    { Bool: { 'aws:SecureTransport': true } },
    { 'aws:SecureTransport': 'false' },
    false,
  ],
  ['Null true: the key is absent', { Null: { 'aws:SourceArn': 'true' } }, {}, true],
  [
    'Null false: the key is present',
    { Null: { 'aws:SourceArn': 'false' } },
    { 'aws:SourceArn': FN },
    true,
  ],
  [
    'Null true with the key present',
    { Null: { 'aws:SourceArn': 'true' } },
    { 'aws:SourceArn': FN },
    false,
  ],
  [
    'IpAddress in a block',
    { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } },
    { 'aws:SourceIp': '203.0.113.9' },
    true,
  ],
  [
    'IpAddress outside the block',
    { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } },
    { 'aws:SourceIp': '198.51.100.1' },
    false,
  ],
  [
    'IpAddress, IPv6',
    { IpAddress: { 'aws:SourceIp': '2001:db8::/32' } },
    { 'aws:SourceIp': '2001:db8:1::5' },
    true,
  ],
  [
    'IpAddress, an IPv4-mapped address',
    { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } },
    { 'aws:SourceIp': '::ffff:127.0.0.1' },
    true,
  ],
  [
    'NotIpAddress',
    { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
    { 'aws:SourceIp': '10.1.2.3' },
    false,
  ],
  [
    'DateLessThan before',
    { DateLessThan: { 'aws:CurrentTime': '2027-01-01T00:00:00Z' } },
    { 'aws:CurrentTime': '2026-12-07T10:00:00Z' },
    true,
  ],
  [
    'DateGreaterThan before',
    { DateGreaterThan: { 'aws:CurrentTime': '2027-01-01T00:00:00Z' } },
    { 'aws:CurrentTime': '2026-12-07T10:00:00Z' },
    false,
  ],
  [
    'Date with epoch seconds',
    { DateGreaterThanEquals: { 'aws:EpochTime': '1700000000' } },
    { 'aws:EpochTime': '1800000000' },
    true,
  ],
  [
    'NumericLessThanEquals',
    { NumericLessThanEquals: { 'lambda:Memory': '512' } },
    { 'lambda:Memory': '512' },
    true,
  ],
  [
    'NumericGreaterThan',
    { NumericGreaterThan: { 'lambda:Memory': 512 } },
    { 'lambda:Memory': '128' },
    false,
  ],
  [
    'NumericNotEquals',
    { NumericNotEquals: { 'lambda:Memory': ['128', '256'] } },
    { 'lambda:Memory': '512' },
    true,
  ],
  [
    'different operators must all hold',
    { StringEquals: { 'aws:SourceAccount': ACCOUNT }, Bool: { 'aws:SecureTransport': 'true' } },
    { 'aws:SourceAccount': ACCOUNT, 'aws:SecureTransport': 'false' },
    false,
  ],
  [
    'different keys under one operator must all hold',
    { StringEquals: { 'aws:SourceAccount': ACCOUNT, 'aws:username': 'bob' } },
    { 'aws:SourceAccount': ACCOUNT },
    false,
  ],
  [
    'ForAnyValue: one request value matches',
    { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team', 'cost'] } },
    { 'aws:TagKeys': ['env', 'team'] },
    true,
  ],
  [
    'ForAnyValue: an empty set is false',
    { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team'] } },
    { 'aws:TagKeys': [] },
    false,
  ],
  [
    'ForAnyValue: a missing key is false',
    { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['team'] } },
    {},
    false,
  ],
  [
    'ForAllValues: every request value matches',
    { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team', 'env'] } },
    { 'aws:TagKeys': ['env', 'team'] },
    true,
  ],
  [
    'ForAllValues: one does not',
    { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team'] } },
    { 'aws:TagKeys': ['env', 'team'] },
    false,
  ],
  [
    'ForAllValues: a missing key is true',
    { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team'] } },
    {},
    true,
  ],
  [
    'ForAllValues:StringLike',
    { 'ForAllValues:StringLike': { 'aws:TagKeys': ['t*'] } },
    { 'aws:TagKeys': ['team', 'tier'] },
    true,
  ],
];

describe('policy evaluation', () => {
  for (const c of CASES) test(c.name, () => assert.equal(run(c), c.outcome));
});

describe('condition operators', () => {
  for (const [name, condition, context, allowed] of CONDITIONS) {
    test(name, () => {
      const outcome = run({
        name,
        request: { context },
        identity: [[allow('lambda:InvokeFunction', FN, { Condition: condition })]],
        outcome: 'allow',
      });
      assert.equal(outcome, allowed ? 'allow' : 'implicitDeny');
    });
  }
});

describe('AccessDenied messages', () => {
  const request: AuthorizationRequest = {
    principal: alice,
    action: 'lambda:DeleteFunction',
    resource: FN,
  };

  test('implicit: no identity-based policy allows', () => {
    assert.equal(
      accessDeniedMessage(request, { effect: 'implicitDeny', by: 'identity-based' }),
      `User: ${alice.arn} is not authorized to perform: lambda:DeleteFunction on resource: ${FN} ` +
        'because no identity-based policy allows the lambda:DeleteFunction action',
    );
  });

  test('explicit: a deny in an identity-based or a resource-based policy', () => {
    assert.equal(
      accessDeniedMessage(request, { effect: 'explicitDeny', by: 'identity-based' }),
      `User: ${alice.arn} is not authorized to perform: lambda:DeleteFunction on resource: ${FN} ` +
        'with an explicit deny in an identity-based policy',
    );
    assert.match(
      accessDeniedMessage(request, { effect: 'explicitDeny', by: 'resource-based' }),
      /with an explicit deny in a resource-based policy$/,
    );
  });

  test('an action without a resource names none', () => {
    assert.equal(
      accessDeniedMessage(
        { principal: alice, action: 'lambda:ListFunctions', resource: '*' },
        { effect: 'implicitDeny', by: 'identity-based' },
      ),
      `User: ${alice.arn} is not authorized to perform: lambda:ListFunctions ` +
        'because no identity-based policy allows the lambda:ListFunctions action',
    );
  });
});

describe('malformed policies are refused with a reason', () => {
  const cases: Array<[string, string, 'identity' | 'resource' | 'trust', RegExp]> = [
    ['not JSON', '{"Version":', 'identity', /invalid Json/],
    ['no statement', '{"Version":"2012-10-17","Statement":[]}', 'identity', /Syntax errors/],
    [
      'an unknown version',
      JSON.stringify({ Version: '2020-01-01', Statement: [allow('*')] }),
      'identity',
      /legacy parsing/,
    ],
    ['a bad effect', doc({ Effect: 'Maybe', Action: '*', Resource: '*' }), 'identity', /Effect/],
    [
      'an unknown statement field',
      doc({ ...allow('*'), Actions: '*' }),
      'identity',
      /Unknown field Actions/,
    ],
    [
      'Action and NotAction together',
      doc({ ...allow('*'), NotAction: 'iam:*' }),
      'identity',
      /both Action and NotAction/,
    ],
    ['an action without a vendor', doc(allow('InvokeFunction')), 'identity', /vendor/],
    [
      'a principal in an identity policy',
      doc({ ...allow('*'), Principal: '*' }),
      'identity',
      /should not specify a principal/,
    ],
    ['no principal in a resource policy', doc(allow('lambda:*', FN)), 'resource', /Principal/],
    [
      'an unknown condition operator',
      doc(allow('*', '*', { Condition: { StringEqualz: { 'aws:username': 'a' } } })),
      'identity',
      /Invalid Condition type : StringEqualz/,
    ],
    [
      'a bad CIDR',
      doc(allow('*', '*', { Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } } })),
      'identity',
      /Invalid value/,
    ],
    [
      'a bad date',
      doc(allow('*', '*', { Condition: { DateLessThan: { 'aws:CurrentTime': 'soon' } } })),
      'identity',
      /Invalid value/,
    ],
    [
      'a Null that is not a boolean',
      doc(allow('*', '*', { Condition: { Null: { 'aws:SourceArn': 'maybe' } } })),
      'identity',
      /Invalid value/,
    ],
    [
      'a bad AWS principal',
      doc({ ...allow('lambda:*', FN), Principal: { AWS: 'alice' } }),
      'resource',
      /Invalid principal/,
    ],
  ];
  for (const [name, text, kind, message] of cases) {
    test(name, () => {
      assert.throws(
        () => compilePolicy(text, kind),
        (error: unknown) => {
          assert.ok(error instanceof PolicySyntaxError);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }

  test('a trust policy needs no Resource', () => {
    const trust = compilePolicy(
      doc({
        Effect: 'Allow',
        Principal: { Service: 'lambda.amazonaws.com' },
        Action: 'sts:AssumeRole',
      }),
      'trust',
    );
    const decision = evaluate(
      {
        principal: {
          arn: 'lambda.amazonaws.com',
          account: ACCOUNT,
          service: 'lambda.amazonaws.com',
        },
        action: 'sts:AssumeRole',
        resource: roleArn,
      },
      { identity: [], resource: trust },
    );
    assert.equal(decision.effect, 'allow');
  });
});
