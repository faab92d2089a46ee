/** What the asynchronous queue knows about functions, answered by the control-plane services. */
import { settingsOf, type AsyncSettings } from '../async/retry-policy.js';
import type { AsyncTargets } from '../async/ports.js';
import { invocableCode } from '../core/function-lifecycle.js';
import { LATEST } from '../core/function-model.js';
import type { ConcurrencyService } from '../functions/concurrency-service.js';
import type { EventInvokeConfigRepository } from '../functions/event-invoke-config-repository.js';
import type { CachedFunctionLookup } from '../functions/cached-function-lookup.js';

export class ServiceAsyncTargets implements AsyncTargets {
  readonly #functions: CachedFunctionLookup;
  readonly #configs: EventInvokeConfigRepository;
  readonly #concurrency: ConcurrencyService;

  constructor(
    functions: CachedFunctionLookup,
    configs: EventInvokeConfigRepository,
    concurrency: ConcurrencyService,
  ) {
    this.#functions = functions;
    this.#configs = configs;
    this.#concurrency = concurrency;
  }

  /** The function must exist and be invocable now, as for a synchronous invoke (else 404/409). */
  async resolve(
    functionName: string,
    qualifier: string | undefined,
  ): Promise<{ name: string; qualifier: string | undefined }> {
    const { record, version, ref } = (await this.#functions.get(functionName, qualifier)).found;
    invocableCode(version);
    return { name: record.name, qualifier: ref.qualifier };
  }

  async settings(name: string, qualifier: string | undefined): Promise<AsyncSettings> {
    return settingsOf(await this.#configs.get(name, qualifier ?? LATEST));
  }

  reservedConcurrency(name: string): number | undefined {
    return this.#concurrency.reservationOf(name);
  }
}
