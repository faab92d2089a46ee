/**
 * AWS's policy evaluation within one account (see docs/guide/identity.md): an explicit Deny in any
 * policy wins; then an Allow in a resource policy naming the caller, or in the caller's identity
 * policies, allows (the account's root is allowed by its identity); anything else is an implicit
 * deny. Session policies, when a session has them, must also allow what identity policies allow.
 */
import type { ConditionValues } from './policy-conditions.js';
import type { CompiledPolicy, CompiledStatement, RequestPrincipal } from './policy-document.js';

/** One request to authorize. */
export interface AuthorizationRequest {
  readonly principal: RequestPrincipal;
  /** `service:Action`, e.g. `lambda:InvokeFunction`. */
  readonly action: string;
  /** The resource's ARN (`*` for actions without one). */
  readonly resource: string;
  /**
   * Condition keys besides those derived from the principal (`aws:SourceIp`, `aws:CurrentTime`,
   * `lambda:FunctionUrlAuthType`…), keys in any case.
   */
  readonly context?: Readonly<Record<string, string | readonly string[]>> | undefined;
}

/** The policies that apply to a request. */
export interface ApplicablePolicies {
  /** The caller's: its user's and groups', or its role's (none for the account root). */
  readonly identity: readonly CompiledPolicy[];
  /** The resource's policy, if it has one. */
  readonly resource?: CompiledPolicy | undefined;
  /** A role session's session policies (each must allow too), if it was given any. */
  readonly session?: readonly CompiledPolicy[] | undefined;
}

export type PolicyType = 'identity-based' | 'resource-based' | 'session';

export type Decision =
  | { readonly effect: 'allow' }
  | { readonly effect: 'explicitDeny'; readonly by: PolicyType }
  | { readonly effect: 'implicitDeny'; readonly by: PolicyType };

export function evaluate(request: AuthorizationRequest, policies: ApplicablePolicies): Decision {
  const applies = applicability(request);
  const any = (list: readonly CompiledPolicy[], effect: 'Allow' | 'Deny') =>
    list.some((policy) => policy.statements.some((s) => s.effect === effect && applies(s)));
  const resource = policies.resource === undefined ? [] : [policies.resource];
  const session = policies.session ?? [];
  if (any(policies.identity, 'Deny')) return { effect: 'explicitDeny', by: 'identity-based' };
  if (any(resource, 'Deny')) return { effect: 'explicitDeny', by: 'resource-based' };
  if (any(session, 'Deny')) return { effect: 'explicitDeny', by: 'session' };
  // Session policies, when a session has them, must allow too. (AWS lets a resource policy that
  // names the session's own ARN grant past them; Lamina does not: stricter, never looser.)
  if (policies.session !== undefined && !session.every((policy) => any([policy], 'Allow')))
    return { effect: 'implicitDeny', by: 'session' };
  // Within one account a resource policy naming a user or role session grants on its own.
  if (any(resource, 'Allow')) return { effect: 'allow' };
  const root = request.principal.arn === `arn:aws:iam::${request.principal.account}:root`;
  if (!root && !any(policies.identity, 'Allow'))
    return { effect: 'implicitDeny', by: 'identity-based' };
  return { effect: 'allow' };
}

/** What one policy alone says of a request: an explicit deny, an allow, or nothing. */
export function policyAllows(
  policy: CompiledPolicy,
  request: AuthorizationRequest,
): 'deny' | 'allow' | 'none' {
  const applies = applicability(request);
  const effects = policy.statements.filter(applies).map((s) => s.effect);
  if (effects.includes('Deny')) return 'deny';
  return effects.includes('Allow') ? 'allow' : 'none';
}

/** Whether a statement applies to the request (its effect aside). */
function applicability(request: AuthorizationRequest): (statement: CompiledStatement) => boolean {
  const values = conditionValues(request);
  const variable = (name: string) => {
    const value = values(name);
    return typeof value === 'string' ? value : undefined;
  };
  return (statement) =>
    statement.principal(request.principal, statement.effect) &&
    statement.action(request.action) &&
    statement.resource(request.resource, variable) &&
    statement.condition(values);
}

/** AWS's AccessDenied message for a refused request. */
export function accessDeniedMessage(
  request: AuthorizationRequest,
  decision: Exclude<Decision, { effect: 'allow' }>,
): string {
  const what = `User: ${request.principal.arn} is not authorized to perform: ${request.action}`;
  const on = request.resource === '*' ? '' : ` on resource: ${request.resource}`;
  const type = decision.by === 'session' ? 'session policy' : `${decision.by} policy`;
  return decision.effect === 'explicitDeny'
    ? `${what}${on} with an explicit deny in ${decision.by === 'identity-based' ? 'an' : 'a'} ${type}`
    : `${what}${on} because no ${type} allows the ${request.action} action`;
}

/** The request's condition keys, case-insensitively, with those every request has. */
function conditionValues(request: AuthorizationRequest): ConditionValues {
  // Built on the first condition asked: most statements have none.
  let keys: Map<string, string | readonly string[]> | undefined;
  return (key) => {
    keys ??= conditionKeys(request);
    return keys.get(key.toLowerCase());
  };
}

function conditionKeys(request: AuthorizationRequest): Map<string, string | readonly string[]> {
  const { principal } = request;
  const keys = new Map<string, string | readonly string[]>();
  const user = /^arn:aws:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/.exec(principal.arn)?.[1];
  keys.set('aws:principalarn', principal.roleArn ?? principal.arn);
  keys.set('aws:principalaccount', principal.account);
  if (user !== undefined) keys.set('aws:username', user);
  keys.set(
    'aws:principaltype',
    principal.roleArn !== undefined ? 'AssumedRole' : user !== undefined ? 'User' : 'Account',
  );
  if (principal.service !== undefined) keys.set('aws:principalservicename', principal.service);
  for (const [key, value] of Object.entries(request.context ?? {}))
    keys.set(key.toLowerCase(), value);
  return keys;
}
