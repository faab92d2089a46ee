/**
 * Decides whether a caller may do an action on a resource, with AWS's policy logic (core
 * policy-evaluation.ts) over the caller's policies: none for the account's root, a user's inline
 * and attached policies, a role session's role policies and session policy. Compiled policies are
 * kept per caller until IAM changes anything (`invalidate`), so a decision costs no database read,
 * and so are the decisions themselves, for requests alike in all a decision reads (DecisionCache).
 */
import type { Clock } from '../core/clock.js';
import { iamArn, iamErrors, type IamRole, type PolicyHolder } from '../core/iam-model.js';
import { compilePolicy, PolicySyntaxError, type CompiledPolicy } from '../core/policy-document.js';
import {
  accessDeniedMessage,
  evaluate,
  policyAllows,
  type AuthorizationRequest,
  type Decision,
} from '../core/policy-evaluation.js';
import type { Caller } from './credential-directory.js';
import { DecisionCache } from './decision-cache.js';

/** The documents of a user's or role's policies. */
export interface PolicySource {
  documentsOf(holder: PolicyHolder): Promise<string[]>;
}

/** Compiled documents kept (by their text), the oldest dropped first. */
const COMPILED_KEPT = 1024;

export class Authorizer {
  readonly #source: PolicySource;
  readonly #clock: Clock;
  readonly #compiled = new Map<string, CompiledPolicy>();
  /** Identity policies per holder (`user/<name>`, `role/<name>`), until IAM changes. */
  readonly #identity = new Map<string, Promise<CompiledPolicy[]>>();

  constructor(options: { source: PolicySource; clock: Clock }) {
    this.#source = options.source;
    this.#clock = options.clock;
  }

  readonly #decisions = new DecisionCache<{ decision: Decision; message: string | undefined }>();

  /** Forgets what it knows of policies (after any IAM write). */
  invalidate(): void {
    this.#identity.clear();
    this.#decisions.clear();
  }

  /**
   * The decision for `caller` doing `action` on `resource` (with a resource policy, if the
   * resource has one), and the message to refuse it with.
   */
  async decide(
    caller: Caller,
    action: string,
    resource: string,
    options: {
      resourcePolicy?: CompiledPolicy | undefined;
      context?: Record<string, string | readonly string[]> | undefined;
      sourceIp?: string | undefined;
    } = {},
  ): Promise<{ decision: Decision; message: string | undefined }> {
    const generation = this.#decisions.generation;
    const key = this.#decisions.keyOf({
      action,
      resource,
      resourcePolicy: options.resourcePolicy,
      sourceIp: options.sourceIp,
      second: Math.floor(this.#clock.now() / 1000),
      context: options.context,
    });
    const known = this.#decisions.get(caller, key);
    if (known !== undefined) return known;
    const request: AuthorizationRequest = {
      principal: caller.principal,
      action,
      resource,
      context: { ...this.#globalKeys(options.sourceIp), ...options.context },
    };
    const decision = evaluate(request, {
      identity: await this.#identityOf(caller),
      resource: options.resourcePolicy,
      session:
        caller.kind === 'session' && caller.sessionPolicy !== undefined
          ? [this.compile(caller.sessionPolicy, 'identity')]
          : undefined,
    });
    const answer = {
      decision,
      message: decision.effect === 'allow' ? undefined : accessDeniedMessage(request, decision),
    };
    this.#decisions.set(caller, key, answer, generation);
    return answer;
  }

  /** Refuses with IAM's AccessDenied unless allowed. */
  async authorize(
    caller: Caller,
    action: string,
    resource: string,
    sourceIp: string | undefined,
    context?: Record<string, string>,
  ): Promise<void> {
    const { message } = await this.decide(caller, action, resource, { sourceIp, context });
    if (message !== undefined) throw iamErrors.accessDenied(message);
  }

