/**
 * Event source mappings: what a mapping is (its source, settings and state) and the pure rules
 * for making and changing one, with Lambda's limits, defaults and messages. Sources are RabbitMQ
 * (presented as Amazon MQ for RabbitMQ: an `arn:aws:mq:…:broker:…` EventSourceArn and `Queues`)
 * and ordered streams reached through `SelfManagedEventSource.Endpoints`: NATS JetStream
 * (`NATS_SERVERS`) and Redis Streams (`REDIS_URLS`), modelled on self-managed Kafka.
 */
import { lambdaErrors, LambdaError } from './errors.js';
import { constraint, validationMessage } from './validation-message.js';

/** Where a mapping reads from. */
export type MappingSource =
  | {
      readonly kind: 'rabbitmq';
      readonly brokerArn: string;
      readonly queue: string;
      /** The VIRTUAL_HOST source access configuration; the broker's own when absent. */
      readonly virtualHost: string | undefined;
    }
  | {
      readonly kind: 'nats' | 'redis';
      /** NATS_SERVERS or REDIS_URLS, as given. */
      readonly endpoints: readonly string[];
      readonly stream: string;
    };

export type MappingState =
  'Creating' | 'Enabling' | 'Enabled' | 'Disabling' | 'Disabled' | 'Updating' | 'Deleting';

export type StartingPosition = 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';
export const STARTING_POSITIONS: readonly StartingPosition[] = [
  'LATEST',
  'AT_TIMESTAMP',
  'TRIM_HORIZON',
];

/** The settings a user chooses (unset ones keep Lambda's defaults, see `effective`). */
export interface MappingSettings {
  readonly batchSize: number;
  /** Undefined: Lambda's default for the source (500 ms for queues and self-managed streams). */
  readonly maximumBatchingWindowInSeconds: number | undefined;
  /** Each a JSON pattern string (FilterCriteria.Filters[].Pattern). */
  readonly filterPatterns: readonly string[] | undefined;
  readonly reportBatchItemFailures: boolean;
  /** -1: until the record expires (streams) or for ever (queues: see the guide). */
  readonly maximumRetryAttempts: number | undefined;
  /** -1: no limit. */
  readonly maximumRecordAgeInSeconds: number | undefined;
  readonly bisectBatchOnFunctionError: boolean | undefined;
  readonly startingPosition: StartingPosition | undefined;
  /** Epoch seconds (AT_TIMESTAMP). */
  readonly startingPositionTimestamp: number | undefined;
  readonly parallelizationFactor: number | undefined;
  readonly maximumConcurrency: number | undefined;
  /** A function ARN records that could not be processed are sent to. */
  readonly onFailure: string | undefined;
  /** SourceAccessConfigurations as given (echoed back). */
  readonly sourceAccess: readonly { readonly type: string; readonly uri: string }[] | undefined;
}

export interface EventSourceMapping {
  readonly uuid: string;
  readonly functionName: string;
  /** The alias or version the mapping invokes, if the function was named qualified. */
  readonly qualifier: string | undefined;
  readonly source: MappingSource;
  readonly settings: MappingSettings;
  /** Whether the user wants it running (Enabled); `state` is where it is on the way. */
  readonly enabled: boolean;
  readonly state: MappingState;
  readonly stateTransitionReason: string;
  readonly lastProcessingResult: string;
  readonly lastModifiedMs: number;
}

/** The request fields of Create/UpdateEventSourceMapping, in model casing; undefined = not given. */
export interface MappingInput {
  readonly batchSize?: number | undefined;
  readonly maximumBatchingWindowInSeconds?: number | undefined;
  /** An empty list clears the filters. */
  readonly filterPatterns?: readonly string[] | undefined;
  readonly functionResponseTypes?: readonly string[] | undefined;
  readonly maximumRetryAttempts?: number | undefined;
  readonly maximumRecordAgeInSeconds?: number | undefined;
  readonly bisectBatchOnFunctionError?: boolean | undefined;
  readonly startingPosition?: string | undefined;
  readonly startingPositionTimestamp?: number | undefined;
  readonly parallelizationFactor?: number | undefined;
  readonly maximumConcurrency?: number | undefined;
  /** An empty string clears it. */
  readonly onFailure?: string | undefined;
  /** Present: an OnSuccess destination was given (Lambda refuses it for these sources). */
  readonly onSuccess?: string | undefined;
  readonly sourceAccess?: readonly { readonly type: string; readonly uri: string }[] | undefined;
}

export const MAPPING_LIMITS = {
  batchSize: { min: 1, max: 10_000, default: 100 },
  batchingWindowSeconds: { max: 300 },
  /** Lambda's default batching window for queues and self-managed streams. */
  defaultBatchingWindowMs: 500,
  retryAttempts: { min: -1, max: 10_000 },
  recordAgeSeconds: { min: 60, max: 604_800 },
  parallelizationFactor: { min: 1, max: 10 },
  maximumConcurrency: { min: 2, max: 1000 },
  filters: 5,
  patternChars: 4096,
  /** Queues or streams one mapping reads. */
  sources: 1,
} as const;

