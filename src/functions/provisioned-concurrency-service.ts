/**
 * Put/Get/Delete/ListProvisionedConcurrencyConfig(s): validation and storage as AWS does them,
 * with the live counts and status coming from the provisioning engine (a port).
 */
import { functionArn, type Scope } from '../core/arn.js';
import type { Clock } from '../core/clock.js';
import { LambdaError, lambdaErrors } from '../core/errors.js';
import { LATEST, type Architecture } from '../core/function-model.js';
import { parseFunctionName } from '../core/function-name.js';
import { constraint, validationMessage } from '../core/validation-message.js';
import type { ConcurrencyService } from './concurrency-service.js';
import type { FunctionRepository } from './function-repository.js';
import type {
  ProvisionedConcurrencyConfig,
  ProvisionedConcurrencyRepository,
} from './provisioned-concurrency-repository.js';
import type { AliasRepository, VersionRepository } from './version-repository.js';

/** The live side of provisioned concurrency (implemented by the invocation engine). */
export interface ProvisioningPort {
  apply(functionName: string, qualifier: string, requested: number): void;
  refresh(functionName: string): void;
  remove(functionName: string, qualifier: string): Promise<void>;
  removeFunction(functionName: string): Promise<void>;
  state(
    functionName: string,
    qualifier: string,
  ):
    | {
        readonly allocated: number;
        readonly available: number;
        readonly status: 'IN_PROGRESS' | 'READY' | 'FAILED';
        readonly reason: string | undefined;
      }
    | undefined;
}

/** A configuration as the API reports it. */
export interface ProvisionedConcurrencyView {
  readonly config: ProvisionedConcurrencyConfig;
  readonly allocated: number;
  readonly available: number;
  readonly status: 'IN_PROGRESS' | 'READY' | 'FAILED';
  readonly reason: string | undefined;
}

export interface ProvisionedConcurrencyDeps {
  readonly scope: Scope;
  readonly clock: Clock;
  readonly functions: FunctionRepository;
  readonly versions: VersionRepository;
  readonly aliases: AliasRepository;
  readonly configs: ProvisionedConcurrencyRepository;
  readonly concurrency: ConcurrencyService;
  readonly provisioning: ProvisioningPort;
}

const NOT_PUBLISHED = 'The function resource provided must be an alias or a published version.';

export class ProvisionedConcurrencyService {
  readonly #d: ProvisionedConcurrencyDeps;

  constructor(deps: ProvisionedConcurrencyDeps) {
    this.#d = deps;
  }

  /** Restores every stored configuration (call once at start). */
  async load(): Promise<void> {
    const all = await this.#d.configs.all();
    const names = new Set(all.map((c) => c.functionName));
    for (const name of names) await this.#recount(name);
    for (const config of all)
      this.#d.provisioning.apply(config.functionName, config.qualifier, config.requested);
  }

  async put(
    functionName: string,
    qualifierParam: string | undefined,
    requested: number | undefined,
  ): Promise<ProvisionedConcurrencyView> {
    if (requested === undefined || requested < 1) {
      throw lambdaErrors.validation(
        validationMessage([
          {
            field: 'provisionedConcurrentExecutions',
            value: requested ?? null,
            constraint: requested === undefined ? constraint.notNull() : constraint.min(1),
          },
        ]),
      );
    }
    const { name, qualifier, alias } = await this.#target(functionName, qualifierParam, 'put');
    await this.#checkConflicts(name, qualifier, alias);
    await this.#checkLimits(name, qualifier, requested);
    const config = {
      functionName: name,
      qualifier,
      requested,
      lastModifiedMs: this.#d.clock.now(),
    };
    await this.#d.configs.put(config);
    await this.#recount(name);
    this.#d.provisioning.apply(name, qualifier, requested);
    return this.#view(config);
  }

  async get(
    functionName: string,
    qualifierParam: string | undefined,
  ): Promise<ProvisionedConcurrencyView> {
    const { name, qualifier } = await this.#target(functionName, qualifierParam, 'read');
    const config = await this.#d.configs.get(name, qualifier);
    if (config === undefined) {
      throw new LambdaError(
        'ProvisionedConcurrencyConfigNotFoundException',
        'No Provisioned Concurrency Config found for this function',
      );
    }
    return this.#view(config);
  }

  /** Deletes a configuration (no error when there is none, as on AWS). */
  async delete(functionName: string, qualifierParam: string | undefined): Promise<void> {
    const { name, qualifier } = await this.#target(functionName, qualifierParam, 'read');
    await this.forget(name, qualifier);
  }

