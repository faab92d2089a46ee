/**
 * The AWS-managed policies Lamina serves, with their real documents and identifiers (their default
 * versions as AWS published them; copied from the public record of AWS managed policies,
 * github.com/zoph-io/IAMTrail, August 2026). Read-only: attached, never changed.
 */
import type { ManagedPolicy, PolicyVersion } from '../core/iam-model.js';

interface AwsManagedPolicy {
  readonly policy: ManagedPolicy;
  readonly version: PolicyVersion;
}

const managed = (
  name: string,
  path: string,
  policyId: string,
  versionId: string,
  created: string,
  updated: string,
  description: string,
  document: object,
): AwsManagedPolicy => ({
  policy: {
    policyName: name,
    policyId,
    path,
    arn: `arn:aws:iam::aws:policy${path}${name}`,
    defaultVersionId: versionId,
    description,
    createDate: new Date(created),
    updateDate: new Date(updated),
    awsManaged: true,
  },
  version: {
    versionId,
    document: JSON.stringify(document),
    isDefaultVersion: true,
    createDate: new Date(updated),
  },
});

export const AWS_MANAGED_POLICIES: readonly AwsManagedPolicy[] = [
  managed(
    'AWSLambda_FullAccess',
    '/',
    'ANPAZKAPJZG4OXQPYWZ5D',
    'v7',
    '2020-11-17T21:14:08+00:00',
    '2026-02-12T18:00:51+00:00',
    'Grants full access to AWS Lambda service, AWS Lambda console features, and other related AWS services.',
    {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'cloudformation:DescribeStacks',
            'cloudformation:ListStackResources',
            'cloudwatch:ListMetrics',
            'cloudwatch:GetMetricData',
            'ec2:DescribeSecurityGroups',
            'ec2:DescribeSubnets',
            'ec2:DescribeVpcs',
            'kms:DescribeKey',
            'kms:ListAliases',
            'iam:GetPolicy',
            'iam:GetPolicyVersion',
            'iam:GetRole',
            'iam:GetRolePolicy',
            'iam:ListAttachedRolePolicies',
            'iam:ListRolePolicies',
            'iam:ListRoles',
            'lambda:*',
            'logs:DescribeLogGroups',
            'states:DescribeStateMachine',
            'states:ListStateMachines',
            'tag:GetResources',
            'xray:GetTraceSummaries',
            'xray:BatchGetTraces',
          ],
          Resource: '*',
        },
        {
          Effect: 'Allow',
          Action: 'iam:PassRole',
          Resource: '*',
          Condition: {
            StringEquals: {
              'iam:PassedToService': 'lambda.amazonaws.com',
            },
          },
        },
        {
          Effect: 'Allow',
          Action: [
            'logs:DescribeLogStreams',
            'logs:GetLogEvents',
            'logs:FilterLogEvents',
            'logs:StartLiveTail',
            'logs:StopLiveTail',
          ],
          Resource: 'arn:aws:logs:*:*:log-group:/aws/lambda/*',
        },
        {
          Effect: 'Allow',
          Action: 'iam:CreateServiceLinkedRole',
          Resource:
            'arn:aws:iam::*:role/aws-service-role/lambda.amazonaws.com/AWSServiceRoleForLambda',
          Condition: {
            StringEquals: {
              'iam:AWSServiceName': 'lambda.amazonaws.com',
            },
          },
        },
      ],
    },
  ),
  managed(
    'AWSLambda_ReadOnlyAccess',
    '/',
    'ANPAZKAPJZG4IERNVMNPE',
    'v5',
    '2020-11-17T21:10:32+00:00',
    '2026-02-12T18:02:55+00:00',
    'Grants read-only access to AWS Lambda service, AWS Lambda console features, and other related AWS services.',
    {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'cloudformation:DescribeStacks',
            'cloudformation:ListStacks',
            'cloudformation:ListStackResources',
            'cloudwatch:GetMetricData',
            'cloudwatch:ListMetrics',
            'ec2:DescribeSecurityGroups',
            'ec2:DescribeSubnets',
            'ec2:DescribeVpcs',
            'kms:ListAliases',
            'iam:GetPolicy',
            'iam:GetPolicyVersion',
            'iam:GetRole',
            'iam:GetRolePolicy',
            'iam:ListAttachedRolePolicies',
            'iam:ListRolePolicies',
            'iam:ListRoles',
            'logs:DescribeLogGroups',
            'lambda:Get*',
            'lambda:List*',
            'states:DescribeStateMachine',
            'states:ListStateMachines',
            'tag:GetResources',
            'xray:GetTraceSummaries',
            'xray:BatchGetTraces',
          ],
          Resource: '*',
        },
        {
          Effect: 'Allow',
          Action: [
            'logs:DescribeLogStreams',
            'logs:GetLogEvents',
            'logs:FilterLogEvents',
            'logs:StartQuery',
            'logs:StopQuery',
            'logs:DescribeQueries',
            'logs:GetLogGroupFields',
            'logs:GetLogRecord',
            'logs:GetQueryResults',
            'logs:StartLiveTail',
            'logs:StopLiveTail',
          ],
          Resource: 'arn:aws:logs:*:*:log-group:/aws/lambda/*',
        },
      ],
    },
  ),
  managed(
    'AWSLambdaBasicExecutionRole',
    '/service-role/',
    'ANPAJNCQGXC42545SKXIK',
    'v1',
    '2015-04-09T15:03:43+00:00',
    '2015-04-09T15:03:43+00:00',
    'Provides write permissions to CloudWatch Logs.',
    {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: '*',
        },
      ],
    },
  ),
  managed(
    'AWSLambdaRole',
    '/service-role/',
    'ANPAJX4DPCRGTC4NFDUXI',
    'v1',
    '2015-02-06T18:41:28+00:00',
    '2015-02-06T18:41:28+00:00',
    'Default policy for AWS Lambda service role.',
    {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['lambda:InvokeFunction'],
          Resource: ['*'],
        },
      ],
    },
  ),
  managed(
    'AdministratorAccess',
    '/',
    'ANPAIWMBCKSKIEE64ZLYK',
    'v1',
    '2015-02-06T18:39:46+00:00',
    '2015-02-06T18:39:46+00:00',
    'Provides full access to AWS services and resources.',
    {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: '*',
          Resource: '*',
        },
      ],
    },
  ),
];
