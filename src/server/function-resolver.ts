/** Resolves an Invoke's function to the version that runs and its prepared code folder. */
import { pickAliasVersion } from '../core/alias-routing.js';
import { lambdaErrors } from '../core/errors.js';
import type { CodeStore } from '../functions/code-store.js';
import type { FunctionService } from '../functions/function-service.js';
import type { FunctionResolver, ResolvedFunction } from '../invoke/ports.js';

export class ServiceFunctionResolver implements FunctionResolver {
  readonly #functions: FunctionService;
  readonly #code: CodeStore;

  constructor(functions: FunctionService, code: CodeStore) {
    this.#functions = functions;
    this.#code = code;
  }

  async resolve(functionName: string, qualifier: string | undefined): Promise<ResolvedFunction> {
    const found = await this.#functions.get(functionName, qualifier);
    const { record, ref, alias } = found;
    // A weighted alias picks the version for this invocation.
    const routed = alias === undefined ? undefined : pickAliasVersion(alias, Math.random());
    const version =
      routed === undefined || routed === found.version.version
        ? found.version
        : ((await this.#functions.versionOf(record, routed)) ?? found.version);
    const state = version.status.state;
    // While an update is in progress, invokes keep running the code prepared before it.
    const code = version.readyCode;
    if (state !== 'Active' || code === undefined) {
      throw lambdaErrors.conflict(
        `The operation cannot be performed at this time. The function is currently in the following state: ${state}`,
      );
    }
    return { record, version, ref, codeDir: await this.#code.prepare(code) };
  }
}