export const USER_INITIATED = 'USER_INITIATED';
export const NO_RECORDS = 'No records processed';

const isStream = (source: MappingSource) => source.kind !== 'rabbitmq';

/**
 * The settings of a new mapping (`existing` undefined) or of one being updated, from the request:
 * every limit checked, fields not given kept (or defaulted). Throws Lambda's errors.
 */
export function mappingSettings(
  source: MappingSource,
  input: MappingInput,
  existing?: MappingSettings,
): MappingSettings {
  if (input.onSuccess !== undefined)
    throw lambdaErrors.invalidParameter(
      'Unsupported DestinationConfig parameter for given event source mapping type.',
    );
  const stream = isStream(source);
  const batchSize = inRange(
    'batchSize',
    input.batchSize,
    MAPPING_LIMITS.batchSize.min,
    MAPPING_LIMITS.batchSize.max,
  );
  const window = inRange(
    'maximumBatchingWindowInSeconds',
    input.maximumBatchingWindowInSeconds,
    0,
    MAPPING_LIMITS.batchingWindowSeconds.max,
  );
  const retries = inRange(
    'maximumRetryAttempts',
    input.maximumRetryAttempts,
    MAPPING_LIMITS.retryAttempts.min,
    MAPPING_LIMITS.retryAttempts.max,
  );
  const age = input.maximumRecordAgeInSeconds;
  if (age !== undefined && age !== -1)
    inRange(
      'maximumRecordAgeInSeconds',
      age,
      MAPPING_LIMITS.recordAgeSeconds.min,
      MAPPING_LIMITS.recordAgeSeconds.max,
    );
  const parallel = inRange(
    'parallelizationFactor',
    input.parallelizationFactor,
    MAPPING_LIMITS.parallelizationFactor.min,
    MAPPING_LIMITS.parallelizationFactor.max,
  );
  const concurrency = inRange(
    'scalingConfig.maximumConcurrency',
    input.maximumConcurrency,
    MAPPING_LIMITS.maximumConcurrency.min,
    MAPPING_LIMITS.maximumConcurrency.max,
  );
  const responseTypes = input.functionResponseTypes;
  for (const type of responseTypes ?? [])
    if (type !== 'ReportBatchItemFailures')
      throw lambdaErrors.validation(
        validationMessage([
          {
            field: 'functionResponseTypes',
            value: responseTypes,
            constraint: 'Member must satisfy enum value set: [ReportBatchItemFailures]',
          },
        ]),
      );
  const patterns = input.filterPatterns;
  if (patterns !== undefined) {
    if (patterns.length > MAPPING_LIMITS.filters)
      throw lambdaErrors.invalidParameter(
        `The number of filters must not exceed ${MAPPING_LIMITS.filters}.`,
      );
    for (const pattern of patterns)
      if (pattern.length > MAPPING_LIMITS.patternChars)
        throw lambdaErrors.validation(
          validationMessage([
            {
              field: 'filterCriteria.filters.member.pattern',
              value: pattern,
              constraint: constraint.maxLength(MAPPING_LIMITS.patternChars),
            },
          ]),
        );
  }
  const position = startingPositionOf(source, input, existing);
  const onFailure = input.onFailure;
  if (onFailure !== undefined && onFailure !== '' && !FUNCTION_ARN.test(onFailure))
    throw lambdaErrors.invalidParameter(
      'The provided destination config DestinationConfig.OnFailure.Destination is invalid: ' +
        'Lamina sends failed records to a function (arn:aws:lambda:REGION:ACCOUNT:function:NAME).',
    );
  const base = existing;
  return {
    batchSize: batchSize ?? base?.batchSize ?? MAPPING_LIMITS.batchSize.default,
    maximumBatchingWindowInSeconds: window ?? base?.maximumBatchingWindowInSeconds,
    filterPatterns:
      patterns === undefined ? base?.filterPatterns : patterns.length === 0 ? undefined : patterns,
    reportBatchItemFailures:
      responseTypes === undefined
        ? (base?.reportBatchItemFailures ?? false)
        : responseTypes.includes('ReportBatchItemFailures'),
    maximumRetryAttempts: retries ?? base?.maximumRetryAttempts ?? (stream ? -1 : undefined),
    maximumRecordAgeInSeconds: age ?? base?.maximumRecordAgeInSeconds ?? (stream ? -1 : undefined),
    bisectBatchOnFunctionError:
      input.bisectBatchOnFunctionError ??
      base?.bisectBatchOnFunctionError ??
      (stream ? false : undefined),
    startingPosition: position.startingPosition,
    startingPositionTimestamp: position.startingPositionTimestamp,
    parallelizationFactor: parallel ?? base?.parallelizationFactor ?? (stream ? 1 : undefined),
    maximumConcurrency: concurrency ?? base?.maximumConcurrency,
    onFailure: onFailure === undefined ? base?.onFailure : onFailure === '' ? undefined : onFailure,
    sourceAccess: input.sourceAccess ?? base?.sourceAccess,
  };
}

