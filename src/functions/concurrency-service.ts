/**
 * Put/Get/DeleteFunctionConcurrency and the account's concurrency figures. Keeps every function's
 * reserved and provisioned concurrency in memory (loaded at start) so the invoke path never
 * queries for them. Concurrency set aside from the unreserved pool is a function's reservation,
 * or, without one, its total provisioned concurrency.
 */
import type { Scope } from '../core/arn.js';
import { functionArn } from '../core/arn.js';
import { lambdaErrors } from '../core/errors.js';
import { LATEST } from '../core/function-model.js';
import { parseFunctionName } from '../core/function-name.js';
import { constraint, validationMessage } from '../core/validation-message.js';
import type { FunctionRepository } from './function-repository.js';

/** Account-wide limits: total concurrent executions and the minimum left unreserved. */
export interface ConcurrencySettings {
  readonly accountLimit: number;
  readonly minimumUnreserved: number;
}

export class ConcurrencyService {
  readonly #scope: Scope;
  readonly #functions: FunctionRepository;
  readonly settings: ConcurrencySettings;
  readonly #reserved = new Map<string, number>();
  /** Total provisioned concurrency per function (all its versions and aliases). */
  readonly #provisioned = new Map<string, number>();

  constructor(scope: Scope, functions: FunctionRepository, settings: ConcurrencySettings) {
    this.#scope = scope;
    this.#functions = functions;
    this.settings = settings;
  }

  /** Loads every function's reserved concurrency (call once at start). */
  async load(): Promise<void> {
    this.#reserved.clear();
    for (
      let after: string | undefined, page = await this.#functions.list(undefined, 1000);
      page.length > 0;
      page = await this.#functions.list(after, 1000)
    ) {
      for (const record of page)
        if (record.reservedConcurrency !== undefined)
          this.#reserved.set(record.name, record.reservedConcurrency);
      after = page[page.length - 1]?.name;
    }
  }

  /** Concurrency set aside from the unreserved pool, by every function. */
  reservedTotal(): number {
    let total = 0;
    for (const value of this.#reserved.values()) total += value;
    for (const [name, value] of this.#provisioned) if (!this.#reserved.has(name)) total += value;
    return total;
  }

  /** What one function sets aside: its reservation, else its provisioned concurrency. */
  setAside(name: string): number {
    return this.#reserved.get(name) ?? this.#provisioned.get(name) ?? 0;
  }

  /** The function's reservation, if any. */
  reservationOf(name: string): number | undefined {
    return this.#reserved.get(name);
  }

  /** Provisioned concurrency of a function without a reservation (0 with one). */
  provisionedOf(name: string): number {
    return this.#reserved.has(name) ? 0 : (this.#provisioned.get(name) ?? 0);
  }

  /** Records a function's total provisioned concurrency. */
  setProvisioned(name: string, total: number): void {
    if (total === 0) this.#provisioned.delete(name);
    else this.#provisioned.set(name, total);
  }

  /** Concurrency left for functions without a reservation. */
  unreserved(): number {
    return this.settings.accountLimit - this.reservedTotal();
  }

  async put(functionName: string, value: number | undefined): Promise<number> {
    const name = this.#unqualified(functionName);
    if (value === undefined || value < 0) {
      throw lambdaErrors.validation(
        validationMessage([
          {
            field: 'reservedConcurrentExecutions',
            value: value ?? null,
            constraint: value === undefined ? constraint.notNull() : constraint.min(0),
          },
        ]),
      );
    }
    const provisioned = this.#provisioned.get(name) ?? 0;
    if (value < provisioned) {
      throw lambdaErrors.invalidParameter(
        ` ReservedConcurrentExecutions  ${value} should not be lower than function's total provisioned concurrency [${provisioned}].`,
      );
    }
    const others = this.reservedTotal() - this.setAside(name);
    if (this.settings.accountLimit - others - value < this.settings.minimumUnreserved) {
      throw lambdaErrors.invalidParameter(
        `Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [${this.settings.minimumUnreserved}].`,
      );
    }
    await this.#set(name, value);
    return value;
  }

  async get(functionName: string): Promise<number | undefined> {
    const name = this.#unqualified(functionName);
    const record = await this.#functions.get(name);
    if (record === undefined) throw lambdaErrors.functionNotFound(functionArn(this.#scope, name));
    return record.reservedConcurrency;
  }

  async delete(functionName: string): Promise<void> {
    await this.#set(this.#unqualified(functionName), undefined);
  }

  /** Forgets a deleted function. */
  forget(name: string): void {
    this.#reserved.delete(name);
    this.#provisioned.delete(name);
  }

  async #set(name: string, value: number | undefined): Promise<void> {
    const updated = await this.#functions.update(name, (current) => ({
      ...current,
      reservedConcurrency: value,
    }));
    if (updated === undefined)
      throw lambdaErrors.functionNotFound(functionArn(this.#scope, name, LATEST));
    if (value === undefined) this.#reserved.delete(name);
    else this.#reserved.set(name, value);
  }

  #unqualified(functionName: string): string {
    const ref = parseFunctionName(functionName, undefined, this.#scope);
    if (ref.qualifier !== undefined) {
      throw lambdaErrors.invalidParameter(
        'This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.',
      );
    }
    return ref.name;
  }
}
