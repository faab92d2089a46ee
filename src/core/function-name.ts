/**
 * Parsing of the `FunctionName` path label and the `Qualifier` parameter in all the forms Lambda
 * accepts (name, `name:qualifier`, partial ARN, full ARN), with AWS's validation messages.
 */
import type { Scope } from './arn.js';
import { functionArn } from './arn.js';
import { LambdaError, lambdaErrors } from './errors.js';
import { LIMITS } from './limits.js';
import { constraint, validationMessage, type Violation } from './validation-message.js';

/** A function addressed by a request: its plain name and an optional qualifier. */
export interface FunctionRef {
  readonly name: string;
  readonly qualifier: string | undefined;
}

/** The pattern CreateFunction checks names against, as printed in AWS's messages. */
export const CREATE_NAME_PATTERN =
  '(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?';
/** The pattern other operations check names against (allows dots and `$LATEST.PUBLISHED`). */
export const NAMESPACED_NAME_PATTERN =
  '(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?';
/** The pattern of the `Qualifier` parameter. */
export const QUALIFIER_PATTERN = '\\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+';

const REGION = '(?<region>(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\\d):';
const PREFIX = `^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?(?:${REGION})?(?:(?<account>\\d{12}):)?(?:function:)?`;
const CREATE_RE = new RegExp(
  `${PREFIX}(?<name>[a-zA-Z0-9_-]+)(?::(?<qualifier>\\$LATEST|[a-zA-Z0-9_-]+))?$`,
);
const NAMESPACED_RE = new RegExp(
  `${PREFIX}(?<name>[a-zA-Z0-9_.-]+)(?::(?<qualifier>\\$LATEST(?:\\.PUBLISHED)?|[a-zA-Z0-9_-]+))?$`,
);
const QUALIFIER_RE = /^(?:\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9_$-]+)$/;

/** Parses CreateFunction's `FunctionName` (stricter than the other operations). */
export function parseNameForCreate(input: unknown, scope: Scope): FunctionRef {
  if (typeof input !== 'string') {
    throw lambdaErrors.validation(
      validationMessage([{ field: 'functionName', value: null, constraint: constraint.notNull() }]),
    );
  }
  const violations: Violation[] = [];
  if (input.length > LIMITS.functionArnMaxLength) {
    violations.push({
      field: 'functionName',
      value: input,
      constraint: constraint.maxLength(LIMITS.functionArnMaxLength),
    });
  }
  const match = CREATE_RE.exec(input);
  if (match === null) {
    violations.push({
      field: 'functionName',
      value: input,
      constraint: constraint.pattern(CREATE_NAME_PATTERN),
    });
  }
  if (violations.length > 0 || match === null) {
    throw lambdaErrors.validation(validationMessage(violations));
  }
  const ref = checkScope(match, scope);
  if (ref.name.length > LIMITS.functionNameMaxLength) {
    throw lambdaErrors.invalidParameter(
      validationMessage([
        {
          field: 'functionName',
          value: input,
          constraint: constraint.maxLength(LIMITS.functionNameMaxLength),
        },
      ]),
    );
  }
  if (ref.qualifier !== undefined) {
    throw lambdaErrors.invalidParameter(
      `The function name must not carry a qualifier when creating a function: '${input}'.`,
    );
  }
  return ref;
}

/**
 * Parses the `FunctionName` label of every other function operation, merged with an optional
 * `Qualifier` parameter (which must agree with a qualifier carried in the name).
 */
export function parseFunctionName(
  input: string,
  qualifierParam: string | undefined,
  scope: Scope,
): FunctionRef {
  const violations: Violation[] = [];
  if (qualifierParam !== undefined) {
    if (qualifierParam.length > LIMITS.qualifierMaxLength) {
      violations.push({
        field: 'qualifier',
        value: qualifierParam,
        constraint: constraint.maxLength(LIMITS.qualifierMaxLength),
      });
    } else if (!QUALIFIER_RE.test(qualifierParam)) {
      violations.push({
        field: 'qualifier',
        value: qualifierParam,
        constraint: constraint.pattern(QUALIFIER_PATTERN),
      });
    }
  }
  const match = NAMESPACED_RE.exec(input);
  if (match === null || input.length > LIMITS.namespacedFunctionNameMaxLength) {
    violations.push({
      field: 'functionName',
      value: input,
      constraint:
        match === null
          ? constraint.pattern(NAMESPACED_NAME_PATTERN)
          : constraint.maxLength(LIMITS.namespacedFunctionNameMaxLength),
    });
  }
  if (violations.length > 0 || match === null) {
    throw lambdaErrors.validation(validationMessage(violations));
  }
  const ref = checkScope(match, scope);
  if (
    ref.qualifier !== undefined &&
    qualifierParam !== undefined &&
    ref.qualifier !== qualifierParam
  ) {
    throw lambdaErrors.invalidParameter(
      'The derived qualifier from the function name does not match the specified qualifier.',
    );
  }
  return { name: ref.name, qualifier: ref.qualifier ?? qualifierParam };
}

function checkScope(match: RegExpExecArray, scope: Scope): FunctionRef {
  const { region, account, name = '', qualifier } = match.groups ?? {};
  if (region !== undefined && region !== scope.region) {
    throw new LambdaError(
      'ResourceNotFoundException',
      `Functions from '${region}' are not reachable in this region ('${scope.region}')`,
    );
  }
  if (account !== undefined && account !== scope.accountId) {
    throw new LambdaError(
      'AccessDeniedException',
      `User is not authorized to access resources of account ${account}; this endpoint serves account ${scope.accountId}.`,
    );
  }
  return { name, qualifier };
}

/** The ARN used in "Function not found" messages for a reference. */
export function refArn(scope: Scope, ref: FunctionRef): string {
  return functionArn(scope, ref.name, ref.qualifier);
}