const FUNCTION_ARN =
  /^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9-_]+(:[\w$-]+)?$/;

function startingPositionOf(
  source: MappingSource,
  input: MappingInput,
  existing: MappingSettings | undefined,
): Pick<MappingSettings, 'startingPosition' | 'startingPositionTimestamp'> {
  if (existing !== undefined) {
    // A mapping's starting position is fixed when it is made, as on Lambda.
    if (input.startingPosition !== undefined || input.startingPositionTimestamp !== undefined)
      throw lambdaErrors.invalidParameter(
        'StartingPosition and StartingPositionTimestamp cannot be updated.',
      );
    return existing;
  }
  const given = input.startingPosition;
  if (given !== undefined && !(STARTING_POSITIONS as readonly string[]).includes(given))
    throw lambdaErrors.validation(
      validationMessage([
        {
          field: 'startingPosition',
          value: given,
          constraint: constraint.enumeration(STARTING_POSITIONS),
        },
      ]),
    );
  if (!isStream(source)) {
    if (given !== undefined)
      throw lambdaErrors.invalidParameter(
        `Unsupported starting position for arn type: ${source.kind === 'rabbitmq' ? source.brokerArn : ''}`,
      );
    return { startingPosition: undefined, startingPositionTimestamp: undefined };
  }
  if (given === undefined)
    throw lambdaErrors.invalidParameter(
      // Lambda's recorded text ends this one with a full stop.
      `${validationMessage([
        { field: 'startingPosition', value: null, constraint: constraint.notNull() },
      ])}.`,
    );
  const timestamp = input.startingPositionTimestamp;
  if (given === 'AT_TIMESTAMP' && timestamp === undefined)
    throw lambdaErrors.invalidParameter(
      'StartingPositionTimestamp must be set when StartingPosition is AT_TIMESTAMP.',
    );
  if (given !== 'AT_TIMESTAMP' && timestamp !== undefined)
    throw lambdaErrors.invalidParameter(
      'StartingPositionTimestamp can only be set when StartingPosition is AT_TIMESTAMP.',
    );
  return { startingPosition: given as StartingPosition, startingPositionTimestamp: timestamp };
}

function inRange(
  field: string,
  value: number | undefined,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max)
    throw lambdaErrors.validation(
      validationMessage([
        {
          field,
          value,
          constraint: value < min ? constraint.min(min) : constraint.max(max),
        },
      ]),
    );
  return value;
}

/** The batching window in effect, in ms. */
export function batchingWindowMs(settings: MappingSettings): number {
  return settings.maximumBatchingWindowInSeconds === undefined
    ? MAPPING_LIMITS.defaultBatchingWindowMs
    : settings.maximumBatchingWindowInSeconds * 1000;
}

/** Two mappings of one function may not read the same queue or stream: Lambda's conflict. */
export function duplicateMappingError(
  source: MappingSource,
  functionArn: string,
  uuid: string,
): LambdaError {
  const what =
    source.kind === 'rabbitmq'
      ? `event source ("${source.brokerArn}"), function ("${functionArn}"), queues ("${source.queue}")`
      : `event source ("${source.endpoints.join(',')}"), function ("${functionArn}"), topics ("${source.stream}")`;
  return new LambdaError(
    'ResourceConflictException',
    `An event source mapping with ${what} already exists. Please update or delete the existing mapping with UUID ${uuid}`,
  );
}

/** Whether two sources are the same queue or stream. */
export function sameSource(a: MappingSource, b: MappingSource): boolean {
  if (a.kind === 'rabbitmq' || b.kind === 'rabbitmq')
    return (
      a.kind === 'rabbitmq' &&
      b.kind === 'rabbitmq' &&
      a.brokerArn === b.brokerArn &&
      a.queue === b.queue &&
      (a.virtualHost ?? '') === (b.virtualHost ?? '')
    );
  return (
    a.kind === b.kind &&
    a.stream === b.stream &&
    [...a.endpoints].sort().join(',') === [...b.endpoints].sort().join(',')
  );
}

/**
 * Where a mapping goes next when the user asks: `enabled` its new wish, `changed` whether other
 * settings changed. Moves out of a transitional state are the supervisor's (`settled`).
 */
export function requestedState(
  current: MappingState,
  enabled: boolean,
  wasEnabled: boolean,
): MappingState {
  if (current === 'Deleting' || current === 'Creating')
    throw new LambdaError(
      'ResourceInUseException',
      'Cannot update the event source mapping because it is in use.',
    );
  if (enabled && !wasEnabled) return 'Enabling';
  if (!enabled && wasEnabled) return 'Disabling';
  return 'Updating';
}

/** The state a transitional one settles in once the supervisor has acted. */
export function settledState(state: MappingState, enabled: boolean): MappingState {
  switch (state) {
    case 'Creating':
    case 'Updating':
    case 'Enabling':
    case 'Disabling':
      return enabled ? 'Enabled' : 'Disabled';
    case 'Enabled':
    case 'Disabled':
    case 'Deleting':
      return state;
  }
}
