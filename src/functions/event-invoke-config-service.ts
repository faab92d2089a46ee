/**
 * Put/Update/Get/Delete/ListFunctionEventInvokeConfig(s) with Lambda's validation and messages:
 * ranges first, then "at least one setting", the function and qualifier, then the destinations
 * (a Lamina function ARN; other services' ARNs are refused with a clear error).
 */
import { functionArn, type Scope } from '../core/arn.js';
import type { Clock } from '../core/clock.js';
import { LambdaError, lambdaErrors } from '../core/errors.js';
import {
  ASYNC_LIMITS,
  DESTINATION_PATTERN,
  destinationService,
  isDestinationArn,
  type EventInvokeConfig,
} from '../core/event-invoke-config.js';
import { LATEST } from '../core/function-model.js';
import { parseFunctionName, type FunctionRef } from '../core/function-name.js';
import { LIMITS } from '../core/limits.js';
import { constraint, validationMessage, type Violation } from '../core/validation-message.js';
import type { EventInvokeConfigRepository } from './event-invoke-config-repository.js';
import type { FunctionRepository } from './function-repository.js';
import type { AliasRepository, VersionRepository } from './version-repository.js';
import { decodeMarker, encodeMarker } from './list-marker.js';

/** The fields of a Put or Update request; absent fields are undefined. */
export interface EventInvokeConfigInput {
  readonly maximumRetryAttempts?: number | undefined;
  readonly maximumEventAgeSeconds?: number | undefined;
  /** Undefined: `DestinationConfig` not sent; otherwise its (possibly empty) destinations. */
  readonly destinations?:
    { readonly onSuccess: string | undefined; readonly onFailure: string | undefined } | undefined;
}

export interface EventInvokeConfigServiceDeps {
  readonly scope: Scope;
  readonly functions: FunctionRepository;
  readonly versions: VersionRepository;
  readonly aliases: AliasRepository;
  readonly configs: EventInvokeConfigRepository;
  readonly clock: Clock;
}

const SERVICE_NAMES: Readonly<Record<string, string>> = {
  sqs: 'an Amazon SQS queue',
  sns: 'an Amazon SNS topic',
  events: 'an Amazon EventBridge event bus',
  s3: 'an Amazon S3 bucket',
  kafka: 'a Kafka topic',
};

export class EventInvokeConfigService {
  readonly #d: EventInvokeConfigServiceDeps;

  constructor(deps: EventInvokeConfigServiceDeps) {
    this.#d = deps;
  }

  /** PutFunctionEventInvokeConfig: replaces every field. */
  async put(
    functionName: string,
    qualifier: string | undefined,
    input: EventInvokeConfigInput,
  ): Promise<EventInvokeConfig> {
    checkInput(input);
    const ref = await this.#existing(functionName, qualifier);
    await this.#checkDestinations(ref.name, input);
    const config: EventInvokeConfig = {
      functionName: ref.name,
      qualifier: ref.qualifier ?? LATEST,
      maximumRetryAttempts: input.maximumRetryAttempts,
      maximumEventAgeSeconds: input.maximumEventAgeSeconds,
      onSuccess: input.destinations?.onSuccess,
      onFailure: input.destinations?.onFailure,
      lastModifiedMs: this.#d.clock.now(),
    };
    await this.#d.configs.put(config);
    return config;
  }

  /** UpdateFunctionEventInvokeConfig: changes the fields sent, keeps the others. */
  async update(
    functionName: string,
    qualifier: string | undefined,
    input: EventInvokeConfigInput,
  ): Promise<EventInvokeConfig> {
    checkInput(input);
    const ref = await this.#existing(functionName, qualifier);
    const current = await this.#d.configs.get(ref.name, ref.qualifier ?? LATEST);
    if (current === undefined) throw this.#noConfig(ref);
    await this.#checkDestinations(ref.name, input);
    const config: EventInvokeConfig = {
      ...current,
      maximumRetryAttempts: input.maximumRetryAttempts ?? current.maximumRetryAttempts,
      maximumEventAgeSeconds: input.maximumEventAgeSeconds ?? current.maximumEventAgeSeconds,
      onSuccess:
        input.destinations === undefined ? current.onSuccess : input.destinations.onSuccess,
      onFailure:
        input.destinations === undefined ? current.onFailure : input.destinations.onFailure,
      lastModifiedMs: this.#d.clock.now(),
    };
    await this.#d.configs.put(config);
    return config;
  }

