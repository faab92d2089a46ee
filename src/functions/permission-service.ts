/**
 * AddPermission / RemovePermission / GetPolicy: one policy document per function, version and
 * alias, with Lambda's messages; and whether a NONE-auth function URL is public.
 */
import { functionArn, type Scope } from '../core/arn.js';
import { LambdaError, lambdaErrors } from '../core/errors.js';
import { LATEST } from '../core/function-model.js';
import { parseFunctionName, type FunctionRef } from '../core/function-name.js';
import type { IdSource } from '../core/ids.js';
import {
  allowsPublicUrl,
  buildStatement,
  policyDocument,
  POLICY_MAX_BYTES,
  type AddPermissionInput,
  type PolicyStatement,
  type ResourcePolicy,
} from '../core/resource-policy.js';
import type { FunctionRepository } from './function-repository.js';
import type { PolicyRepository } from './policy-repository.js';
import type { AliasRepository, VersionRepository } from './version-repository.js';

export interface PermissionServiceDeps {
  readonly scope: Scope;
  readonly functions: FunctionRepository;
  readonly versions: VersionRepository;
  readonly aliases: AliasRepository;
  readonly policies: PolicyRepository;
  readonly ids: IdSource;
}

export class PermissionService {
  readonly #d: PermissionServiceDeps;

  constructor(deps: PermissionServiceDeps) {
    this.#d = deps;
  }

  /** AddPermission: appends a statement and returns it. */
  async add(
    functionName: string,
    qualifier: string | undefined,
    input: AddPermissionInput,
  ): Promise<PolicyStatement> {
    const ref = parseFunctionName(functionName, qualifier, this.#d.scope);
    const arn = functionArn(this.#d.scope, ref.name, ref.qualifier);
    const statement = buildStatement(input, arn);
    if (ref.qualifier === LATEST) {
      throw lambdaErrors.invalidParameter(
        'We currently do not support adding policies for $LATEST.',
      );
    }
    await this.#mustExist(ref, () => lambdaErrors.functionNotFound(arn));
    const current = await this.#d.policies.get(ref.name, ref.qualifier);
    checkRevision(input.revisionId, current);
    const statements = current?.statements ?? [];
    if (statements.some((s) => s.Sid === statement.Sid)) {
      throw lambdaErrors.conflict(
        `The statement id (${statement.Sid}) provided already exists. ` +
          'Please provide a new statement id, or remove the existing statement.',
      );
    }
    const next = [...statements, statement];
    const size = Buffer.byteLength(policyDocument(next));
    if (size > POLICY_MAX_BYTES) {
      throw new LambdaError(
        'PolicyLengthExceededException',
        `The final policy size (${size}) is bigger than the limit (${POLICY_MAX_BYTES}).`,
      );
    }
    await this.#d.policies.put({
      functionName: ref.name,
      qualifier: ref.qualifier,
      statements: next,
      revisionId: this.#d.ids.uuid(),
    });
    return statement;
  }

  /** RemovePermission: drops a statement; the policy goes when its last statement does. */
  async remove(
    functionName: string,
    qualifier: string | undefined,
    statementId: string,
    revisionId: string | undefined,
  ): Promise<void> {
    const ref = parseFunctionName(functionName, qualifier, this.#d.scope);
    await this.#mustExist(
      ref,
      () =>
        new LambdaError(
          'ResourceNotFoundException',
          `No policy found for: ${functionArn(this.#d.scope, ref.name, ref.qualifier)}`,
        ),
    );
    const current = await this.#d.policies.get(ref.name, ref.qualifier);
    if (current === undefined) {
      throw new LambdaError(
        'ResourceNotFoundException',
        'No policy is associated with the given resource.',
      );
    }
    checkRevision(revisionId, current);
    const next = current.statements.filter((s) => s.Sid !== statementId);
    if (next.length === current.statements.length) {
      throw new LambdaError(
        'ResourceNotFoundException',
        `Statement ${statementId} is not found in resource policy.`,
      );
    }
    if (next.length === 0) await this.#d.policies.delete(ref.name, ref.qualifier);
    else
      await this.#d.policies.put({ ...current, statements: next, revisionId: this.#d.ids.uuid() });
  }

  /** GetPolicy. */
  async get(functionName: string, qualifier: string | undefined): Promise<ResourcePolicy> {
    const ref = parseFunctionName(functionName, qualifier, this.#d.scope);
    const policy = await this.#d.policies.get(ref.name, unqualifiedLatest(ref.qualifier));
    if (policy === undefined || (await this.#d.functions.get(ref.name)) === undefined) {
      throw new LambdaError(
        'ResourceNotFoundException',
        'The resource you requested does not exist.',
      );
    }
    return policy;
  }

  /** Drops the policy of a deleted version or alias (no error when there is none). */
  async forget(functionName: string, qualifier: string): Promise<void> {
    await this.#d.policies.delete(functionName, qualifier);
  }

  /** Whether anyone may call the NONE-auth URL of this function or alias. */
  async isUrlPublic(functionName: string, qualifier: string | undefined): Promise<boolean> {
    const policy = await this.#d.policies.get(functionName, qualifier);
    return policy !== undefined && allowsPublicUrl(policy.statements);
  }

  /** The function, and the version or alias when one is named, must exist. */
  async #mustExist(ref: FunctionRef, missingFunction: () => LambdaError): Promise<void> {
    if ((await this.#d.functions.get(ref.name)) === undefined) {
      throw ref.qualifier === undefined
        ? missingFunction()
        : lambdaErrors.functionNotFound(functionArn(this.#d.scope, ref.name));
    }
    const q = ref.qualifier;
    if (q === undefined || q === LATEST) return;
    if (/^[a-zA-Z0-9_-]+$/.test(q) && !/^\d+$/.test(q)) {
      if ((await this.#d.aliases.get(ref.name, q)) === undefined) {
        throw new LambdaError(
          'ResourceNotFoundException',
          `Cannot find alias arn: ${functionArn(this.#d.scope, ref.name, q)}`,
        );
      }
      return;
    }
    if (!/^\d+$/.test(q) || (await this.#d.versions.get(ref.name, q)) === undefined) {
      throw lambdaErrors.functionNotFound(functionArn(this.#d.scope, ref.name, q));
    }
  }
}

/** `$LATEST` addresses the unqualified function's policy. */
function unqualifiedLatest(qualifier: string | undefined): string | undefined {
  return qualifier === LATEST ? undefined : qualifier;
}

function checkRevision(revisionId: string | undefined, current: ResourcePolicy | undefined): void {
  if (revisionId === undefined || revisionId === current?.revisionId) return;
  throw new LambdaError(
    'PreconditionFailedException',
    'The Revision Id provided does not match the latest Revision Id. ' +
      'Call the GetPolicy API to retrieve the latest Revision Id',
  );
}