  async list(
    functionName: string,
    marker: string | undefined,
    maxItems: number,
  ): Promise<{ items: ProvisionedConcurrencyView[]; nextMarker: string | undefined }> {
    const ref = parseFunctionName(functionName, undefined, this.#d.scope);
    if ((await this.#d.functions.get(ref.name)) === undefined)
      throw lambdaErrors.functionNotFound(functionArn(this.#d.scope, ref.name));
    const page = await this.#d.configs.list(ref.name, marker, maxItems + 1);
    const items = page.slice(0, maxItems).map((config) => this.#view(config));
    const last = items[items.length - 1];
    return {
      items,
      nextMarker: page.length > maxItems && last !== undefined ? last.config.qualifier : undefined,
    };
  }

  /** Drops the configuration of a deleted version or alias. */
  async forget(functionName: string, qualifier: string): Promise<void> {
    await this.#d.configs.delete(functionName, qualifier);
    await this.#recount(functionName);
    await this.#d.provisioning.remove(functionName, qualifier);
  }

  /** Drops every configuration of a deleted function (its rows went with it). */
  async forgetFunction(functionName: string): Promise<void> {
    this.#d.concurrency.setProvisioned(functionName, 0);
    await this.#d.provisioning.removeFunction(functionName);
  }

  /**
   * The environments provisioned concurrency keeps allocated now, per configuration, with the
   * version they run and its memory and architecture (what provisioned usage is metered from).
   */
  async allocatedNow(): Promise<
    Array<{
      readonly functionName: string;
      readonly version: string;
      readonly memoryMiB: number;
      readonly architecture: Architecture;
      readonly allocated: number;
    }>
  > {
    const out = [];
    for (const config of await this.#d.configs.all()) {
      const allocated = this.#d.provisioning.state(
        config.functionName,
        config.qualifier,
      )?.allocated;
      if (allocated === undefined || allocated === 0) continue;
      const version = /^\d+$/.test(config.qualifier)
        ? config.qualifier
        : (await this.#d.aliases.get(config.functionName, config.qualifier))?.functionVersion;
      if (version === undefined) continue;
      const record = await this.#d.versions.get(config.functionName, version);
      if (record === undefined) continue;
      out.push({
        functionName: config.functionName,
        version,
        memoryMiB: record.settings.memoryMiB,
        architecture: record.settings.architecture,
        allocated,
      });
    }
    return out;
  }

  /** An alias moved or a version changed: provisioned environments follow. */
  refresh(functionName: string): void {
    this.#d.provisioning.refresh(functionName);
  }

  #view(config: ProvisionedConcurrencyConfig): ProvisionedConcurrencyView {
    const state = this.#d.provisioning.state(config.functionName, config.qualifier);
    return {
      config,
      allocated: state?.allocated ?? 0,
      available: state?.available ?? 0,
      status: state?.status ?? 'IN_PROGRESS',
      reason: state?.reason,
    };
  }

  /** Resolves the version or alias a request names, with AWS's errors for each case. */
  async #target(
    functionName: string,
    qualifierParam: string | undefined,
    purpose: 'put' | 'read',
  ): Promise<{ name: string; qualifier: string; alias: string | undefined }> {
    const ref = parseFunctionName(functionName, qualifierParam, this.#d.scope);
    const qualifier = ref.qualifier;
    if (qualifier === undefined) {
      throw lambdaErrors.validation(
        validationMessage([{ field: 'qualifier', value: null, constraint: constraint.notNull() }]),
      );
    }
    if (qualifier === LATEST) {
      throw lambdaErrors.invalidParameter(
        purpose === 'put'
          ? 'Provisioned Concurrency Configs cannot be applied to unpublished function versions.'
          : NOT_PUBLISHED,
      );
    }
    const arn = functionArn(this.#d.scope, ref.name, qualifier);
    if (/^\d+$/.test(qualifier)) {
      const version = await this.#d.versions.get(ref.name, qualifier);
      if (version === undefined) throw lambdaErrors.functionNotFound(arn);
      return { name: ref.name, qualifier, alias: undefined };
    }
    const alias = await this.#d.aliases.get(ref.name, qualifier);
    if (alias === undefined)
      throw new LambdaError('ResourceNotFoundException', `Cannot find alias arn: ${arn}`);
    return { name: ref.name, qualifier, alias: alias.functionVersion };
  }

  /** A version and an alias pointing at it cannot both be provisioned. */
  async #checkConflicts(name: string, qualifier: string, aliasVersion: string | undefined) {
    const configs = await this.#all(name);
    if (aliasVersion !== undefined) {
      if (configs.some((c) => c.qualifier === aliasVersion)) {
        throw lambdaErrors.conflict(
          "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version",
        );
      }
      return;
    }
    for (const config of configs) {
      if (/^\d+$/.test(config.qualifier)) continue;
      const alias = await this.#d.aliases.get(name, config.qualifier);
      if (alias?.functionVersion === qualifier)
        throw lambdaErrors.conflict('Version is pointed by a Provisioned Concurrency alias');
    }
  }

  async #checkLimits(name: string, qualifier: string, requested: number): Promise<void> {
    const others = (await this.#all(name))
      .filter((c) => c.qualifier !== qualifier)
      .reduce((sum, c) => sum + c.requested, 0);
    const total = others + requested;
    const concurrency = this.#d.concurrency;
    const reserved = concurrency.reservationOf(name);
    if (reserved !== undefined) {
      if (total > reserved) {
        throw lambdaErrors.invalidParameter(
          'Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function',
        );
      }
      return;
    }
    const unreserved =
      concurrency.settings.accountLimit -
      (concurrency.reservedTotal() - concurrency.setAside(name));
    if (total > unreserved) {
      throw lambdaErrors.invalidParameter(
        `Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [${unreserved}].`,
      );
    }
    if (unreserved - total < concurrency.settings.minimumUnreserved) {
      throw lambdaErrors.invalidParameter(
        `Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${concurrency.settings.minimumUnreserved}].`,
      );
    }
  }

  async #recount(name: string): Promise<void> {
    const total = (await this.#all(name)).reduce((sum, c) => sum + c.requested, 0);
    this.#d.concurrency.setProvisioned(name, total);
  }

  async #all(name: string): Promise<ProvisionedConcurrencyConfig[]> {
    return this.#d.configs.list(name, undefined, 10_000);
  }
}
