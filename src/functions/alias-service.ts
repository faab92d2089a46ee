/** CreateAlias, GetAlias, UpdateAlias, DeleteAlias and ListAliases, with Lambda's validation. */
import type { Scope } from '../core/arn.js';
import { functionArn } from '../core/arn.js';
import { LambdaError, lambdaErrors } from '../core/errors.js';
import type { AliasRecord } from '../core/function-model.js';
import { LATEST } from '../core/function-model.js';
import { parseFunctionName } from '../core/function-name.js';
import type { IdSource } from '../core/ids.js';
import { LIMITS } from '../core/limits.js';
import { constraint, validationMessage, type Violation } from '../core/validation-message.js';
import type { FunctionRepository } from './function-repository.js';
import type { AliasRepository, VersionRepository } from './version-repository.js';

/** Alias fields as they arrived; absent = unchanged on update. */
export interface AliasInput {
  readonly name?: string | undefined;
  readonly functionVersion?: string | undefined;
  readonly description?: string | undefined;
  /** Undefined: not sent; null: sent without weights (clears them). */
  readonly weights?: Readonly<Record<string, number>> | null | undefined;
  readonly revisionId?: string | undefined;
}

const NAME_PATTERN = '(?!^[0-9]+$)([a-zA-Z0-9-_]+)';
const NAME_RE = /^(?!^[0-9]+$)[a-zA-Z0-9_-]+$/;
const VERSION_PATTERN = '(\\$LATEST|[0-9]+)';
const VERSION_RE = /^(\$LATEST|[0-9]+)$/;
const WEIGHT_KEY_CONSTRAINT =
  'Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]';
const WEIGHT_VALUE_CONSTRAINT =
  'Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]';

export class AliasService {
  readonly #scope: Scope;
  readonly #functions: FunctionRepository;
  readonly #versions: VersionRepository;
  readonly #aliases: AliasRepository;
  readonly #ids: IdSource;
  readonly #onUnrouted: ((functionName: string, version: string) => void) | undefined;

  /**
   * `onUnrouted`: told of each published version that an update or a deletion left with no alias
   * routing to it (its idle environments can go).
   */
  constructor(
    scope: Scope,
    functions: FunctionRepository,
    versions: VersionRepository,
    aliases: AliasRepository,
    ids: IdSource,
    onUnrouted?: (functionName: string, version: string) => void,
  ) {
    this.#scope = scope;
    this.#functions = functions;
    this.#versions = versions;
    this.#aliases = aliases;
    this.#ids = ids;
    this.#onUnrouted = onUnrouted;
  }

