/**
 * IAM and STS at the control API's endpoint (`POST /`, AWS's Query protocol), and the check that
 * puts every control-API request of an IAM user or role session through its policies. Which of
 * Lambda, IAM and STS a request is for is the service of its signature's scope.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LambdaError } from '../core/errors.js';
import { nestingExceeds } from '../core/json-depth.js';
import { TOKEN_EXPIRED } from '../core/sigv4-verifier.js';
import { iamErrors } from '../core/iam-model.js';
import { functionArn, type Scope } from '../core/arn.js';
import { parseImageReference } from '../core/image-reference.js';
import type { FunctionUrlConfig } from '../core/function-url.js';
import type { Caller, CredentialDirectory } from '../iam/credential-directory.js';
import type { ReceivedBody } from './body-reader.js';
import type { ResourcePolicyCache } from './resource-policy-cache.js';
import { runQueryOperation, type IdentityApi } from './iam-query-operations.js';
import {
  QUERY_VERSIONS,
  QueryParams,
  renderQueryError,
  renderQueryResult,
  type QueryService,
} from './query-protocol.js';
import { accessOf, BODY_READ } from './route-access.js';
import { rpcServiceOf, type RpcAnswer, type RpcService } from './rpc-service.js';

/** Everything identity needs at the edge. */
export interface IdentityEdge {
  readonly api: IdentityApi;
  readonly directory: CredentialDirectory;
  /** Functions' resource policies, compiled (invokes and URLs of IAM callers hear them). */
  readonly resourcePolicies: ResourcePolicyCache;
}

/** Largest Query request (policy documents are the largest part: 10,240 characters at most). */
const QUERY_BODY_LIMIT = 128 * 1024;

/** The service a request is for: its signature's scope, or (without authentication) its Version. */
export function queryServiceOf(request: FastifyRequest): QueryService {
  const signed = request.lambdaSignature?.service;
  if (signed === 'iam' || signed === 'sts') return signed;
  const body = request.body as ReceivedBody | undefined;
  const version = body === undefined ? undefined : new QueryParams(body.bytes).get('Version');
  return version === QUERY_VERSIONS.sts ? 'sts' : 'iam';
}

/**
 * Who signed a request, now: the account's root when authentication is off, else the caller the
 * directory names for the verified key. A key gone since it was verified (a session or a function's
 * key that expired, a key deactivated or deleted while the body arrived) is refused, never let
 * through.
 */
function callerOf(edge: IdentityEdge, accessKeyId: string | undefined): Caller {
  const { directory } = edge;
  if (accessKeyId === undefined) {
    const account = directory.accountId;
    return {
      kind: 'root',
      principal: { arn: `arn:aws:iam::${account}:root`, account },
      userId: account,
    };
  }
  const caller = directory.callerOf(accessKeyId);
  if (caller !== undefined) return caller;
  if (directory.hasExpired(accessKeyId))
    throw new LambdaError('ExpiredTokenException', TOKEN_EXPIRED);
  throw new LambdaError(
    'UnrecognizedClientException',
    'The security token included in the request is invalid.',
  );
}

export function registerQueryRoute(
  app: FastifyInstance,
  edge: IdentityEdge,
  rpcServices: readonly RpcService[],
): void {
  app.route({
    method: 'POST',
    url: '/',
    config: {
      operation: 'Query',
      bodyLimit: Math.max(QUERY_BODY_LIMIT, ...rpcServices.map((s) => s.bodyLimit)),
      queryApi: true,
      queryServices: ['iam', 'sts', ...rpcServices.map((s) => s.signingName)],
    },
    handler: async (request, reply) => {
      const rpc = rpcServiceOfRequest(request, rpcServices);
      if (rpc !== undefined) {
        const answer = await answerRpc(request, edge, rpc);
        return reply.status(answer.status).headers(answer.headers).send(answer.body);
      }
      const service = queryServiceOf(request);
      try {
        const received = request.body as ReceivedBody | undefined;
        if ((received?.receivedBytes ?? 0) > QUERY_BODY_LIMIT)
          throw iamErrors.validation(`Request must be smaller than ${QUERY_BODY_LIMIT} bytes`);
        const params = new QueryParams(received?.bytes ?? new Uint8Array());
        const caller = callerOf(edge, request.lambdaSignature?.accessKeyId);
        const { operation, result } = await runQueryOperation(service, params.get('Action'), {
          api: edge.api,
          params,
          caller,
          sourceIp: request.ip,
        });
        return reply
          .status(200)
          .header('content-type', 'text/xml')
          .send(renderQueryResult(service, operation, result, request.lambdaRequestId));
      } catch (error) {
        const rendered = renderQueryError(service, error, request.lambdaRequestId);
        if (rendered.status >= 500) request.log.error({ err: error }, 'IAM or STS request failed');
        return reply.status(rendered.status).header('content-type', 'text/xml').send(rendered.body);
      }
    },
  });
}