  /**
   * AssumeRole: the role's trust policy must allow the caller, either by naming it (then that is
   * enough, barring a Deny in the caller's policies) or by naming the account (then the caller's
   * own policies must allow `sts:AssumeRole` on the role).
   */
  async authorizeAssumeRole(
    caller: Caller,
    role: IamRole,
    sourceIp: string | undefined,
  ): Promise<void> {
    const trust = this.compile(role.assumeRolePolicyDocument, 'trust');
    const request = (principal: Caller['principal']): AuthorizationRequest => ({
      principal,
      action: 'sts:AssumeRole',
      resource: role.arn,
      context: this.#globalKeys(sourceIp),
    });
    const account = caller.principal.account;
    const asCaller = policyAllows(trust, request(caller.principal));
    const asAccount = policyAllows(trust, request({ arn: iamArn.root(account), account }));
    const refuse = (reason: string) =>
      iamErrors.accessDenied(
        `User: ${caller.principal.arn} is not authorized to perform: sts:AssumeRole on resource: ${role.arn} ${reason}`,
      );
    if (asCaller === 'deny') throw refuse('with an explicit deny in the role trust policy');
    if (asCaller !== 'allow' && asAccount !== 'allow')
      throw refuse('because no role trust policy allows the sts:AssumeRole action');
    const { decision, message } = await this.decide(caller, 'sts:AssumeRole', role.arn, {
      sourceIp,
    });
    const named = asCaller === 'allow' && caller.kind !== 'root';
    const refused =
      decision.effect === 'explicitDeny' ||
      (decision.effect === 'implicitDeny' && (!named || decision.by === 'session'));
    if (refused) throw iamErrors.accessDenied(message ?? '');
  }

  /** A session policy given to AssumeRole: a malformed one is refused. */
  checkSessionPolicy(document: string): void {
    try {
      this.compile(document, 'identity');
    } catch (error) {
      if (error instanceof PolicySyntaxError) throw iamErrors.malformedPolicy(error.message);
      throw error;
    }
  }

  /** A document compiled once (by its text). */
  compile(document: string, kind: 'identity' | 'resource' | 'trust'): CompiledPolicy {
    const key = `${kind}\u0000${document}`;
    let compiled = this.#compiled.get(key);
    if (compiled === undefined) {
      compiled = compilePolicy(document, kind);
      if (this.#compiled.size >= COMPILED_KEPT) {
        const oldest = this.#compiled.keys().next().value;
        if (oldest !== undefined) this.#compiled.delete(oldest);
      }
      this.#compiled.set(key, compiled);
    }
    return compiled;
  }

  #identityOf(caller: Caller): Promise<CompiledPolicy[]> {
    if (caller.kind === 'root') return Promise.resolve([]);
    const holder: PolicyHolder =
      caller.kind === 'user'
        ? { kind: 'user', name: caller.userName }
        : { kind: 'role', name: caller.roleName };
    const key = `${holder.kind}/${holder.name}`;
    let policies = this.#identity.get(key);
    if (policies === undefined) {
      policies = this.#source
        .documentsOf(holder)
        .then((documents) => documents.map((document) => this.compile(document, 'identity')));
      this.#identity.set(key, policies);
      policies.catch(() => this.#identity.delete(key));
    }
    return policies;
  }

  /** Keys every request has. */
  #second = Number.NaN;
  #currentTime = '';
  #epochTime = '';

  #globalKeys(sourceIp: string | undefined): Record<string, string> {
    const second = Math.floor(this.#clock.now() / 1000);
    // The time keys change once a second: written once per second, not per request.
    if (second !== this.#second) {
      this.#second = second;
      this.#currentTime = new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      this.#epochTime = String(second);
    }
    return {
      'aws:CurrentTime': this.#currentTime,
      'aws:EpochTime': this.#epochTime,
      'aws:SecureTransport': 'false',
      ...(sourceIp === undefined ? {} : { 'aws:SourceIp': sourceIp }),
    };
  }
}