  async create(
    functionName: string,
    input: AliasInput,
  ): Promise<{ name: string; alias: AliasRecord }> {
    const name = this.#name(functionName);
    checkFields(input, true);
    const alias: AliasRecord = {
      name: input.name ?? '',
      functionVersion: input.functionVersion ?? LATEST,
      description: input.description ?? '',
      additionalVersionWeights: input.weights ?? undefined,
      revisionId: this.#ids.uuid(),
    };
    await this.#checkTargets(name, alias);
    if ((await this.#aliases.insert(name, alias)) === 'exists') {
      throw lambdaErrors.conflict(`Alias already exists: ${this.#arn(name, alias.name)}`);
    }
    return { name, alias };
  }

  async get(
    functionName: string,
    aliasName: string,
  ): Promise<{ name: string; alias: AliasRecord }> {
    const name = this.#name(functionName);
    const alias = await this.#aliases.get(name, aliasName);
    if (alias === undefined) {
      throw new LambdaError(
        'ResourceNotFoundException',
        `Cannot find alias arn: ${this.#arn(name, aliasName)}`,
      );
    }
    return { name, alias };
  }

  async update(
    functionName: string,
    aliasName: string,
    input: AliasInput,
  ): Promise<{ name: string; alias: AliasRecord }> {
    const name = this.#name(functionName);
    checkFields(input, false);
    const current = await this.#aliases.get(name, aliasName);
    if (current === undefined) {
      throw new LambdaError(
        'ResourceNotFoundException',
        `Alias not found: ${this.#arn(name, aliasName)}`,
      );
    }
    const next = (alias: AliasRecord): AliasRecord => ({
      ...alias,
      functionVersion: input.functionVersion ?? alias.functionVersion,
      description: input.description ?? alias.description,
      additionalVersionWeights:
        input.weights === undefined ? alias.additionalVersionWeights : (input.weights ?? undefined),
      revisionId: this.#ids.uuid(),
    });
    await this.#checkTargets(name, next(current));
    let before: AliasRecord = current;
    const updated = await this.#aliases.update(name, aliasName, (alias) => {
      if (input.revisionId !== undefined && input.revisionId !== alias.revisionId) {
        throw lambdaErrors.staleRevision();
      }
      before = alias;
      return next(alias);
    });
    if (updated === undefined) {
      throw new LambdaError(
        'ResourceNotFoundException',
        `Alias not found: ${this.#arn(name, aliasName)}`,
      );
    }
    this.#unrouted(name, before);
    return { name, alias: updated };
  }

  /** Deleting an alias that does not exist succeeds, as on AWS. */
  /** Deletes an alias (no error when it does not exist); returns the function's name. */
  async delete(functionName: string, aliasName: string): Promise<string> {
    const name = this.#name(functionName);
    if ((await this.#functions.get(name)) === undefined) {
      throw lambdaErrors.functionNotFound(functionArn(this.#scope, name));
    }
    const before = await this.#aliases.get(name, aliasName);
    if ((await this.#aliases.delete(name, aliasName)) && before !== undefined)
      this.#unrouted(name, before);
    return name;
  }

  async list(
    functionName: string,
    functionVersion: string | undefined,
    marker: string | undefined,
    maxItems: number | undefined,
  ): Promise<{ name: string; aliases: AliasRecord[]; nextMarker: string | undefined }> {
    const name = this.#name(functionName);
    if ((await this.#functions.get(name)) === undefined) {
      throw lambdaErrors.functionNotFound(functionArn(this.#scope, name));
    }
    const limit = Math.min(Math.max(maxItems ?? LIMITS.listMaxItems, 1), LIMITS.listMaxItems);
    const rows = await this.#aliases.list(name, marker, 10_000);
    const matching = rows.filter(
      (alias) =>
        functionVersion === undefined ||
        alias.functionVersion === functionVersion ||
        Object.keys(alias.additionalVersionWeights ?? {}).includes(functionVersion),
    );
    const page = matching.slice(0, limit);
    const last = page[page.length - 1];
    return {
      name,
      aliases: page,
      nextMarker: matching.length > limit && last !== undefined ? last.name : undefined,
    };
  }

  /** Names of the aliases that route to a version. */
  async referencing(functionName: string, version: string): Promise<string[]> {
    const rows = await this.#aliases.list(functionName, undefined, 10_000);
    return rows.filter((alias) => routedVersions(alias).includes(version)).map((a) => a.name);
  }

  /**
   * Tells `onUnrouted`, in the background, of the published versions `before` routed to that no
   * alias does now (the alias change is committed: nothing here may fail it).
   */
  #unrouted(name: string, before: AliasRecord): void {
    const onUnrouted = this.#onUnrouted;
    const previous = routedVersions(before).filter((version) => version !== LATEST);
    if (onUnrouted === undefined || previous.length === 0) return;
    void this.#aliases.list(name, undefined, 10_000).then(
      (rows) => {
        const routed = new Set(rows.flatMap(routedVersions));
        for (const version of previous) if (!routed.has(version)) onUnrouted(name, version);
      },
      () => undefined,
    );
  }

  async #checkTargets(name: string, alias: AliasRecord): Promise<void> {
    const weighted = Object.keys(alias.additionalVersionWeights ?? {});
    if (weighted.length > 1) {
      throw lambdaErrors.invalidParameter(
        'Number of items in AdditionalVersionWeights cannot be greater than 1',
      );
    }
    if (weighted.length > 0 && alias.functionVersion === LATEST) {
      throw lambdaErrors.invalidParameter(
        '$LATEST is not supported for an alias pointing to more than 1 version',
      );
    }
    if (weighted.includes(alias.functionVersion)) {
      throw lambdaErrors.invalidParameter(
        `Invalid function version ${alias.functionVersion}. Function version ${alias.functionVersion} is already included in routing configuration.`,
      );
    }
    const record = await this.#functions.get(name);
    for (const version of [alias.functionVersion, ...weighted]) {
      const exists =
        record !== undefined &&
        (version === LATEST || (await this.#versions.get(name, version)) !== undefined);
      if (!exists) throw lambdaErrors.functionNotFound(functionArn(this.#scope, name, version));
    }
  }

  #name(functionName: string): string {
    return parseFunctionName(functionName, undefined, this.#scope).name;
  }

  #arn(name: string, alias: string): string {
    return functionArn(this.#scope, name, alias);
  }
}

/** The versions an alias sends invocations to. */
function routedVersions(alias: AliasRecord): string[] {
  return [alias.functionVersion, ...Object.keys(alias.additionalVersionWeights ?? {})];
}

function checkFields(input: AliasInput, creating: boolean): void {
  const v: Violation[] = [];
  if (creating) {
    if (input.name === undefined)
      v.push({ field: 'name', value: null, constraint: constraint.notNull() });
    else if (input.name.length > 128)
      v.push({ field: 'name', value: input.name, constraint: constraint.maxLength(128) });
    else if (!NAME_RE.test(input.name))
      v.push({ field: 'name', value: input.name, constraint: constraint.pattern(NAME_PATTERN) });
    if (input.functionVersion === undefined)
      v.push({ field: 'functionVersion', value: null, constraint: constraint.notNull() });
  }
  if (input.functionVersion !== undefined && !VERSION_RE.test(input.functionVersion)) {
    v.push({
      field: 'functionVersion',
      value: input.functionVersion,
      constraint: constraint.pattern(VERSION_PATTERN),
    });
  }
  if (input.description !== undefined && input.description.length > 256) {
    v.push({
      field: 'description',
      value: input.description,
      constraint: constraint.maxLength(256),
    });
  }
  const weights = input.weights ?? {};
  const rendered = `{${Object.entries(weights)
    .map(([k, w]) => `${k}=${Number.isInteger(w) ? w.toFixed(1) : String(w)}`)
    .join(', ')}}`;
  if (Object.keys(weights).some((key) => !/^[0-9]+$/.test(key))) {
    v.push({
      field: 'routingConfig.additionalVersionWeights',
      value: rendered,
      constraint: WEIGHT_KEY_CONSTRAINT,
    });
  } else if (Object.values(weights).some((w) => !(w >= 0 && w <= 1))) {
    v.push({
      field: 'routingConfig.additionalVersionWeights',
      value: rendered,
      constraint: WEIGHT_VALUE_CONSTRAINT,
    });
  }
  if (v.length > 0) throw lambdaErrors.validation(validationMessage(v));
}
