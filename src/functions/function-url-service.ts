/**
 * Create/Get/Update/Delete/ListFunctionUrlConfig(s) with Lambda's validation and messages, and the
 * lookup the URL edge does for every request (by url id).
 */
import { functionArn, type Scope } from '../core/arn.js';
import type { Clock } from '../core/clock.js';
import { LambdaError, lambdaErrors } from '../core/errors.js';
import {
  checkUrlInput,
  checkUrlQualifier,
  urlIdFromUuid,
  type FunctionUrlConfig,
  type FunctionUrlInput,
  type UrlAuthType,
  type UrlInvokeMode,
} from '../core/function-url.js';
import { parseFunctionName, type FunctionRef } from '../core/function-name.js';
import type { IdSource } from '../core/ids.js';
import { constraint, validationMessage } from '../core/validation-message.js';
import type { FunctionRepository } from './function-repository.js';
import type { FunctionUrlRepository } from './function-url-repository.js';
import type { AliasRepository } from './version-repository.js';
import { decodeMarker, encodeMarker } from './list-marker.js';

export interface FunctionUrlServiceDeps {
  readonly scope: Scope;
  readonly functions: FunctionRepository;
  readonly aliases: AliasRepository;
  readonly urls: FunctionUrlRepository;
  readonly clock: Clock;
  readonly ids: IdSource;
}

/** Most URL configurations a ListFunctionUrlConfigs page holds. */
const LIST_MAX_ITEMS = 50;

export class FunctionUrlService {
  readonly #d: FunctionUrlServiceDeps;

  constructor(deps: FunctionUrlServiceDeps) {
    this.#d = deps;
  }

  async create(
    functionName: string,
    qualifier: string | undefined,
    input: FunctionUrlInput,
  ): Promise<FunctionUrlConfig> {
    const ref = this.#ref(functionName, qualifier);
    checkUrlInput(input, true);
    if (!(await this.#exists(ref))) throw functionMissing();
    const now = this.#d.clock.now();
    const config: FunctionUrlConfig = {
      functionName: ref.name,
      qualifier: ref.qualifier,
      urlId: urlIdFromUuid(this.#d.ids.uuid()),
      authType: input.authType as UrlAuthType,
      invokeMode: input.invokeMode as UrlInvokeMode | undefined,
      cors: input.cors,
      creationMs: now,
      lastModifiedMs: now,
    };
    if (!(await this.#d.urls.insert(config))) {
      throw lambdaErrors.conflict(
        `Failed to create function url config for [functionArn = ${this.arn(config)}]. ` +
          'Error message:  FunctionUrlConfig exists for this Lambda function',
      );
    }
    return config;
  }

  async update(
    functionName: string,
    qualifier: string | undefined,
    input: FunctionUrlInput,
  ): Promise<FunctionUrlConfig> {
    const ref = this.#ref(functionName, qualifier);
    checkUrlInput(input, false);
    if (!(await this.#exists(ref))) throw functionMissing();
    const current = await this.#d.urls.get(ref.name, ref.qualifier);
    if (current === undefined) throw notFound();
    const config: FunctionUrlConfig = {
      ...current,
      authType: (input.authType as UrlAuthType | undefined) ?? current.authType,
      invokeMode: (input.invokeMode as UrlInvokeMode | undefined) ?? current.invokeMode,
      cors: input.cors ?? current.cors,
      lastModifiedMs: this.#d.clock.now(),
    };
    await this.#d.urls.update(config);
    return config;
  }

  async get(functionName: string, qualifier: string | undefined): Promise<FunctionUrlConfig> {
    const ref = this.#ref(functionName, qualifier);
    const config = await this.#d.urls.get(ref.name, ref.qualifier);
    if (config === undefined) throw notFound();
    return config;
  }

  async delete(functionName: string, qualifier: string | undefined): Promise<void> {
    const ref = this.#ref(functionName, qualifier);
    if (!(await this.#d.urls.delete(ref.name, ref.qualifier))) throw notFound();
  }

  /** Removes an alias's URL when the alias is deleted (no error when there is none). */
  async forget(functionName: string, qualifier: string): Promise<void> {
    await this.#d.urls.delete(functionName, qualifier);
  }

  async list(
    functionName: string,
    marker: string | undefined,
    maxItems: number | undefined,
  ): Promise<{ configs: FunctionUrlConfig[]; nextMarker: string | undefined }> {
    if (
      maxItems !== undefined &&
      (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > LIST_MAX_ITEMS)
    ) {
      throw lambdaErrors.validation(
        validationMessage([
          {
            field: 'maxItems',
            value: maxItems,
            constraint: maxItems < 1 ? constraint.min(1) : constraint.max(LIST_MAX_ITEMS),
          },
        ]),
      );
    }
    const ref = parseFunctionName(functionName, undefined, this.#d.scope);
    if ((await this.#d.functions.get(ref.name)) === undefined) throw functionMissing();
    const limit = maxItems ?? LIST_MAX_ITEMS;
    const after = marker === undefined ? undefined : decodeMarker(marker);
    const rows = await this.#d.urls.list(ref.name, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      configs: page,
      nextMarker:
        rows.length > limit && last !== undefined ? encodeMarker(last.qualifier ?? '') : undefined,
    };
  }

  /** The configuration a URL request addresses, or undefined (the URL does not exist). */
  async byUrlId(urlId: string): Promise<FunctionUrlConfig | undefined> {
    return this.#d.urls.byUrlId(urlId);
  }

  /** `FunctionArn` of a configuration (with the alias when it has one). */
  arn(config: FunctionUrlConfig): string {
    return functionArn(this.#d.scope, config.functionName, config.qualifier);
  }

  /** The function and alias a request names; the URL operations accept aliases only. */
  #ref(functionName: string, qualifier: string | undefined): FunctionRef {
    checkUrlQualifier(qualifier);
    const ref = parseFunctionName(functionName, qualifier, this.#d.scope);
    checkUrlQualifier(ref.qualifier);
    return ref;
  }

  async #exists(ref: FunctionRef): Promise<boolean> {
    if ((await this.#d.functions.get(ref.name)) === undefined) return false;
    return (
      ref.qualifier === undefined ||
      (await this.#d.aliases.get(ref.name, ref.qualifier)) !== undefined
    );
  }
}

function functionMissing(): LambdaError {
  return new LambdaError('ResourceNotFoundException', 'Function does not exist');
}

function notFound(): LambdaError {
  return new LambdaError('ResourceNotFoundException', 'The resource you requested does not exist.');
}
