/**
 * IAM policy documents: parsed, checked and compiled once (see docs/guide/identity.md). Three kinds:
 * identity policies (of users, groups and roles: no `Principal`), resource policies (a function's:
 * each statement names its `Principal`) and trust policies (a role's: who may assume it).
 */
import {
  compileCondition,
  isRecord,
  PolicySyntaxError,
  type ConditionTest,
} from './policy-conditions.js';
import { actionMatcher, arnMatcher, type Matcher } from './policy-pattern.js';

export { PolicySyntaxError } from './policy-conditions.js';

export type PolicyKind = 'identity' | 'resource' | 'trust';

/** Who makes a request, as policies see it. */
export interface RequestPrincipal {
  /** `arn:aws:iam::<account>:root`, `…:user/<path><name>` or `arn:aws:sts::<account>:assumed-role/<role>/<session>`. */
  readonly arn: string;
  readonly account: string;
  /** A role session's role (a statement naming the role names its sessions). */
  readonly roleArn?: string | undefined;
  /** A service calling on its own behalf (`scheduler.amazonaws.com`). */
  readonly service?: string | undefined;
}

/** A statement's principal test (always true for identity policies). */
type PrincipalTest = (principal: RequestPrincipal, effect: 'Allow' | 'Deny') => boolean;

export interface CompiledStatement {
  readonly sid: string | undefined;
  readonly effect: 'Allow' | 'Deny';
  readonly principal: PrincipalTest;
  readonly action: Matcher;
  /** Tests the resource ARN, with the request's policy variables (`${aws:username}`) substituted. */
  readonly resource: (arn: string, variables: (name: string) => string | undefined) => boolean;
  readonly condition: ConditionTest;
}

export interface CompiledPolicy {
  readonly statements: readonly CompiledStatement[];
}

const VERSIONS = new Set(['2012-10-17', '2008-10-17']);
const STATEMENT_FIELDS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);

/** Parses and compiles `text`; throws PolicySyntaxError with AWS's reason when it is not usable. */
export function compilePolicy(text: string, kind: PolicyKind): CompiledPolicy {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new PolicySyntaxError('This policy contains invalid Json');
  }
  if (!isRecord(document)) throw new PolicySyntaxError('Syntax errors in policy.');
  for (const field of Object.keys(document)) {
    if (field !== 'Version' && field !== 'Id' && field !== 'Statement')
      throw new PolicySyntaxError(`Syntax errors in policy.`);
  }
  const version = document['Version'];
  if (version !== undefined && (typeof version !== 'string' || !VERSIONS.has(version)))
    throw new PolicySyntaxError('The policy failed legacy parsing');
  const raw = document['Statement'];
  const statements = Array.isArray(raw) ? (raw as unknown[]) : raw === undefined ? [] : [raw];
  if (statements.length === 0) throw new PolicySyntaxError('Syntax errors in policy.');
  const variables = version === '2012-10-17';
  return { statements: statements.map((s) => compileStatement(s, kind, variables)) };
}

function compileStatement(raw: unknown, kind: PolicyKind, variables: boolean): CompiledStatement {
  if (!isRecord(raw)) throw new PolicySyntaxError('Syntax errors in policy.');
  for (const field of Object.keys(raw)) {
    if (!STATEMENT_FIELDS.has(field))
      throw new PolicySyntaxError(`Syntax errors in policy. Unknown field ${field}.`);
  }
  const effect = raw['Effect'];
  if (effect !== 'Allow' && effect !== 'Deny')
    throw new PolicySyntaxError('Policy statement must contain a valid Effect.');
  const sid = raw['Sid'];
  if (sid !== undefined && typeof sid !== 'string')
    throw new PolicySyntaxError('Statement IDs (SID) must be strings.');
  const hasPrincipal = raw['Principal'] !== undefined || raw['NotPrincipal'] !== undefined;
  if (kind === 'identity' && hasPrincipal)
    throw new PolicySyntaxError('Policy document should not specify a principal.');
  if (kind !== 'identity' && !hasPrincipal)
    throw new PolicySyntaxError('Missing required field Principal');
  const action = exclusive(raw, 'Action', 'NotAction', true, (list) =>
    list.map((pattern) => {
      if (pattern !== '*' && !/^[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+$/.test(pattern))
        throw new PolicySyntaxError(
          `Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.`,
        );
      return actionMatcher(pattern);
    }),
  );
  const resource = exclusive(raw, 'Resource', 'NotResource', kind === 'identity', (list) => list);
  return {
    sid,
    effect,
    principal: hasPrincipal ? compilePrincipal(raw) : () => true,
    action: negatable(action),
    resource: resourceTest(resource, variables),
    condition: compileCondition(raw['Condition']),
  };
}

interface Either<T> {
  readonly items: readonly T[];
  readonly negated: boolean;
}

/** `Name` or `NotName` (exactly one; `required`: one must be there), as a list. */
function exclusive<T>(
  raw: Record<string, unknown>,
  name: string,
  notName: string,
  required: boolean,
  compile: (list: string[]) => T[],
): Either<T> | undefined {
  const positive = raw[name];
  const negative = raw[notName];
  if (positive !== undefined && negative !== undefined)
    throw new PolicySyntaxError(`Statement cannot have both ${name} and ${notName}.`);
  const value = positive ?? negative;
  if (value === undefined) {
    if (required)
      throw new PolicySyntaxError(`Policy statement must contain ${name.toLowerCase()}s.`);
    return undefined;
  }
  return { items: compile(stringList(value, name)), negated: negative !== undefined };
}

/** Answers kept per statement: requests name a few hundred actions at most. */
const ACTIONS_REMEMBERED = 512;

/** `Action`/`NotAction`, each action's answer remembered (the same ones come again and again). */
function negatable(either: Either<Matcher> | undefined): Matcher {
  if (either === undefined) return () => false;
  const { items, negated } = either;
  const answers = new Map<string, boolean>();
  return (value) => {
    let answer = answers.get(value);
    if (answer === undefined) {
      answer = items.some((match) => match(value)) !== negated;
      if (answers.size < ACTIONS_REMEMBERED) answers.set(value, answer);
    }
    return answer;
  };
}

const VARIABLE = /\$\{([^}]+)\}/g;