/** The service other than IAM and STS a `POST /` request is for, if any. */
export function rpcServiceOfRequest(
  request: FastifyRequest,
  services: readonly RpcService[],
): RpcService | undefined {
  const body = request.body as ReceivedBody | undefined;
  return rpcServiceOf(services, request.headers, body?.bytes, request.lambdaSignature?.service);
}

/**
 * Runs a request of CloudWatch Logs or CloudWatch metrics: signed for that service, within its
 * size, by a known caller; each operation checks the caller's access itself.
 */
async function answerRpc(
  request: FastifyRequest,
  edge: IdentityEdge,
  service: RpcService,
): Promise<RpcAnswer> {
  const { lambdaRequestId: requestId, headers } = request;
  try {
    const signed = request.lambdaSignature?.service;
    if (signed !== undefined && signed !== service.signingName)
      throw new LambdaError(
        'InvalidSignatureException',
        `Credential should be scoped to correct service: '${service.signingName}'. `,
      );
    const received = request.body as ReceivedBody | undefined;
    if ((received?.receivedBytes ?? 0) > service.bodyLimit)
      throw new LambdaError(
        'RequestEntityTooLargeException',
        `Request must be smaller than ${service.bodyLimit} bytes`,
      );
    const caller = callerOf(edge, request.lambdaSignature?.accessKeyId);
    const authorize = async (action: string, resource: string): Promise<void> => {
      if (caller.kind === 'root') return;
      const { message } = await edge.api.authorizer.decide(caller, action, resource, {
        sourceIp: request.ip,
      });
      if (message !== undefined) throw new LambdaError('AccessDeniedException', message);
    };
    return await service.handle({
      headers,
      body: received?.bytes ?? Buffer.alloc(0),
      requestId,
      authorize,
    });
  } catch (error) {
    const answer = service.renderError(error, headers, requestId);
    if (answer.status >= 500) request.log.error({ err: error }, 'request failed');
    return answer;
  }
}

/**
 * Refuses a signature scoped to the wrong service for its route: IAM and STS at `POST /`,
 * EventBridge Scheduler on its routes, Lambda everywhere else.
 */
export function checkSignedService(request: FastifyRequest): void {
  const service = request.lambdaSignature?.service;
  if (service === undefined) return;
  const { config } = request.routeOptions;
  const expected =
    config.queryApi === true
      ? (config.queryServices ?? ['iam', 'sts'])
      : config.schedulerApi === true
        ? ['scheduler']
        : ['lambda'];
  if (expected.includes(service)) return;
  throw new LambdaError(
    'InvalidSignatureException',
    `Credential should be scoped to correct service: '${expected[0] ?? 'lambda'}'. `,
  );
}

/**
 * A control-API request of an IAM user, a role session or a function (a session of its execution
 * role) is allowed by its policies, or refused with AWS's AccessDeniedException. The account's
 * root is not checked.
 */
export async function authorizeControlRequest(
  request: FastifyRequest,
  edge: IdentityEdge,
  scope: Scope,
): Promise<void> {
  const accessKeyId = request.lambdaSignature?.accessKeyId;
  const operation = request.routeOptions.config.operation;
  if (accessKeyId === undefined || operation === undefined) return;
  const caller = callerOf(edge, accessKeyId);
  if (caller.kind === 'root') return;
  const body = BODY_READ.has(operation) ? bodyJson(request) : undefined;
  const access = accessOf(
    operation,
    {
      params: request.params as Record<string, string>,
      query: request.query as Record<string, string | string[]>,
      body,
    },
    scope,
  );
  // Invokes also hear the function's resource policy (AddPermission).
  const target = access.function;
  const resourcePolicy =
    INVOKES.has(access.action) && target !== undefined
      ? await edge.resourcePolicies.get(target.name, target.qualifier)
      : undefined;
  const { message } = await edge.api.authorizer.decide(caller, access.action, access.resource, {
    sourceIp: request.ip,
    resourcePolicy,
    context: access.context,
  });
  if (message !== undefined) throw new LambdaError('AccessDeniedException', message);
  // Naming an execution role passes it to the service: `iam:PassRole` on the role, as on AWS.
  const passed = passedRoleOf(operation, body);
  if (passed !== undefined) {
    const passing = await edge.api.authorizer.decide(caller, 'iam:PassRole', passed.role, {
      sourceIp: request.ip,
      context: { 'iam:PassedToService': passed.service },
    });
    if (passing.message !== undefined)
      throw new LambdaError('AccessDeniedException', passing.message);
  }
  // Naming an image pulls it with the caller's rights, as AWS asks for ECR's pull permissions.
  const repository = imageRepositoryOf(operation, body, scope);
  if (repository !== undefined) {
    for (const action of IMAGE_PULL_ACTIONS) {
      const pulling = await edge.api.authorizer.decide(caller, action, repository, {
        sourceIp: request.ip,
      });
      if (pulling.message !== undefined)
        throw new LambdaError('AccessDeniedException', pulling.message);
    }
  }
}

