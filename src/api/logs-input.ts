/**
 * Reading a Logs API request body: the JSON object (a body that is not one is a
 * SerializationException, as is a member of the wrong type), and the members' constraints from
 * the Logs model checked the way AWS reports them — every broken constraint collected into one
 * InvalidParameterException, `1 validation error detected: Value '10001' at 'limit' failed to
 * satisfy constraint: Member must have value less than or equal to 10000` — plus the few
 * messages AWS words on its own (names over 512 characters, name-or-ARN).
 */
import { nestingExceeds } from '../core/json-depth.js';
import type { Scope } from '../core/arn.js';
import { LogsError, logsErrors } from './logs-errors.js';

/** Deepest nesting a request body may have (Logs inputs nest two levels). */
const MAX_BODY_NESTING = 16;

/** A pattern of the Logs model: the test, and the model's text that messages quote. */
interface ModelPattern {
  readonly test: RegExp;
  readonly source: string;
}

const LOG_GROUP_NAME: ModelPattern = {
  test: /^[.\-_/#A-Za-z0-9]+$/,
  source: '[\\.\\-_/#A-Za-z0-9]+',
};
const LOG_GROUP_PATTERN: ModelPattern = {
  test: /^[.\-_/#A-Za-z0-9]*$/,
  source: '[\\.\\-_/#A-Za-z0-9]*',
};
const LOG_STREAM_NAME: ModelPattern = { test: /^[^:*]*$/, source: '[^:*]*' };
const LOG_GROUP_IDENTIFIER: ModelPattern = {
  test: /^[\w#+=/:,.@-]*$/,
  source: '[\\w#+=/:,.@-]*',
};

/** A request body's members, read with their types checked. */
export class LogsInput {
  readonly #body: Record<string, unknown>;
  readonly #violations: string[] = [];

  private constructor(body: Record<string, unknown>) {
    this.#body = body;
  }

  /** Parses a body (empty means `{}`). */
  static parse(bytes: Buffer): LogsInput {
    if (bytes.length === 0) return new LogsInput({});
    if (nestingExceeds(bytes, MAX_BODY_NESTING))
      throw logsErrors.serialization('The request body is nested too deeply.');
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw logsErrors.serialization('The request body is not valid JSON.');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw logsErrors.serialization('The request body must be a JSON object.');
    return new LogsInput(parsed as Record<string, unknown>);
  }

  string(name: string): string | undefined {
    const value = this.#member(name);
    if (value === undefined || typeof value === 'string') return value;
    throw wrongType(name, 'a string');
  }

  /** An integer or long member (epoch milliseconds, limits, days). */
  integer(name: string): number | undefined {
    const value = this.#member(name);
    if (value === undefined) return undefined;
    if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
    throw wrongType(name, 'an integer');
  }

  boolean(name: string): boolean | undefined {
    const value = this.#member(name);
    if (value === undefined || typeof value === 'boolean') return value;
    throw wrongType(name, 'a boolean');
  }

  stringList(name: string): string[] | undefined {
    const value = this.#member(name);
    if (value === undefined) return undefined;
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
    throw wrongType(name, 'a list of strings');
  }

  /** Records a broken constraint of `name`, shown with its value. */
  violate(
    name: string,
    value: string | number | readonly string[] | undefined,
    constraint: string,
  ): void {
    const shown =
      value === undefined
        ? 'null'
        : `'${typeof value === 'object' ? `[${value.join(', ')}]` : String(value)}'`;
    this.#violations.push(
      `Value ${shown} at '${name}' failed to satisfy constraint: ${constraint}`,
    );
  }

  /** A required member that is missing. */
  require(name: string, value: string | number | undefined): void {
    if (value === undefined) this.violate(name, undefined, 'Member must not be null');
  }

  /** A number within [min, max]. */
  range(name: string, value: number | undefined, min: number, max?: number): void {
    if (value === undefined) return;
    if (value < min)
      this.violate(name, value, `Member must have value greater than or equal to ${min}`);
    else if (max !== undefined && value > max)
      this.violate(name, value, `Member must have value less than or equal to ${max}`);
  }

  /** A string's pattern and length (both reported when both fail, as AWS does). */
  text(
    name: string,
    value: string | undefined,
    min: number,
    max: number,
    pattern?: ModelPattern,
  ): void {
    if (value === undefined) return;
    if (pattern !== undefined && !pattern.test.test(value))
      this.violate(
        name,
        value,
        `Member must satisfy regular expression pattern: ${pattern.source}`,
      );
    if (value.length < min)
      this.violate(name, value, `Member must have length greater than or equal to ${min}`);
    else if (value.length > max)
      this.violate(name, value, `Member must have length less than or equal to ${max}`);
  }

  /** A log group or stream name: over 512 characters is refused in AWS's own words. */
  logName(name: string, value: string | undefined, pattern: 'group' | 'stream'): void {
    if (value !== undefined && value.length > 512)
      throw logsErrors.invalidParameter(
        'Invalid LogGroup or LogStream, both must have length less than or equal to 512.',
      );
    this.text(name, value, 1, 512, pattern === 'group' ? LOG_GROUP_NAME : LOG_STREAM_NAME);
  }

  /** A `logGroupNamePattern`. */
  groupPattern(name: string, value: string | undefined): void {
    this.text(name, value, 0, 512, LOG_GROUP_PATTERN);
  }

  /** A value from an enumeration. */
  oneOf(
    name: string,
    value: string | number | undefined,
    allowed: readonly (string | number)[],
  ): void {
    if (value !== undefined && !allowed.includes(value))
      this.violate(name, value, `Member must satisfy enum value set: [${allowed.join(', ')}]`);
  }

  /** Throws the collected violations as one InvalidParameterException. */
  check(): void {
    const count = this.#violations.length;
    if (count === 0) return;
    throw logsErrors.invalidParameter(
      `${count} validation error${count === 1 ? '' : 's'} detected: ${this.#violations.join('; ')}`,
    );
  }

  #member(name: string): unknown {
    const value = Object.hasOwn(this.#body, name) ? this.#body[name] : undefined;
    return value === null ? undefined : value;
  }
}

function wrongType(name: string, what: string) {
  return logsErrors.serialization(`The member '${name}' must be ${what}.`);
}

/**
 * The log group a request names, by `logGroupName` or `logGroupIdentifier` (a name, or an ARN of
 * this region and account: an ARN of another names no group here). Checks the members'
 * constraints; both at once is AWS's ValidationException.
 */
export function groupOf(input: LogsInput, scope: Scope): string {
  const name = input.string('logGroupName');
  const identifier = input.string('logGroupIdentifier');
  input.logName('logGroupName', name, 'group');
  input.text('logGroupIdentifier', identifier, 1, 2048, LOG_GROUP_IDENTIFIER);
  input.check();
  if (name !== undefined && identifier !== undefined)
    throw new LogsError(
      'ValidationException',
      'LogGroup name and LogGroup ARN are mutually exclusive parameters.',
    );
  if (name !== undefined) return name;
  if (identifier === undefined)
    throw logsErrors.invalidParameter('Either logGroupName or logGroupIdentifier must be given.');
  const named = nameOfIdentifier(identifier, scope);
  if (named === undefined || !LOG_GROUP_NAME.test.test(named) || named.length > 512)
    throw logsErrors.groupNotFound();
  return named;
}

/** The group name in a `logGroupIdentifier` (`arn:aws:logs:<region>:<account>:log-group:<name>[:*]`). */
export function nameOfIdentifier(identifier: string, scope: Scope): string | undefined {
  if (!identifier.startsWith('arn:')) return identifier;
  const prefix = `arn:aws:logs:${scope.region}:${scope.accountId}:log-group:`;
  if (!identifier.startsWith(prefix)) return undefined;
  const rest = identifier.slice(prefix.length);
  return rest.endsWith(':*') ? rest.slice(0, -2) : rest;
}