function resourceTest(
  either: Either<string> | undefined,
  variables: boolean,
): CompiledStatement['resource'] {
  // A resource policy without Resource applies to the resource it is attached to.
  if (either === undefined) return () => true;
  const { items, negated } = either;
  const fixed = items.filter((p) => !variables || !p.includes('${')).map(arnMatcher);
  const templated = variables ? items.filter((p) => p.includes('${')) : [];
  return (arn, lookup) => {
    let matches = fixed.some((match) => match(arn));
    for (const template of templated) {
      if (matches) break;
      let unresolved = false;
      const pattern = template.replace(VARIABLE, (_, name: string) => {
        const value = substitution(name, lookup);
        if (value === undefined) unresolved = true;
        return value ?? '';
      });
      matches = !unresolved && arnMatcher(pattern)(arn);
    }
    return matches !== negated;
  };
}

/** A policy variable's value; `${key, 'default'}` has a fallback. Unknown: the statement fails. */
function substitution(
  name: string,
  lookup: (name: string) => string | undefined,
): string | undefined {
  const [key = '', fallback] = name.split(',').map((part) => part.trim());
  const value = lookup(key);
  if (value !== undefined) return value;
  const quoted = /^'(.*)'$/.exec(fallback ?? '');
  return quoted === null ? undefined : quoted[1];
}

function compilePrincipal(raw: Record<string, unknown>): PrincipalTest {
  const negated = raw['NotPrincipal'] !== undefined;
  const value = raw['Principal'] ?? raw['NotPrincipal'];
  const tests: PrincipalTest[] = [];
  if (value === '*') tests.push(() => true);
  else if (isRecord(value)) {
    for (const [type, names] of Object.entries(value)) {
      const list = stringList(names, 'Principal');
      if (type === 'AWS') tests.push(...list.map(awsPrincipal));
      else if (type === 'Service')
        tests.push((p) => p.service !== undefined && list.includes(p.service));
      else if (type !== 'Federated' && type !== 'CanonicalUser')
        throw new PolicySyntaxError(`Invalid principal in policy: "${type}"`);
    }
  } else throw new PolicySyntaxError('Invalid principal in policy');
  return (principal, effect) => tests.some((test) => test(principal, effect)) !== negated;
}

/**
 * `*`, an account (its id or `:root` ARN), a user or role ARN. An account in an Allow delegates to
 * the account's own policies (it grants its root only); in a Deny it covers every principal of it.
 */
function awsPrincipal(name: string): PrincipalTest {
  if (name === '*') return () => true;
  const account = /^(?:arn:aws[a-zA-Z-]*:iam::)?(\d{12})(?::root)?$/.exec(name)?.[1];
  if (account !== undefined) {
    return (p, effect) =>
      p.account === account && (effect === 'Deny' || p.arn === `arn:aws:iam::${account}:root`);
  }
  if (!/^arn:aws[a-zA-Z-]*:(?:iam|sts)::\d{12}:\S+$/.test(name))
    throw new PolicySyntaxError(`Invalid principal in policy: "AWS":"${name}"`);
  return (p) => p.arn === name || p.roleArn === name;
}

function stringList(value: unknown, field: string): string[] {
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  if (list.length === 0 || list.some((item) => typeof item !== 'string' || item === ''))
    throw new PolicySyntaxError(`Syntax errors in policy. ${field} must be strings.`);
  return list as string[];
}