/** What pulling an image needs, as ECR names it. */
const IMAGE_PULL_ACTIONS = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] as const;

/**
 * The repository an operation's `ImageUri` names, as an ECR-style ARN with the registry host in
 * the repository name (`arn:aws:ecr:<region>:<account>:repository/<host>/<repository>`).
 */
function imageRepositoryOf(
  operation: string,
  body: Readonly<Record<string, unknown>> | undefined,
  scope: Scope,
): string | undefined {
  const code = operation === 'CreateFunction' ? body?.['Code'] : body;
  if (operation !== 'CreateFunction' && operation !== 'UpdateFunctionCode') return undefined;
  const uri =
    typeof code === 'object' && code !== null
      ? (code as Record<string, unknown>)['ImageUri']
      : undefined;
  if (typeof uri !== 'string') return undefined;
  const ref = parseImageReference(uri);
  // A URI the operation refuses anyway is refused there, with its own message.
  if (typeof ref === 'string') return undefined;
  return `arn:aws:ecr:${scope.region}:${scope.accountId}:repository/${ref.host}/${ref.repository}`;
}

/**
 * The role an operation passes and to which service: a function's `Role` to Lambda, a schedule's
 * `Target.RoleArn` to EventBridge Scheduler.
 */
function passedRoleOf(
  operation: string,
  body: Readonly<Record<string, unknown>> | undefined,
): { role: string; service: string } | undefined {
  if (operation === 'CreateFunction' || operation === 'UpdateFunctionConfiguration') {
    const role = body?.['Role'];
    return typeof role === 'string' ? { role, service: 'lambda.amazonaws.com' } : undefined;
  }
  if (operation === 'CreateSchedule' || operation === 'UpdateSchedule') {
    const target = body?.['Target'];
    const role =
      typeof target === 'object' && target !== null
        ? (target as Record<string, unknown>)['RoleArn']
        : undefined;
    return typeof role === 'string' ? { role, service: 'scheduler.amazonaws.com' } : undefined;
  }
  return undefined;
}

const INVOKES = new Set(['lambda:InvokeFunction', 'lambda:InvokeAsync']);

/** Deepest body the authorization parses (the control API's shapes are a few levels deep). */
const MAX_AUTHORIZED_NESTING = 64;

/**
 * The check of an AWS_IAM function URL's signer: `lambda:InvokeFunctionUrl` on the function (its
 * alias), with `lambda:FunctionUrlAuthType` AWS_IAM, from its policies or the function's resource
 * policy. The account's root passes.
 */
export function urlAuthorizer(
  edge: IdentityEdge,
  scope: Scope,
): (
  accessKeyId: string,
  config: FunctionUrlConfig,
  sourceIp: string,
) => Promise<string | undefined> {
  return async (accessKeyId, config, sourceIp) => {
    const caller = callerOf(edge, accessKeyId);
    if (caller.kind === 'root') return undefined;
    const resource = functionArn(scope, config.functionName, config.qualifier);
    const { message } = await edge.api.authorizer.decide(
      caller,
      'lambda:InvokeFunctionUrl',
      resource,
      {
        sourceIp,
        resourcePolicy: await edge.resourcePolicies.get(config.functionName, config.qualifier),
        context: {
          'lambda:FunctionUrlAuthType': 'AWS_IAM',
          'lambda:FunctionArn': functionArn(scope, config.functionName),
        },
      },
    );
    return message;
  };
}

/**
 * The JSON body of a control request (code was lifted out while it arrived), if it is an object.
 * Bracket soup is not parsed (its operation refuses it anyway): parsing it would block.
 */
function bodyJson(request: FastifyRequest): Record<string, unknown> | undefined {
  const body = request.body as ReceivedBody | undefined;
  if (body === undefined || nestingExceeds(body.bytes, MAX_AUTHORIZED_NESTING)) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(body.bytes).toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