  async get(functionName: string, qualifier: string | undefined): Promise<EventInvokeConfig> {
    const ref = parseFunctionName(functionName, qualifier, this.#d.scope);
    const config = await this.#d.configs.get(ref.name, ref.qualifier ?? LATEST);
    if (config === undefined) throw this.#noConfig(ref);
    return config;
  }

  async delete(functionName: string, qualifier: string | undefined): Promise<void> {
    const ref = parseFunctionName(functionName, qualifier, this.#d.scope);
    if (!(await this.#d.configs.delete(ref.name, ref.qualifier ?? LATEST)))
      throw this.#noConfig(ref);
  }

  /** ListFunctionEventInvokeConfigs, in qualifier order (≤ 50 a page). */
  async list(
    functionName: string,
    marker: string | undefined,
    maxItems: number | undefined,
  ): Promise<{ configs: EventInvokeConfig[]; nextMarker: string | undefined }> {
    if (maxItems !== undefined && (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 50)) {
      throw lambdaErrors.validation(
        validationMessage([
          {
            field: 'maxItems',
            value: maxItems,
            constraint: maxItems < 1 ? constraint.min(1) : constraint.max(50),
          },
        ]),
      );
    }
    const ref = parseFunctionName(functionName, undefined, this.#d.scope);
    if ((await this.#d.functions.get(ref.name)) === undefined) throw functionMissing();
    const limit = Math.min(maxItems ?? LIMITS.listMaxItems, LIMITS.listMaxItems);
    const after = marker === undefined ? undefined : decodeMarker(marker);
    const rows = await this.#d.configs.list(ref.name, after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      configs: page,
      nextMarker:
        rows.length > limit && last !== undefined ? encodeMarker(last.qualifier) : undefined,
    };
  }

  /** The function and qualifier a Put or Update names, which must exist. */
  async #existing(functionName: string, qualifier: string | undefined): Promise<FunctionRef> {
    const ref = parseFunctionName(functionName, qualifier, this.#d.scope);
    if (!(await this.#exists(ref))) throw functionMissing();
    return ref;
  }

  async #exists(ref: FunctionRef): Promise<boolean> {
    if ((await this.#d.functions.get(ref.name)) === undefined) return false;
    const q = ref.qualifier;
    if (q === undefined || q === LATEST) return true;
    if (/^\d+$/.test(q)) return (await this.#d.versions.get(ref.name, q)) !== undefined;
    return (await this.#d.aliases.get(ref.name, q)) !== undefined;
  }

  async #checkDestinations(name: string, input: EventInvokeConfigInput): Promise<void> {
    const { onSuccess, onFailure } = input.destinations ?? {};
    let invalid = false;
    for (const destination of [onFailure, onSuccess]) {
      if (destination === undefined) continue;
      const service = destinationService(destination);
      if (service === 'lambda') {
        await this.#checkFunctionDestination(name, destination);
      } else if (SERVICE_NAMES[service] !== undefined) {
        throw lambdaErrors.invalidParameter(
          `The destination ${destination} is ${SERVICE_NAMES[service]}; Lamina delivers ` +
            'asynchronous invocation records only to Lambda functions. Use a function ARN ' +
            `(${functionArn(this.#d.scope, '<name>')}) as the destination.`,
        );
      } else {
        invalid = true;
      }
    }
    if (invalid) {
      const part = (kind: string, arn: string | undefined) =>
        arn === undefined ? 'null' : `${kind}(destination=${arn})`;
      throw lambdaErrors.invalidParameter(
        `The provided destination config DestinationConfig(onSuccess=${part('OnSuccess', onSuccess)}, onFailure=${part('OnFailure', onFailure)}) is invalid.`,
      );
    }
  }

  async #checkFunctionDestination(name: string, destination: string): Promise<void> {
    const invalid = () =>
      lambdaErrors.invalidParameter(`The destination ARN ${destination} is invalid.`);
    let target: FunctionRef;
    try {
      target = parseFunctionName(destination, undefined, this.#d.scope);
    } catch {
      throw invalid();
    }
    if (!(await this.#exists(target))) throw invalid();
    if (target.name === name) {
      throw lambdaErrors.invalidParameter(
        "You can't specify the function as a destination for itself.",
      );
    }
  }

  #noConfig(ref: FunctionRef): LambdaError {
    const arn = functionArn(this.#d.scope, ref.name, ref.qualifier ?? LATEST);
    return new LambdaError(
      'ResourceNotFoundException',
      `The function ${arn} doesn't have an EventInvokeConfig`,
    );
  }
}

/** Ranges and patterns (ValidationException), then "at least one setting". */
function checkInput(input: EventInvokeConfigInput): void {
  const violations: Violation[] = [];
  const range = (field: string, value: number | undefined, min: number, max: number) => {
    if (value === undefined) return;
    if (value < min) violations.push({ field, value, constraint: constraint.min(min) });
    if (value > max) violations.push({ field, value, constraint: constraint.max(max) });
  };
  const { maximumRetryAttempts: retries, maximumEventAgeSeconds: age } = ASYNC_LIMITS;
  range('maximumRetryAttempts', input.maximumRetryAttempts, retries.min, retries.max);
  range('maximumEventAgeInSeconds', input.maximumEventAgeSeconds, age.min, age.max);
  const pattern = (field: string, value: string | undefined) => {
    if (value !== undefined && !isDestinationArn(value))
      violations.push({ field, value, constraint: constraint.pattern(DESTINATION_PATTERN) });
  };
  pattern('destinationConfig.onSuccess.destination', input.destinations?.onSuccess);
  pattern('destinationConfig.onFailure.destination', input.destinations?.onFailure);
  if (violations.length > 0) throw lambdaErrors.validation(validationMessage(violations));
  if (
    input.maximumRetryAttempts === undefined &&
    input.maximumEventAgeSeconds === undefined &&
    input.destinations === undefined
  ) {
    throw lambdaErrors.invalidParameter(
      'You must specify at least one of error handling or destination setting.',
    );
  }
}

function functionMissing(): LambdaError {
  return new LambdaError('ResourceNotFoundException', "The function doesn't exist.");
}
