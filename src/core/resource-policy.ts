/**
 * Resource-based policies of functions, versions and aliases: building a statement from an
 * AddPermission request the way Lambda writes it, the policy document, and the one decision Lamina
 * takes from a policy (whether a NONE function URL is public).
 */
import { lambdaErrors } from './errors.js';
import { URL_AUTH_TYPES } from './function-url.js';
import { constraint, validationMessage, type Violation } from './validation-message.js';

/** One statement as it appears in the policy document (AWS casing: it is stored and sent as is). */
export interface PolicyStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Principal: string | { readonly Service: string } | { readonly AWS: string };
  readonly Action: string;
  readonly Resource: string;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** A policy of one function, version or alias. */
export interface ResourcePolicy {
  readonly functionName: string;
  /** The version or alias, or undefined for the unqualified function. */
  readonly qualifier: string | undefined;
  readonly statements: readonly PolicyStatement[];
  readonly revisionId: string;
}

/** The fields of an AddPermission request; undefined means not sent. */
export interface AddPermissionInput {
  readonly statementId?: string | undefined;
  readonly action?: string | undefined;
  readonly principal?: string | undefined;
  readonly sourceArn?: string | undefined;
  readonly sourceAccount?: string | undefined;
  readonly eventSourceToken?: string | undefined;
  readonly principalOrgId?: string | undefined;
  readonly functionUrlAuthType?: string | undefined;
  readonly invokedViaFunctionUrl?: boolean | undefined;
  readonly revisionId?: string | undefined;
}

/** Largest policy document, in bytes of its JSON. */
export const POLICY_MAX_BYTES = 20_480;
export const STATEMENT_ID_PATTERN = '([a-zA-Z0-9-_]+)';
export const ACTION_PATTERN = '(lambda:[*]|lambda:[a-zA-Z]+|[*])';
const STATEMENT_ID_RE = /^[a-zA-Z0-9_-]+$/;
const ACTION_RE = /^(?:lambda:\*|lambda:[a-zA-Z]+|\*)$/;
const SERVICE_PRINCIPAL_RE = /^[a-z0-9][a-z0-9.-]*\.(?:amazonaws\.com|amazon\.com)$/;
const IAM_ARN_RE = /^arn:aws[a-zA-Z-]*:(?:iam|sts)::\d{12}:\S+$/;

/** Validates an AddPermission request and builds its statement for `resourceArn`. */
export function buildStatement(input: AddPermissionInput, resourceArn: string): PolicyStatement {
  const violations: Violation[] = [];
  const required = (field: string, value: string | undefined, pattern: RegExp, text: string) => {
    if (value === undefined)
      violations.push({ field, value: null, constraint: constraint.notNull() });
    else if (!pattern.test(value))
      violations.push({ field, value, constraint: constraint.pattern(text) });
  };
  required('statementId', input.statementId, STATEMENT_ID_RE, STATEMENT_ID_PATTERN);
  if (input.statementId !== undefined && input.statementId.length > 100) {
    violations.push({
      field: 'statementId',
      value: input.statementId,
      constraint: constraint.maxLength(100),
    });
  }
  required('action', input.action, ACTION_RE, ACTION_PATTERN);
  required('principal', input.principal, /^\S+$/, '[^\\s]+');
  const urlAuth = input.functionUrlAuthType;
  if (urlAuth !== undefined && !(URL_AUTH_TYPES as readonly string[]).includes(urlAuth)) {
    violations.push({
      field: 'functionUrlAuthType',
      value: urlAuth,
      constraint: constraint.enumeration(URL_AUTH_TYPES),
    });
  }
  if (violations.length > 0) throw lambdaErrors.validation(validationMessage(violations));
  const action = input.action ?? '';
  if (urlAuth !== undefined && action !== 'lambda:InvokeFunctionUrl') {
    throw lambdaErrors.invalidParameter(
      'FunctionUrlAuthType is only supported for lambda:InvokeFunctionUrl action',
    );
  }
  if (input.invokedViaFunctionUrl === true && action !== 'lambda:InvokeFunction') {
    throw lambdaErrors.invalidParameter(
      'InvokedViaFunctionUrl is only supported for lambda:InvokeFunction action',
    );
  }
  const stringEquals: Record<string, string> = {};
  if (input.sourceAccount !== undefined) stringEquals['AWS:SourceAccount'] = input.sourceAccount;
  if (input.eventSourceToken !== undefined)
    stringEquals['lambda:EventSourceToken'] = input.eventSourceToken;
  if (urlAuth !== undefined) stringEquals['lambda:FunctionUrlAuthType'] = urlAuth;
  if (input.principalOrgId !== undefined) stringEquals['aws:PrincipalOrgID'] = input.principalOrgId;
  const condition: Record<string, Record<string, string>> = {};
  if (Object.keys(stringEquals).length > 0) condition['StringEquals'] = stringEquals;
  if (input.sourceArn !== undefined) condition['ArnLike'] = { 'AWS:SourceArn': input.sourceArn };
  if (input.invokedViaFunctionUrl === true)
    condition['Bool'] = { 'lambda:InvokedViaFunctionUrl': 'true' };
  return {
    Sid: input.statementId ?? '',
    Effect: 'Allow',
    Principal: principalOf(input.principal ?? ''),
    Action: action,
    Resource: resourceArn,
    ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
  };
}

/** `*`, a service principal, an account id (its root) or an IAM ARN. */
function principalOf(principal: string): PolicyStatement['Principal'] {
  if (principal === '*') return '*';
  if (SERVICE_PRINCIPAL_RE.test(principal)) return { Service: principal };
  if (/^\d{12}$/.test(principal)) return { AWS: `arn:aws:iam::${principal}:root` };
  if (IAM_ARN_RE.test(principal)) return { AWS: principal };
  throw lambdaErrors.invalidParameter(
    'The provided principal was invalid. Please check the principal and try again.',
  );
}

/** The policy document as GetPolicy returns it (a JSON string). */
export function policyDocument(statements: readonly object[]): string {
  return JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: statements });
}

const URL_ACTIONS = new Set(['lambda:InvokeFunctionUrl', 'lambda:*', '*']);

/**
 * True when a statement lets anyone call a NONE-auth function URL: Allow, principal `*`, an action
 * covering `lambda:InvokeFunctionUrl`, and `lambda:FunctionUrlAuthType` = NONE as its only
 * condition (any other condition cannot hold for an anonymous request).
 */
export function allowsPublicUrl(statements: readonly PolicyStatement[]): boolean {
  return statements.some((s) => {
    if (s.Effect !== 'Allow' || s.Principal !== '*' || !URL_ACTIONS.has(s.Action)) return false;
    const condition = s.Condition ?? {};
    const keys = Object.keys(condition);
    if (keys.length !== 1 || keys[0] !== 'StringEquals') return false;
    const equals = condition['StringEquals'] ?? {};
    return Object.keys(equals).length === 1 && equals['lambda:FunctionUrlAuthType'] === 'NONE';
  });
}
